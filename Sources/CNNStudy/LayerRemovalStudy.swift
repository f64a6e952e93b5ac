import CNNEngine
import CNNPruning
import Foundation

/// A SimpleCNN layer's removal as `prune` runs it: the K least important units of one layer
/// removed (in `steps` equal steps, re-ranked between them, optionally fine-tuned after each),
/// then the original, pruned and fine-tuned models measured; and
/// the smaller model saved with its pruning history.
public struct LayerRemovalStudy: Sendable {
    /// The layer: `conv1`, `conv2` or `fc1`.
    public var layer: String
    /// Units to remove in total.
    public var count: Int
    /// Equal steps towards `count`, re-ranking on the current model before each.
    public var steps: Int
    /// The criterion that ranks the units.
    public var criterion: any ImportanceCriterion
    /// The calibration set's name as the outcome records it (`train:5000`).
    public var calibrationLabel: String
    /// Fine-tuning epochs after each step, as the history records them (0: none).
    public var finetuneEpochs: Int
    /// Threads.
    public var threads: Int
    /// Timed evaluation passes per model; the best counts.
    public var timingRuns: Int

    /// A removal to run.
    /// - Parameters:
    ///   - layer: The layer.
    ///   - count: Units to remove, `1 ≤ count < units`.
    ///   - steps: Equal steps, `1 ≤ steps ≤ count`.
    ///   - criterion: The ranking criterion.
    ///   - calibrationLabel: The calibration set's name (`train:5000`).
    ///   - finetuneEpochs: Fine-tuning epochs after each step (0: none).
    ///   - threads: Threads.
    ///   - timingRuns: Timed passes per model.
    public init(layer: String, count: Int, steps: Int = 1, criterion: any ImportanceCriterion, calibrationLabel: String,
                finetuneEpochs: Int = 0, threads: Int, timingRuns: Int = 5) {
        self.layer = layer
        self.count = count
        self.steps = steps
        self.criterion = criterion
        self.calibrationLabel = calibrationLabel
        self.finetuneEpochs = finetuneEpochs
        self.threads = threads
        self.timingRuns = timingRuns
    }

    /// How many units are gone after each of `steps` equal steps towards `count`:
    /// `⌊count·i/steps⌋` (Torch-Pruning's `iterative_steps` with its linear schedule).
    /// - Parameters:
    ///   - count: units to remove in total.
    ///   - steps: equal steps.
    public static func schedule(count: Int, steps: Int) -> [Int] {
        (1...max(1, steps)).map { count * $0 / max(1, steps) }
    }

    /// Checks a removal request against a layer of `units` units.
    /// - Parameters:
    ///   - count: units to remove in total.
    ///   - steps: equal steps towards `count`.
    ///   - units: the layer's units.
    ///   - layer: the layer's name (for the message).
    /// - Throws: `RemovalError.countOutOfRange` unless `1 ≤ count < units`,
    ///   `RemovalError.invalidSteps` unless `1 ≤ steps ≤ count`.
    public static func validate(count: Int, steps: Int, units: Int, layer: String) throws {
        guard count >= 1 && count < units else {
            throw RemovalError.countOutOfRange(count, layer: layer, units: units, unitName: layer.hasPrefix("fc") ? "neuron" : "channel")
        }
        guard steps >= 1 && steps <= count else { throw RemovalError.invalidSteps(steps, count: count) }
    }

    /// The result of ``run(network:model:calibration:test:fineTune:onRemoval:onStep:)``.
    public struct Result: Sendable {
        /// The pruned (and fine-tuned, if asked) network.
        public var network: Network
        /// Its widths.
        public var model: SimpleCNN
        /// Figures before and after.
        public var outcome: PruningOutcome
    }

