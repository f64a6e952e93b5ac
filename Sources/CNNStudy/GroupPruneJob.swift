import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// `cnnprune prune` on channel groups of any architecture, end to end: the removal to a target
/// (``GroupRemovalStudy``), fine-tuning after each step, the optional scratch control (the pruned
/// architecture trained from a fresh initialisation, Liu et al. 2019), the measurements, the
/// pruned model saved with its history, and the report (``GroupPruneReport``).
///
/// Training and printing are the caller's: `train` runs a recipe from a network, `say` receives
/// each progress line.
public struct GroupPruneJob {
    /// How long the scratch control trains.
    public enum ScratchLength: Sendable, Equatable {
        /// This many epochs.
        case epochs(Int)
        /// As many as the pruned model saw: the epochs its file records plus the fine-tuning ones.
        case asPruned
    }

    /// Why a job cannot run, beyond the removal's own errors (``StudyError``).
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// The scratch control should train as long as the model was, and `model` does not
        /// record how many epochs it was trained.
        case epochsNotRecorded(model: String)

        /// One line saying what is wrong.
        public var description: String {
            switch self {
            case .epochsNotRecorded(let model):
                "\(model) does not record how many epochs it was trained; give the scratch control's length (the original training epochs plus the fine-tuning ones)"
            }
        }
    }

    /// The model file pruned, as given (the report names it).
    public var source: String
    /// Where the pruned model is saved (atomically).
    public var output: String
    /// The removal itself: target, criterion, calibration, residual groups, steps, seed, threads, timing.
    public var removal: GroupRemovalStudy
    /// The target in the caller's words, as the report records it (e.g. `--global-ratio 0.5 (max 0.9 per group)`).
    public var targetDescription: String
    /// The training recipe of the fine-tuning (for `finetuneEpochs`, step i seeded SEED + i − 1)
    /// and of the scratch control (for its own epochs).
    public var recipe: TrainingRecipe
    /// Fine-tuning epochs after each step (0: none).
    public var finetuneEpochs: Int
    /// The scratch control, nil for none.
    public var scratchControl: ScratchLength?

    /// A job as described.
    /// - Parameters:
    ///   - source: The model file pruned.
    ///   - output: Where the pruned model is saved.
    ///   - removal: The removal.
    ///   - targetDescription: The target in the caller's words.
    ///   - recipe: The recipe of the fine-tuning and the scratch control.
    ///   - finetuneEpochs: Fine-tuning epochs after each step.
    ///   - scratchControl: The scratch control's length, nil for none.
    public init(source: String, output: String, removal: GroupRemovalStudy, targetDescription: String, recipe: TrainingRecipe,
                finetuneEpochs: Int = 0, scratchControl: ScratchLength? = nil) {
        self.source = source
        self.output = output
        self.removal = removal
        self.targetDescription = targetDescription
        self.recipe = recipe
        self.finetuneEpochs = finetuneEpochs
        self.scratchControl = scratchControl
    }

    /// Whether the job trains at all (fine-tuning or the scratch control): the caller needs the training images then.
    public var trains: Bool { finetuneEpochs > 0 || scratchControl != nil }

    /// Prunes, fine-tunes, trains the scratch control, measures and saves; returns the report.
    /// - Parameters:
    ///   - loaded: The model to prune, as its file loaded.
    ///   - test: The evaluation images.
    ///   - images: The calibration images (read only for data-driven criteria).
    ///   - extraMetadata: More entries for the saved file (e.g. the data set's).
    ///   - train: Runs a recipe from a network and returns the trained network; nil: no training
    ///     (neither fine-tuning nor scratch control).
    ///   - say: Receives each progress line.
    /// - Throws: ``Problem``, ``StudyError``, and `train`'s errors as they are.
    public func run(_ loaded: LoadedModel, test: ByteImages, images: CalibrationImages, extraMetadata: [String: String] = [:],
                    train: ((_ recipe: TrainingRecipe, _ network: Network) throws -> Network)? = nil,
                    say: @escaping (String) -> Void = { _ in }) throws -> GroupPruneReport {
        let name = loaded.graph.name ?? "custom architecture"
        let steps = removal.steps
        if let criterion = try? ImportanceCriteria.named(removal.criterion, seed: removal.seed) {
            let ranking = criterion.need == .none ? criterion.name : "\(criterion.name) on \(removal.calibration.label)"
            say("Pruning \(source) (\(name)): \(targetDescription)\(steps > 1 ? " in \(steps) steps" : ""), ranked by \(ranking)\(removal.allowResidual ? ", residual groups included" : "")")
        }
        var fineTune: ((Network, Int) throws -> Network)?
        if let train, finetuneEpochs > 0 {
            var fineTuning = recipe
            fineTuning.epochs = finetuneEpochs
            fineTune = { current, step in
                var recipe = fineTuning
                recipe.seed &+= UInt64(step - 1)  // each step sees other batches and crops
                return try train(recipe, current)
            }
        }
        var trainFromScratch: ((Network) throws -> Network)?
        var scratchEpochs: Int?
        if let train, let scratchControl {
            let recorded = Int(loaded.metadata[Checkpoint.epochsTrainedKey] ?? "")
            let given: Int? = if case .epochs(let epochs) = scratchControl { epochs } else { nil }
            guard let epochs = given ?? recorded.map({ $0 + finetuneEpochs * steps }) else { throw Problem.epochsNotRecorded(model: source) }
            scratchEpochs = epochs
            var recipe = self.recipe
            recipe.epochs = epochs
            trainFromScratch = { fresh in
                say("scratch control: the pruned architecture from a fresh initialisation, \(epochs) epoch\(epochs == 1 ? "" : "s") (seed \(recipe.seed))")
                return try train(recipe, fresh)
            }
        }
        let epochs = finetuneEpochs
        let result = try removal.run(network: loaded.network, test: test, calibration: images, fineTune: fineTune, trainFromScratch: trainFromScratch) { event in
            switch event {
            case .step(let step, let cost):
                say("step \(step)/\(steps): \(cost.parameters) parameters, \(cost.multiplyAccumulates) MACs"
                    + (epochs > 0 ? "; fine-tuning \(epochs) epoch\(epochs == 1 ? "" : "s")" : ""))
            case .changes(let changes):
                for change in changes { say("  \(change.name): \(change.before) → \(change.after) channels") }
            }
        }
        try save(result.final, metadata: metadata(of: loaded, after: result, extra: extraMetadata))
        return GroupPruneReport(model: source, output: output, architecture: name, criterion: result.criterionName, target: targetDescription,
                                      groups: result.changes, before: result.before, pruned: result.prunedMeasurement,
                                      fineTuned: result.fineTunedMeasurement, finetuneEpochs: finetuneEpochs, steps: steps,
                                      calibration: result.calibrationDescription, scratch: result.scratchMeasurement, scratchEpochs: scratchEpochs)
    }

    /// The pruned file's metadata: the input's, less its architecture, graph, training progress
    /// and format (the pruned network records its own), plus `extra`, the groups' changes
    /// (`cnnprune.group_pruning`) and the epochs trained, fine-tuning included.
    /// - Parameters:
    ///   - loaded: The model pruned.
    ///   - result: The removal's result.
    ///   - extra: More entries (e.g. the data set's); they win over the input's.
    public func metadata(of loaded: LoadedModel, after result: GroupRemovalStudy.Result, extra: [String: String] = [:]) -> [String: String] {
        var metadata = loaded.metadata.filter { ![Checkpoint.architectureKey, Checkpoint.graphKey, TrainingRun.progressKey, "format"].contains($0.key) }
        metadata.merge(extra) { _, new in new }
        metadata["cnnprune.group_pruning"] = String(decoding: (try? JSONEncoder().encode(result.changes)) ?? Data(), as: UTF8.self)
        if let trained = Int(loaded.metadata[Checkpoint.epochsTrainedKey] ?? "") {
            metadata[Checkpoint.epochsTrainedKey] = String(trained + (result.fineTuned == nil ? 0 : finetuneEpochs * removal.steps))
        }
        return metadata
    }

    /// Saves `network` to `output`, a failure as ``StudyError/fileNotWritten(_:)``.
    func save(_ network: Network, metadata: [String: String]) throws {
        do {
            try Checkpoint.save(network, to: URL(fileURLWithPath: output), metadata: metadata)
        } catch {
            throw StudyError.fileNotWritten((error as? AtomicFileError)?.description ?? "cannot write \(output): \(error.localizedDescription)")
        }
    }
}
