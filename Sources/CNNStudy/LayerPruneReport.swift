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

/// One pruning in a model's history (the `cnnprune.pruning` metadata of a pruned file, a JSON
/// array, oldest first).
public struct PruningRecord: Codable, Sendable, Equatable {
    /// The metadata key holding the history.
    public static let metadataKey = "cnnprune.pruning"
    /// The file pruned (name only).
    public var source: String
    /// The layer.
    public var layer: String
    /// The criterion.
    public var criterion: String
    /// The calibration set.
    public var calibration: String
    /// Units removed.
    public var k: Int
    /// Steps.
    public var steps: Int
    /// Fine-tuning epochs after each step.
    public var finetuneEpochs: Int
    /// Units removed, as indices of the source file's layer.
    public var removed: [Int]

    /// A record.
    /// - Parameters:
    ///   - source: The file pruned (name only).
    ///   - layer: The layer.
    ///   - criterion: The criterion.
    ///   - calibration: The calibration set.
    ///   - k: Units removed.
    ///   - steps: Steps.
    ///   - finetuneEpochs: Fine-tuning epochs after each step.
    ///   - removed: Units removed, as indices of the source file's layer.
    public init(source: String, layer: String, criterion: String, calibration: String, k: Int, steps: Int, finetuneEpochs: Int, removed: [Int]) {
        self.source = source
        self.layer = layer
        self.criterion = criterion
        self.calibration = calibration
        self.k = k
        self.steps = steps
        self.finetuneEpochs = finetuneEpochs
        self.removed = removed
    }

    enum CodingKeys: String, CodingKey {
        case source, layer, criterion, calibration, k, steps, removed
        case finetuneEpochs = "finetune_epochs"
    }
}

/// A SimpleCNN layer's removal as `prune --json` reports it, and its table.
public struct LayerPruneReport: Encodable, Sendable {
    /// The file pruned, as given.
    public var model: String
    /// Where the pruned model was saved.
    public var output: String
    /// Steps.
    public var steps: Int
    /// Fine-tuning epochs after each step.
    public var finetuneEpochs: Int
    /// The figures.
    public var outcome: PruningOutcome

    /// A report.
    /// - Parameters:
    ///   - model: The file pruned, as given.
    ///   - output: Where the pruned model was saved.
    ///   - steps: Steps.
    ///   - finetuneEpochs: Fine-tuning epochs after each step.
    ///   - outcome: The figures.
    public init(model: String, output: String, steps: Int, finetuneEpochs: Int, outcome: PruningOutcome) {
        self.model = model
        self.output = output
        self.steps = steps
        self.finetuneEpochs = finetuneEpochs
        self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey {
        case model, output, layer, criterion, calibration, k, removed, before, pruned, steps
        case finetuneEpochs = "finetune_epochs"
        case fineTuned = "fine_tuned"
        case stepResults = "step_results"
        case parameterRatio = "parameter_ratio"
        case macsRatio = "macs_ratio"
        case speedUp = "speed_up"
        case speedUpByRound = "speed_up_by_run"
        case accuracyChange = "accuracy_change"
    }

    /// Encodes the report: accuracies to 2 decimals, speeds to whole images per second.
    /// - Parameter encoder: The encoder.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(output, forKey: .output)
        try c.encode(outcome.layer, forKey: .layer)
        try c.encode(outcome.criterion, forKey: .criterion)
        try c.encode(outcome.calibration, forKey: .calibration)
        try c.encode(outcome.count, forKey: .k)
        try c.encode(steps, forKey: .steps)
        try c.encode(finetuneEpochs, forKey: .finetuneEpochs)
        try c.encode(outcome.removed, forKey: .removed)
        try c.encode(Self.roundedFigures(outcome.before), forKey: .before)
        try c.encode(Self.roundedFigures(outcome.pruned), forKey: .pruned)
        try c.encode(outcome.fineTuned.map(Self.roundedFigures), forKey: .fineTuned)
        try c.encode(outcome.steps.map { step -> PruningStep in
            var step = step
            step.accuracy = rounded(step.accuracy)
            step.fineTunedAccuracy = step.fineTunedAccuracy.map { rounded($0) }
            return step
        }, forKey: .stepResults)
        try c.encode(rounded(outcome.parameterRatio, 4), forKey: .parameterRatio)
        try c.encode(rounded(outcome.multiplyAccumulateRatio, 4), forKey: .macsRatio)
        try c.encode(outcome.speedUp.map { rounded($0, 3) }, forKey: .speedUp)
        try c.encode(outcome.speedUpByRound.map { rounded($0, 3) }, forKey: .speedUpByRound)
        try c.encode(rounded(outcome.accuracyChange), forKey: .accuracyChange)
    }