    /// Removes, fine-tunes (with `fineTune`) and measures: in each of `steps` equal steps the
    /// layer's channel group (a group with one producer) is pruned by `GroupPruner`, ranked
    /// afresh on the current network with the producer's scores as they are
    /// (`GroupScoring.producer`); then the original, pruned and fine-tuned models are measured on
    /// `test`, timed in turn (`timingRuns` passes each).
    /// - Parameters:
    ///   - network: The trained network.
    ///   - model: Its widths.
    ///   - calibration: Images for data-driven criteria (nil for weight criteria).
    ///   - test: Images for the accuracies and the timing.
    ///   - fineTune: Trains step `step`'s (1-based) pruned network and returns it with the same
    ///     widths; nil for no fine-tuning.
    ///   - onRemoval: Called after each step's removal, before its fine-tuning (the record's
    ///     `fineTunedAccuracy` is still nil).
    ///   - onStep: Called at the end of each step, with the fine-tuned accuracy if any.
    /// - Throws: ``StudyError/pruning(_:)`` or ``StudyError/removal(_:)`` for a layer, count or
    ///   steps that cannot be removed; `fineTune`'s errors as they are.
    public func run(network: Network, model: SimpleCNN, calibration: (any LabeledImages)?, test: some LabeledImages,
                    fineTune: ((_ network: Network, _ model: SimpleCNN, _ step: Int) throws -> Network)? = nil,
                    onRemoval: (PruningStep) -> Void = { _ in }, onStep: (PruningStep) -> Void = { _ in }) throws -> Result {
        try studyStep {
            let units = try model.width(ofLayer: layer)
            _ = try PrunableLayer(named: layer, in: network.architecture)
            try Self.validate(count: count, steps: steps, units: units, layer: layer)
            if criterion.need != .none && calibration == nil { throw RemovalError.calibrationNeeded(criterion: criterion.name) }
            let workers = max(1, threads)
            let gradients = criterion.need == .gradients
            let statistics: GroupPruner.StatisticsProvider? = calibration.map { images in
                let images = UncheckedSendableBox(images)
                return { network, groups in
                    try GroupCalibration.statistics(of: groups, in: network, on: images.value, gradients: gradients, threads: workers)
                }
            }
            let pruner = GroupPruner(criterion: criterion, statistics: statistics, scoring: .producer)

            let evaluator = Evaluator(threads: workers)
            var current = (network: network, model: model)
            var original = Array(0..<units)
            var records: [PruningStep] = []
            var pruned = current
            var removedSoFar = 0
            for (index, target) in Self.schedule(count: count, steps: steps).enumerated() {
                let step = try pruner.prune(current.network, to: .count(target - removedSoFar, group: layer))
                let removed = step.removed[layer] ?? []
                let kept = original.indices.filter { !removed.contains($0) }
                guard let graph = step.network.architecture.graph, let widths = SimpleCNN(graph: graph) else {
                    throw RemovalError.widthsMismatch("removing units of \(layer) did not leave a SimpleCNN")
                }
                let removedOriginal = removed.map { original[$0] }
                original = kept.map { original[$0] }
                removedSoFar = target
                current = (step.network, widths)
                pruned = current
                var record = PruningStep(step: index + 1, removed: removedOriginal, totalRemoved: target, width: kept.count,
                                         accuracy: evaluator.evaluate(current.network, on: test).accuracy, fineTunedAccuracy: nil)
                onRemoval(record)
                if let fineTune {
                    let tuned = try fineTune(current.network, current.model, index + 1)
                    guard tuned.architecture.shapes == current.network.architecture.shapes,
                          tuned.parameters.count == current.network.parameters.count else {
                        throw RemovalError.widthsMismatch("fine-tuning must keep the widths \(current.model.widthsDescription)")
                    }
                    current.network = tuned
                    record.fineTunedAccuracy = evaluator.evaluate(current.network, on: test).accuracy
                }
                records.append(record)
                onStep(record)
            }

            var models: [(network: Network, model: SimpleCNN)] = [(network, model), pruned]
            if fineTune != nil { models.append(current) }
            let measured = ModelMeasurement.measure(models, on: test, threads: workers, timingRuns: timingRuns)
            let removed = Set(0..<units).subtracting(original).sorted()
            let outcome = PruningOutcome(
                layer: layer, criterion: criterion.name, calibration: criterion.need == .none ? "none" : calibrationLabel,
                count: count, removed: removed, before: measured[0], pruned: measured[1],
                fineTuned: fineTune != nil ? measured[2] : nil, steps: records)
            return Result(network: current.network, model: current.model, outcome: outcome)
        }
    }

    /// The metadata of the pruned model's file: the input's pruning history with this removal
    /// appended (``PruningRecord/metadataKey``), plus `extra`.
    /// - Parameters:
    ///   - outcome: The removal's outcome.
    ///   - source: The file pruned (its name is recorded).
    ///   - inputMetadata: The input file's metadata (its history, if any).
    ///   - extra: More entries (e.g. the data set's); they win over the history's key.
    public func metadata(for outcome: PruningOutcome, source: String, inputMetadata: [String: String],
                         extra: [String: String] = [:]) throws -> [String: String] {
        var entries: [PruningRecord] = []
        if let json = inputMetadata[PruningRecord.metadataKey], let old = try? JSONDecoder().decode([PruningRecord].self, from: Data(json.utf8)) {
            entries = old
        }
        entries.append(PruningRecord(source: URL(fileURLWithPath: source).lastPathComponent, layer: outcome.layer, criterion: outcome.criterion,
                                     calibration: outcome.calibration, k: outcome.count, steps: steps,
                                     finetuneEpochs: finetuneEpochs, removed: outcome.removed))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = [PruningRecord.metadataKey: String(decoding: try encoder.encode(entries), as: UTF8.self)]
        metadata.merge(extra) { _, new in new }
        return metadata
    }

    /// The report of a finished removal.
    /// - Parameters:
    ///   - outcome: The removal's outcome.
    ///   - model: The file pruned, as given.
    ///   - output: Where the pruned model was saved.
    public func report(_ outcome: PruningOutcome, model: String, output: String) -> LayerPruneReport {
        LayerPruneReport(model: model, output: output, steps: steps, finetuneEpochs: finetuneEpochs, outcome: outcome)
    }
}
