import Foundation

/// One training job from its starting point to the saved model's metadata: a fresh network, a
/// trained model to continue (fine-tune), or a training checkpoint to resume; the recipe; the
/// data context recorded in checkpoints; and training checkpoints every few epochs.
///
/// ```swift
/// let session = TrainingSession(start: .fresh(network), recipe: recipe, threads: 2,
///                               context: TrainingContext(dataset: "cifar10", subset: nil))
/// let run = try session.makeRun()
/// let epochs = try session.train(run, on: train, evaluatingOn: test)
/// try Checkpoint.save(run.network, to: url, metadata: session.modelMetadata(after: run, epochs: epochs, data: [:]))
/// ```
public struct TrainingSession {
    /// Where a training job starts.
    public enum Start {
        /// A new network, trained from its initialisation.
        case fresh(Network)
        /// A trained model to continue with a fresh run of the recipe; `metadata` is its file's
        /// (e.g. its pruning history and epochs trained), kept in the result's.
        case fineTuning(Network, metadata: [String: String])
        /// A run restored from a training checkpoint: its own recipe continues, up to the
        /// session's epochs.
        case resuming(TrainingRun)
    }

    /// The metadata keys of a continued model's file that its result does not inherit: they
    /// describe the file (architecture, graph, format, training position), not the model's history.
    public static let uninheritedKeys: Set<String> = [Checkpoint.architectureKey, Checkpoint.graphKey, TrainingRun.progressKey, "format"]

    /// The starting point.
    public var start: Start
    /// The recipe (for a resumed run only its `epochs` count: the run's length in total).
    public var recipe: TrainingRecipe
    /// Training and evaluation workers.
    public var threads: Int
    /// The data the run trains on, recorded in its checkpoints.
    public var context: TrainingContext
    /// Save a training checkpoint after every this many epochs (nil: never).
    public var checkpointEvery: Int?
    /// Where training checkpoints go.
    public var checkpointURL: URL?

    /// A job.
    /// - Parameters:
    ///   - start: the starting point.
    ///   - recipe: the recipe (for a resumed run: its total epochs only).
    ///   - threads: training and evaluation workers.
    ///   - context: the data the run trains on.
    ///   - checkpointEvery: epochs between training checkpoints (nil: none).
    ///   - checkpointURL: where training checkpoints go (needed with `checkpointEvery`).
    public init(start: Start, recipe: TrainingRecipe, threads: Int, context: TrainingContext,
                checkpointEvery: Int? = nil, checkpointURL: URL? = nil) {
        self.start = start
        self.recipe = recipe
        self.threads = threads
        self.context = context
        self.checkpointEvery = checkpointEvery
        self.checkpointURL = checkpointURL
    }

    /// The default training checkpoint of a model saved at `model`: the same name with the
    /// extension `.checkpoint.safetensors` (`run/model.safetensors` → `run/model.checkpoint.safetensors`).
    /// - Parameter model: where the trained model goes.
    /// - Returns: the checkpoint's URL.
    public static func checkpointURL(forModel model: URL) -> URL {
        model.deletingPathExtension().appendingPathExtension("checkpoint.safetensors")
    }

    /// Whether the job continues a training checkpoint.
    public var isResuming: Bool {
        if case .resuming = start { return true }
        return false
    }

    /// The run to train: the resumed one, lengthened to the recipe's epochs, or a fresh run of
    /// the recipe from the network; either records ``context``.
    /// - Throws: ``TrainingSessionError/alreadyTrained(epochs:)`` when a resumed run has already
    ///   completed the recipe's epochs; what ``TrainingRecipe/makeRun(network:threads:)`` throws.
    public func makeRun() throws -> TrainingRun {
        let run: TrainingRun
        switch start {
        case .resuming(let resumed):
            guard resumed.epochsCompleted < recipe.epochs else { throw TrainingSessionError.alreadyTrained(epochs: resumed.epochsCompleted) }
            // The recipe comes from the checkpoint; only the run's length follows the session's.
            resumed.schedule.epochs = recipe.epochs
            run = resumed
        case .fresh(let network), .fineTuning(let network, _):
            run = try recipe.makeRun(network: network, threads: threads)
        }
        run.context = context.values
        return run
    }

    /// Trains `run` up to the recipe's epochs, evaluating after each and saving a training
    /// checkpoint every ``checkpointEvery`` epochs.
    /// - Parameters:
    ///   - run: the session's run (``makeRun()``).
    ///   - train: the training images.
    ///   - test: the images evaluated after every epoch.
    ///   - progress: receives every batch and every evaluated epoch.
    ///   - checkpointSaved: called after each training checkpoint with the epochs completed and the file.
    /// - Returns: the figures of the epochs trained.
    /// - Throws: what ``TrainingRecipe/train(_:on:evaluatingOn:threads:progress:afterEpoch:)`` throws; file errors.
    public func train<Train: LabeledImages, Test: LabeledImages>(
        _ run: TrainingRun, on train: Train, evaluatingOn test: Test,
        progress: (TrainingRecipe.Event) -> Void = { _ in }, checkpointSaved: (Int, URL) -> Void = { _, _ in }
    ) throws -> [EpochRecord] {
        try recipe.train(run, on: train, evaluatingOn: test, threads: threads, progress: progress) { run in
            guard let every = checkpointEvery, let checkpointURL, run.epochsCompleted % every == 0 else { return }
            try run.checkpoint().write(to: checkpointURL)
            checkpointSaved(run.epochsCompleted, checkpointURL)
        }
    }

    /// The trained model's metadata: a continued model's own (less ``uninheritedKeys``), then
    /// `data` (the data set's keys, which win), and `Checkpoint.epochsTrainedKey`: the epochs the
    /// model has been trained in all (a continued model's count plus this run's; a resumed run's
    /// epochs completed).
    /// - Parameters:
    ///   - run: the trained run.
    ///   - epochs: the epochs this session trained.
    ///   - data: the data set's metadata.
    /// - Returns: the metadata to save with the model.
    public func modelMetadata(after run: TrainingRun, epochs: [EpochRecord], data: [String: String]) -> [String: String] {
        var metadata: [String: String] = [:]
        if case .fineTuning(_, let inherited) = start { metadata = inherited.filter { !TrainingSession.uninheritedKeys.contains($0.key) } }
        metadata.merge(data) { _, new in new }
        let trained = isResuming ? run.epochsCompleted : (Int(metadata[Checkpoint.epochsTrainedKey] ?? "") ?? 0) + epochs.count
        metadata[Checkpoint.epochsTrainedKey] = String(trained)
        return metadata
    }
}

/// Why a ``TrainingSession`` cannot run.
public enum TrainingSessionError: Error, Equatable, CustomStringConvertible {
    /// The resumed run has already completed `epochs`, as many as the session asks or more.
    case alreadyTrained(epochs: Int)

    /// One line saying what is wrong.
    public var description: String {
        switch self {
        case .alreadyTrained(let epochs): return "the run has already completed \(epochs) epochs"
        }
    }
}