    /// Accuracy to 2 decimals, speeds to whole images per second.
    private static func roundedFigures(_ m: ModelMeasurement) -> ModelMeasurement {
        var m = m
        m.accuracy = rounded(m.accuracy)
        m.imagesPerSecond = m.imagesPerSecond.map { $0.rounded() }
        m.imagesPerSecondRuns = m.imagesPerSecondRuns.map { $0.rounded() }
        return m
    }

    /// The before/after table: width, parameters, file size, MACs, images/s and accuracy of the
    /// original, pruned and fine-tuned models, and the final/original ratios.
    /// - Parameters:
    ///   - timingRuns: Timed passes per model (for the row's label).
    ///   - threads: Threads (for the note under the table).
    public func table(timingRuns: Int, threads: Int) -> String {
        var columns = [("original", outcome.before), ("pruned", outcome.pruned)]
        if let fineTuned = outcome.fineTuned { columns.append(("fine-tuned", fineTuned)) }
        let layer = outcome.layer
        func width(_ model: SimpleCNN) -> Int { (try? model.width(ofLayer: layer)) ?? 0 }
        let rows: [(String, (ModelMeasurement) -> String, String)] = [
            ("\(layer) width", { String(width($0.model)) },
             String(format: "%.2f", Double(width(outcome.pruned.model)) / Double(max(1, width(outcome.before.model))))),
            ("parameters", { grouped($0.parameters) }, String(format: "%.2f", outcome.parameterRatio)),
            ("file size (bytes)", { grouped($0.fileBytes) }, String(format: "%.2f", Double(outcome.pruned.fileBytes) / Double(outcome.before.fileBytes))),
            ("MACs per image", { grouped($0.multiplyAccumulates) }, String(format: "%.2f", outcome.multiplyAccumulateRatio)),
            ("images/s (best of \(timingRuns))", { grouped(Int(($0.imagesPerSecond ?? 0).rounded())) },
             outcome.speedUp.map { String(format: "%.2f× faster", $0) } ?? "–"),
            ("images/s (each run)", { $0.imagesPerSecondRuns.map { grouped(Int($0.rounded())) }.joined(separator: " ") },
             outcome.speedUpByRound.map { String(format: "%.2f", $0) }.joined(separator: " ")),
            ("test accuracy", { String(format: "%.2f %%", $0.accuracy) }, String(format: "%+.2f points", outcome.accuracyChange)),
        ]
        let headers = [""] + columns.map(\.0) + ["final/original"]
        var cells = [headers]
        for (name, value, ratio) in rows {
            cells.append([name] + columns.map { value($0.1) } + [ratio])
        }
        return alignedTable(cells) + """

        threads: \(threads); images/s are whole evaluation passes over the \(grouped(outcome.before.total)) test images; \
        each run times every model once, back to back; the speed-up is the median of the runs' ratios
        """
    }
}

extension GroupPruneReport {
    /// The before/after table: parameters, MACs, file size, images/s and accuracy of the original,
    /// pruned, fine-tuned and scratch-trained models, and the final/original ratios.
    /// - Parameter timingRuns: Timed passes per model (for the row's label).
    public func table(timingRuns: Int) -> String {
        var columns = [("original", before), ("pruned", pruned)]
        if let fineTuned { columns.append(("fine-tuned", fineTuned)) }
        let final = columns.last!.1
        if let scratch { columns.append(("from scratch (\(scratchEpochs ?? 0) epochs)", scratch)) }
        let rows: [(String, (Measurement) -> String, String)] = [
            ("parameters", { "\($0.parameters)" }, String(format: "%.2f", Double(final.parameters) / Double(before.parameters))),
            ("MACs per image", { "\($0.multiplyAccumulates)" }, String(format: "%.2f", Double(final.multiplyAccumulates) / Double(before.multiplyAccumulates))),
            ("file size (bytes)", { "\($0.fileBytes)" }, String(format: "%.2f", Double(final.fileBytes) / Double(before.fileBytes))),
            ("images/s (best of \(timingRuns))", { String(format: "%.0f", $0.imagesPerSecond) },
             String(format: "%.2f× faster", final.imagesPerSecond / max(before.imagesPerSecond, 1))),
            ("test accuracy", { String(format: "%.2f %%", $0.accuracy) }, String(format: "%+.2f points", final.accuracy - before.accuracy)),
        ]
        let headers = [""] + columns.map(\.0) + ["final/original"]
        var cells = [headers]
        for (name, value, ratio) in rows { cells.append([name] + columns.map { value($0.1) } + [ratio]) }
        return alignedTable(cells)
    }
}
