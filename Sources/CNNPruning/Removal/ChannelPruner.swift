import CNNEngine

/// Ranks one layer's units with a criterion and removes the least important — at once, or in
/// equal steps with fine-tuning between them (Torch-Pruning's `iterative_steps` with its linear
/// schedule: after step `i` of `S`, `⌊K·i/S⌋` units are gone).
///
/// ```swift
/// let pruner = ChannelPruner(layer: "conv2", criterion: L1Norm(), threads: 2)
/// let result = try pruner.prune(16, from: network, model: model, calibration: nil, test: test)
/// print(result.outcome.speedUp ?? 0, result.outcome.final.accuracy)
/// ```
public struct ChannelPruner: Sendable {
    /// The layer to prune: `conv1`, `conv2` or `fc1`.
    public var layer: String
    /// Ranks the units; re-applied to the current model before every step.
    public var criterion: any ImportanceCriterion
    /// Workers for calibration, evaluation and timing.
    public var threads: Int

    /// A pruner of `layer`'s units, ranked by `criterion`, using `threads` workers.
    public init(layer: String, criterion: any ImportanceCriterion, threads: Int) {
        self.layer = layer
        self.criterion = criterion
        self.threads = max(1, threads)
    }

    /// The criterion's score of every unit of the layer in `network`, and the units least
    /// important first.
    /// - Parameters:
    ///   - network: the network whose layer is ranked.
    ///   - calibration: images to gather activations (and gradients) on; only read when
    ///     the criterion needs data.
    /// - Throws: `PruningError` for a layer that cannot be pruned, `RemovalError.calibrationNeeded`
    ///   when the criterion needs data and `calibration` is `nil`.
    public func rank(_ network: Network, calibration: (any LabeledImages)?) throws -> (scores: [Double], ranking: [Int]) {
        let prunable = try PrunableLayer(named: layer, in: network.architecture)
        var statistics: UnitStatistics?
        if criterion.need != .none {
            guard let calibration else { throw RemovalError.calibrationNeeded(criterion: criterion.name) }
            statistics = Calibration.statistics(of: [prunable], in: network, on: calibration,
                                                gradients: criterion.need == .gradients, threads: threads)[0]
        }
        let scores = try criterion.scores(for: prunable, in: network, statistics: statistics)
        return (scores, criterion.ranking(of: scores))
    }

    /// Removes the `count` least important units of the layer from `network`.
    /// - Throws: as `rank(_:calibration:)`, and `RemovalError.countOutOfRange` unless
    ///   `1 ≤ count < units`.
    public func removing(_ count: Int, from network: Network, model: SimpleCNN, calibration: (any LabeledImages)?) throws -> ChannelRemoval {
        let units = try model.width(ofLayer: layer)
        try Self.validate(count: count, steps: 1, units: units, layer: layer)
        let (_, ranking) = try rank(network, calibration: calibration)
        return try ChannelRemoval(removing: ranking.prefix(count), of: layer, from: network, model: model)
    }

    /// Checks a removal request against a layer of `units` units.
    /// - Throws: `RemovalError.countOutOfRange` unless `1 ≤ count < units`,
    ///   `RemovalError.invalidSteps` unless `1 ≤ steps ≤ count`.
    public static func validate(count: Int, steps: Int, units: Int, layer: String) throws {
        guard count >= 1 && count < units else {
            throw RemovalError.countOutOfRange(count, layer: layer, units: units, unitName: layer.hasPrefix("fc") ? "neuron" : "channel")
        }
        guard steps >= 1 && steps <= count else { throw RemovalError.invalidSteps(steps, count: count) }
    }

    /// How many units are gone after each of `steps` equal steps towards `count`: `⌊count·i/steps⌋`.
    public static func schedule(count: Int, steps: Int) -> [Int] {
        (1...max(1, steps)).map { count * $0 / max(1, steps) }
    }

    /// The result of `prune(_:steps:from:model:calibration:calibrationLabel:test:timingRuns:fineTune:onRemoval:onStep:)`.
    public struct Result: Sendable {
        /// The pruned (and fine-tuned, if asked) network.
        public var network: Network
        /// Its widths.
        public var model: SimpleCNN
        /// Figures before and after.
        public var outcome: PruningOutcome
    }

    /// Prunes `count` units of the layer in `steps` equal steps, re-ranking on the current model
    /// before each step and calling `fineTune` after each, then measures the original, the pruned
    /// and the fine-tuned model on `test` (timing them in turn, `timingRuns` passes each).
    ///
    /// - Parameters:
    ///   - count: units to remove in total, `1 ≤ count < units`.
    ///   - steps: `1 ≤ steps ≤ count`.
    ///   - network: the trained network.
    ///   - model: its widths.
    ///   - calibration: images for data-driven criteria (`nil` for `l1`, `l2`, `random`).
    ///   - calibrationLabel: how the outcome names them, e.g. `train:5000`.
    ///   - test: images for the accuracies and the timing.
    ///   - timingRuns: timed evaluation passes per model.
    ///   - fineTune: trains the pruned network of step `step` (1-based) and returns it with the
    ///     same widths; `nil` for no fine-tuning.
    ///   - onRemoval: called after each step's removal, before its fine-tuning (the record's
    ///     `fineTunedAccuracy` is still `nil`), e.g. to print it.
    ///   - onStep: called at the end of each step, with the fine-tuned accuracy if any.
    public func prune(_ count: Int, steps: Int = 1, from network: Network, model: SimpleCNN,
                      calibration: (any LabeledImages)?, calibrationLabel: String = "given images",
                      test: some LabeledImages, timingRuns: Int = 3,
                      fineTune: ((_ network: Network, _ model: SimpleCNN, _ step: Int) throws -> Network)? = nil,
                      onRemoval: (PruningStep) -> Void = { _ in },
                      onStep: (PruningStep) -> Void = { _ in }) throws -> Result {
        let units = try model.width(ofLayer: layer)
        _ = try PrunableLayer(named: layer, in: network.architecture)
        try Self.validate(count: count, steps: steps, units: units, layer: layer)
        if criterion.need != .none && calibration == nil { throw RemovalError.calibrationNeeded(criterion: criterion.name) }

        let evaluator = Evaluator(threads: threads)
        var current = (network: network, model: model)
        var original = Array(0..<units)
        var records: [PruningStep] = []
        var pruned = current
        var removedSoFar = 0
        for (index, target) in Self.schedule(count: count, steps: steps).enumerated() {
            let (_, ranking) = try rank(current.network, calibration: calibration)
            let removal = try ChannelRemoval(removing: ranking.prefix(target - removedSoFar), of: layer,
                                             from: current.network, model: current.model)
            let removedOriginal = removal.removed.map { original[$0] }
            original = removal.kept.map { original[$0] }
            removedSoFar = target
            current = (removal.network, removal.model)
            pruned = current
            var record = PruningStep(step: index + 1, removed: removedOriginal, totalRemoved: target,
                                     width: removal.kept.count,
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
        let measured = ModelMeasurement.measure(models, on: test, threads: threads, timingRuns: timingRuns)
        let removed = Set(0..<units).subtracting(original).sorted()
        let outcome = PruningOutcome(
            layer: layer, criterion: criterion.name,
            calibration: criterion.need == .none ? "none" : calibrationLabel, count: count, removed: removed,
            before: measured[0], pruned: measured[1], fineTuned: fineTune != nil ? measured[2] : nil, steps: records)
        return Result(network: current.network, model: current.model, outcome: outcome)
    }
}
