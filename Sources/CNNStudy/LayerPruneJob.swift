import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// `cnnprune prune` on a SimpleCNN layer, end to end: the layer's K least important units
/// removed in equal steps (``LayerRemovalStudy``), each step optionally fine-tuned, the models
/// measured, the smaller model saved with its pruning history, and the report.
///
/// Training and printing are the caller's: `fineTune` trains a step's network, `say` receives
/// each progress line.
public struct LayerPruneJob {
    /// The removal: layer, count, steps, criterion, calibration label, fine-tuning epochs,
    /// threads and timing runs.
    public var study: LayerRemovalStudy
    /// The images data-driven criteria rank on.
    public var calibration: CalibrationSet
    /// The model file pruned, as given (the report and the history name it).
    public var source: String
    /// Where the pruned model is saved (atomically).
    public var output: String

    /// A run as described.
    /// - Parameters:
    ///   - study: The removal.
    ///   - calibration: The images data-driven criteria rank on.
    ///   - source: The model file pruned.
    ///   - output: Where the pruned model is saved.
    public init(study: LayerRemovalStudy, calibration: CalibrationSet, source: String, output: String) {
        self.study = study
        self.calibration = calibration
        self.source = source
        self.output = output
    }

    /// The layer's unit count in `model`, checked against the study's count and steps (before
    /// any data is read).
    /// - Parameter model: The widths of the network to prune.
    /// - Throws: ``StudyError/pruning(_:)`` or ``StudyError/removal(_:)``.
    public func check(_ model: SimpleCNN) throws -> Int {
        try studyStep {
            let units = try model.width(ofLayer: study.layer)
            try LayerRemovalStudy.validate(count: study.count, steps: study.steps, units: units, layer: study.layer)
            return units
        }
    }

    /// Ranks, removes, fine-tunes, measures and saves.
    /// - Parameters:
    ///   - network: The trained network.
    ///   - model: Its widths.
    ///   - metadata: Its file's metadata (its pruning history, if any, is extended).
    ///   - test: The evaluation images.
    ///   - images: The calibration images (read only for data-driven criteria).
    ///   - extraMetadata: More entries for the saved file (e.g. the data set's).
    ///   - fineTune: Trains the network of pruning step `step` (1-based); nil for no fine-tuning.
    ///   - say: Receives each progress line.
    /// - Throws: ``StudyError`` for a removal that cannot be made or a file that cannot be
    ///   written; `fineTune`'s and the calibration loader's errors as they are.
    public func run(network: Network, model: SimpleCNN, metadata: [String: String], test: ByteImages, images: CalibrationImages,
                    extraMetadata: [String: String] = [:], fineTune: ((_ network: Network, _ step: Int) throws -> Network)? = nil,
                    say: (String) -> Void = { _ in }) throws -> PruneRunResult {
        let units = try check(model)
        let (layer, steps, criterion) = (study.layer, study.steps, study.criterion)
        let calibrationImages = criterion.need == .none ? nil : try images.images(calibration)
        images.progress.clear()
        let unitName = layer.hasPrefix("fc") ? "neuron" : "channel"
        let ranking = criterion.need == .none ? "\(criterion.name) (weights only)" : "\(criterion.name) on \(calibration.label)"
        say("Pruning \(layer) of \(source) (\(model.widthsDescription)): removing \(study.count) of \(units) \(unitName)s"
            + (steps > 1 ? " in \(steps) steps" : "") + ", ranked by \(ranking)")
        let epochs = study.finetuneEpochs
        let result = try study.run(
            network: network, model: model, calibration: calibrationImages, test: test,
            fineTune: fineTune.map { train in { network, _, step in try train(network, step) } },
            onRemoval: { step in
                say((steps > 1 ? "step \(step.step)/\(steps): " : "")
                    + "removed \(unitName)s \(step.removed.map(String.init).joined(separator: ", ")) → \(layer) has \(step.width); "
                    + String(format: "test accuracy %.2f %%", step.accuracy)
                    + (fineTune != nil ? "; fine-tuning \(epochs) epoch\(epochs == 1 ? "" : "s")" : ""))
            },
            onStep: { step in
                guard let accuracy = step.fineTunedAccuracy else { return }
                say(String(format: "%@fine-tuned: test accuracy %.2f %%", steps > 1 ? "step \(step.step)/\(steps) " : "", accuracy))
            })
        let fileMetadata = try study.metadata(for: result.outcome, source: source, inputMetadata: metadata, extra: extraMetadata)
        try save { try Checkpoint.save(result.network, model: result.model, to: URL(fileURLWithPath: output), metadata: fileMetadata) }
        let outcome = result.outcome
        let report = study.report(outcome, model: source, output: output)
        return PruneRunResult(report: report,
                              text: "\n" + report.table(timingRuns: study.timingRuns, threads: study.threads) + "\n\nSaved \(output) (\(result.model.widthsDescription))",
                              before: outcome.before.accuracy, pruned: outcome.pruned.accuracy, fineTuned: outcome.fineTuned?.accuracy,
                              parameterRatio: outcome.parameterRatio, macsRatio: outcome.multiplyAccumulateRatio)
    }

    /// Runs `write`, turning a failure into ``StudyError/fileNotWritten(_:)`` naming `output`.
    func save(_ write: () throws -> Void) throws {
        do {
            try write()
        } catch {
            throw StudyError.fileNotWritten((error as? AtomicFileError)?.description ?? "cannot write \(output): \(error.localizedDescription)")
        }
    }
}
