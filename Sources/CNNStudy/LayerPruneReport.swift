import CNNEngine
import CNNPruning
import Foundation

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
