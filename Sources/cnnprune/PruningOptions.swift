import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `--calibration` and `--seed`, shared by `sweep` and `sensitivity`.
struct CalibrationOptions: ParsableArguments {
    @Option(help: "Images that rank the units: train:N (a seeded subset of N training images), train (all 50,000) or test (the evaluation data itself, as the exercise does). Default: train:5000.")
    var calibration: String?

    @Option(parsing: .unconditional, help: "Seed of the calibration subset, of the random criterion and (sweep --finetune-epochs) of the fine-tuning shuffle.")
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

extension CalibrationImages {
    /// The calibration images of `data`'s data set: the training split is read (with a status
    /// line) when a calibration set first needs it, unless `train` is given.
    convenience init(data: DataOptions, test: ByteImages, seed: UInt64, threads: Int, status: StatusLine, train: ByteImages? = nil) {
        self.init(test: test, seed: seed, threads: threads, progress: status, train: train) {
            status.show("reading the \(data.dataset.displayName) training set")
            return try data.load(.train)
        }
    }
}

/// A phase message on stderr, shown only when stderr is a terminal and erased when done; the
/// terminal face of a study's ``StudyProgress`` (fine-tuning gets its own live line, notes go to
/// stderr always).
final class StatusLine: StudyProgress {
    private var line = ProgressLine()
    private var fineTune: FineTuneProgress?

    func show(_ text: String) { line.update(text + "…", force: true) }

    func clear() {
        line.clear()
        fineTune?.clear()
        fineTune = nil
    }

    func note(_ text: String) { printError(text) }

    func fineTuning(_ what: String, batch: BatchProgress, epochs: Int, fraction: Double) {
        let progress = fineTune ?? FineTuneProgress()
        fineTune = progress
        progress.update(what, batch: batch, epochs: epochs, fraction: fraction)
    }
}
