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
func parseCalibration(_ text: String) throws -> CalibrationSet { try usage { try CalibrationSet(parsing: text) } }

/// Parses `--k`, turning a bad value into a usage error that names the flag.
func parseCounts(_ text: String) throws -> [Int] {
    do { return try PruningCounts.parse(text) } catch let error as PruningError {
        guard case .invalidCounts(let text, let reason) = error else { throw ValidationError(error.description) }
        throw ValidationError("invalid --k '\(text)': \(reason); \(PruningError.countsSyntax)")
    }
}

/// Parses `--criterion a,b,…`, turning an unknown name into a usage error.
func parseCriteria(_ text: String, seed: UInt64) throws -> [any ImportanceCriterion] {
    try usage { try ImportanceCriteria.parseList(text, seed: seed) }
}

/// Checks `--layer` against the SimpleCNN's prunable layers, as a usage error.
func validateLayerName(_ name: String) throws {
    guard SimpleCNN.prunableLayers.contains(name) else {
        throw ValidationError(PruningError.unknownLayer(name, valid: SimpleCNN.prunableLayers).description)
    }
}

extension GroupPruneJob.Problem: FlagNamingError {
    /// The message with the flag that helps.
    var commandLineDescription: String {
        switch self {
        case .epochsNotRecorded(let model):
            "\(model) does not record how many epochs it was trained; give --scratch-epochs N (the original training epochs plus the fine-tuning ones)"
        }
    }
}

extension SweepSubject.FineTuningCountError: FlagNamingError {
    /// The message naming `--finetune-epochs`.
    var commandLineDescription: String {
        "with --finetune-epochs every K must leave at least one \(unitName): \(layer) has \(units), so K must be 0…\(units - 1), got \(count)"
    }
}

/// Prints a progress line: to stdout (flushed), or to stderr (e.g. under `--json`).
func sayProgress(_ line: String, toStdout: Bool) {
    if toStdout { print(line); fflush(nil) } else { printError(line) }
}

extension PruningTarget {
    /// The `prune` flag that asks for this target.
    var flag: String {
        switch self {
        case .count: "--k"
        case .uniformRatio: "--ratio"
        case .globalRatio: "--global-ratio"
        case .multiplyAccumulates: "--target-macs"
        case .parameters: "--target-params"
        }
    }
}

extension PruningTargetError: FlagNamingError {
    /// The message in `prune`'s flags (`--iterative`, `--max-layer-ratio`, `--prune-residual`, the target's flag).
    var commandLineDescription: String {
        switch self {
        case .calibrationNeeded: description
        case .tooManySteps(let steps, let count, let group):
            "--iterative \(steps) would leave steps that remove nothing from \(group): K is \(count); give 1…\(count)"
        case .fractionOutOfRange(let target): "\(target.flag) must be strictly between 0 and 1, got \(target.fraction ?? 0)"
        case .budgetUnreachable(let target, let ratio, let reached):
            "cannot reach \(target.fraction ?? 0) of the original \(target.measureName ?? ""): every prunable group is down to \(Int(((1 - ratio) * 100).rounded())) % of its channels (--max-layer-ratio \(ratio)) at \(Self.percent(reached))"
        case .uniformBudgetUnreachable(let target, let ratio, let percent, let reached):
            "cannot reach \(target.fraction ?? 0) of the original \(target.measureName ?? "") with the same fraction of every group: removing \(percent) % of each (--max-layer-ratio \(ratio)) leaves \(Self.percent(reached))"
        case .noPrunableGroup(let allowResidual):
            "the network has no prunable channel group\(allowResidual ? "" : " (groups coupled through residual sums need --prune-residual)")"
        }
    }
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
