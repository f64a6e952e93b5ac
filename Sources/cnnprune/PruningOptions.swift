import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// `--calibration` and `--seed`, shared by `sweep` and `sensitivity`.
struct CalibrationOptions: ParsableArguments {
    @Option(help: "Images that rank the units: train:N (a seeded subset of N training images), train (all 50,000) or test (the evaluation data itself, as the exercise does). Default: train:5000.")
    var calibration: String?

    @Option(help: "Seed of the calibration subset, of the random criterion and (sweep --finetune-epochs) of the fine-tuning shuffle.")
    var seed: UInt64 = 0

    func validate() throws {
        if let calibration { _ = try parseCalibration(calibration) }
    }

    /// The set asked for, or the default `train:5000`.
    var set: CalibrationSet {
        calibration.flatMap { try? CalibrationSet(parsing: $0) } ?? .default
    }
}

/// Parses `--calibration`, turning a bad value into a usage error.
func parseCalibration(_ text: String) throws -> CalibrationSet {
    do { return try CalibrationSet(parsing: text) } catch let error as PruningError { throw ValidationError(error.description) }
}

/// Parses `--k`, turning a bad value into a usage error.
func parseCounts(_ text: String) throws -> [Int] {
    do { return try PruningCounts.parse(text) } catch let error as PruningError { throw ValidationError(error.description) }
}

/// Parses `--criterion a,b,…`, turning an unknown name into a usage error.
func parseCriteria(_ text: String, seed: UInt64) throws -> [any ImportanceCriterion] {
    do { return try ImportanceCriteria.parseList(text, seed: seed) } catch let error as PruningError { throw ValidationError(error.description) }
}

/// Checks `--criterion a,b,…` against the SimpleCNN's criteria, else the channel-group ones;
/// returns how many were named. An unknown name is a usage error listing both.
func parseAnyCriteria(_ text: String, seed: UInt64) throws -> Int {
    do { return try ImportanceCriteria.parseList(text, seed: seed).count } catch let layerError as PruningError {
        if let groups = try? GroupImportanceCriteria.parseList(text, seed: seed) { return groups.count }
        let extra = GroupImportanceCriteria.names.filter { !ImportanceCriteria.names.contains($0) }
        throw ValidationError(layerError.description + " (for channel groups of other networks also \(extra.joined(separator: ", ")))")
    }
}

/// Checks `--layer` against the SimpleCNN's prunable layers, as a usage error.
func validateLayerName(_ name: String) throws {
    guard SimpleCNN.prunableLayers.contains(name) else {
        throw ValidationError(PruningError.unknownLayer(name, valid: SimpleCNN.prunableLayers).description)
    }
}

/// Runs `body`, turning a `PruningError` into a one-line CLI error.
func pruningStep<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as PruningError { throw CLIError(error.description) }
}

/// The images behind calibration sets, loaded on first use, and the statistics passes over them.
final class CalibrationImages {
    let data: DataOptions
    let test: ByteImages
    let seed: UInt64
    let threads: Int
    let status: StatusLine
    private var train: ByteImages?

    init(data: DataOptions, test: ByteImages, seed: UInt64, threads: Int, status: StatusLine, train: ByteImages? = nil) {
        self.data = data
        self.test = test
        self.seed = seed
        self.threads = threads
        self.status = status
        self.train = train
    }

    /// The training split, read once.
    func trainingSet() throws -> ByteImages {
        if let train { return train }
        status.show("reading the \(data.dataset.displayName) training set")
        let loaded = try data.load(.train)
        train = loaded
        return loaded
    }

    /// The images of `set`.
    func images(_ set: CalibrationSet) throws -> any LabeledImages {
        switch set {
        case .test:
            return test
        case .training:
            return try trainingSet()
        case .trainingSubset(let n):
            let train = try trainingSet()
            if n > train.count {
                printError("note: calibration set train:\(n) is larger than the \(grouped(train.count)) training images; using all of them")
            }
            return Subset(train, randomCount: n, seed: seed)
        }
    }

    /// `layers`' statistics of `network` on `set`, with gradient products when asked.
    func statistics(of layers: [PrunableLayer], in network: Network, on set: CalibrationSet, gradients: Bool) throws -> [UnitStatistics] {
        let images = try images(set)
        status.show("ranking on \(set.label): \(gradients ? "forward and backward" : "forward") pass over \(grouped(images.count)) images")
        return Calibration.statistics(of: layers, in: network, on: images, gradients: gradients, threads: threads)
    }

    /// A provider for `LayerSweep` over one layer.
    func provider(for layer: PrunableLayer) -> LayerSweep.StatisticsProvider {
        { network, set, gradients in try self.statistics(of: [layer], in: network, on: set, gradients: gradients)[0] }
    }
}

/// A phase message on stderr, shown only when stderr is a terminal and erased when done.
final class StatusLine {
    private var line = ProgressLine()

    func show(_ text: String) { line.update(text + "…", force: true) }
    func clear() { line.clear() }
}

/// `5000` → `5,000`.
func grouped(_ n: Int) -> String {
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.groupingSeparator = ","
    formatter.usesGroupingSeparator = true
    return formatter.string(from: NSNumber(value: n)) ?? String(n)
}

/// Seconds since `start` (from `DispatchTime.now().uptimeNanoseconds`).
func seconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
