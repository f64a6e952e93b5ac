import Foundation

/// Where a training run stands between epochs: enough, with the parameters and the optimizer's
/// moments, to continue it exactly as if it had never stopped.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// Epochs completed.
    public var epoch: Int
    /// Optimizer steps taken (PyTorch's `state['step']`).
    public var optimizerStep: Int
    /// The shuffling generator's state, as four decimal strings (JSON numbers lose 64-bit precision).
    public var shuffleState: [String]
    /// The seed of the run's shuffles and augmentation draws.
    public var seed: UInt64
    /// Images per step.
    public var batchSize: Int
    /// The learning rate of the run (the schedule's peak rate).
    public var learningRate: Float
    /// The optimizer and its hyper-parameters (absent in older checkpoints: Adam).
    public var optimizer: OptimizerSettings? = nil
    /// The learning-rate schedule (absent in older checkpoints: constant `learningRate`).
    public var schedule: LearningRateSchedule? = nil
    /// The data augmentation, if any.
    public var augmentation: Augmentation? = nil
    /// What else determined the run and must stay the same when it resumes, recorded by the
    /// caller (`TrainingRun.context`): e.g. the data set and the training subset.
    public var context: [String: String]? = nil

    enum CodingKeys: String, CodingKey {
        case epoch, seed, optimizer, schedule, augmentation, context
        case optimizerStep = "optimizer_step"
        case shuffleState = "shuffle_state"
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
    }
}

/// Why a training checkpoint cannot be resumed.
public struct TrainingCheckpointError: Error, CustomStringConvertible {
    public var description: String
}

/// A training run (by default the exercise's recipe: Adam, constant rate, softmax cross-entropy,
/// shuffled mini-batches; or any `OptimizerSettings`, `LearningRateSchedule` and `Augmentation`)
/// that can be checkpointed after any epoch and resumed bit for bit (same thread count).
public final class TrainingRun {
    /// The metadata key holding `TrainingProgress` as JSON in a training checkpoint.
    public static let progressKey = "cnnprune.training"
    /// Names of the optimizer tensors a training checkpoint adds to the model's.
    public static let firstMomentName = "optimizer.exp_avg"
    /// The name of the second moment tensor (`exp_avg_sq`).
    public static let secondMomentName = "optimizer.exp_avg_sq"
    /// The architecture being trained.
    public let graph: ModelGraph
    /// Trains the network one epoch at a time.
    public let trainer: Trainer
    /// The seed of the shuffles and the augmentation draws.
    public let seed: UInt64
    private var shuffle: SeededGenerator

    /// The optimizer's kind and hyper-parameters.
    public let optimizerSettings: OptimizerSettings
    /// Crops and flips applied to the training data of every epoch (nil: none).
    public let augmentation: Augmentation?
    /// What else determined the run (the data set, a training subset, …), as the caller names
    /// it: saved in every checkpoint and restored on resume, so that the caller can refuse to
    /// continue the run on other data.
    public var context: [String: String] = [:]

    /// Starts a run from `network` with a fresh Adam at a constant learning rate.
    /// - Parameters:
    ///   - network: the starting point.
    ///   - learningRate: Adam's step size.
    ///   - batchSize: images per step.
    ///   - threads: workers that split each batch.
    ///   - seed: seeds the shuffling (the network's initialisation is the caller's).
    public convenience init(network: Network, learningRate: Float, batchSize: Int, threads: Int, seed: UInt64) {
        self.init(network: network, optimizer: OptimizerSettings(), schedule: .constant(learningRate),
                  batchSize: batchSize, threads: threads, seed: seed)
    }

    /// Starts a run from `network` with a fresh optimizer.
    /// - Parameters:
    ///   - network: the starting point.
    ///   - optimizer: which optimizer, with its hyper-parameters.
    ///   - schedule: the learning rate at every step.
    ///   - augmentation: crops and flips for the training data (nil: none).
    ///   - batchSize: images per step.
    ///   - threads: workers that split each batch.
    ///   - seed: seeds the shuffling (the network's initialisation is the caller's).
    public init(network: Network, optimizer: OptimizerSettings, schedule: LearningRateSchedule,
                augmentation: Augmentation? = nil, batchSize: Int, threads: Int, seed: UInt64) {
        precondition(network.architecture.graph != nil, "only networks described by a ModelGraph can be checkpointed")
        self.graph = network.architecture.graph!
        self.seed = seed
        optimizerSettings = optimizer
        self.augmentation = augmentation
        shuffle = SeededGenerator(seed: seed &+ 0x5EED_5EED)
        trainer = Trainer(network: network, optimizer: optimizer.makeOptimizer(parameterCount: network.parameters.count,
                                                                                learningRate: schedule.baseLearningRate),
                          batchSize: batchSize, threads: threads)
        trainer.schedule = schedule
    }

    /// Continues the run saved in `file` (written by `checkpoint()`).
    public init(resuming file: SafeTensors, threads: Int) throws {
        guard let json = file.metadata[TrainingRun.progressKey],
              let progress = try? JSONDecoder().decode(TrainingProgress.self, from: Data(json.utf8)),
              progress.shuffleState.count == 4 else {
            throw TrainingCheckpointError(description: "not a training checkpoint (no valid '\(TrainingRun.progressKey)' metadata); it holds a model only")
        }
        let state = progress.shuffleState.compactMap(UInt64.init)
        guard state.count == 4 else { throw TrainingCheckpointError(description: "invalid shuffle state in '\(TrainingRun.progressKey)'") }
        let (network, graph) = try Checkpoint.network(from: file, fallback: nil)
        let settings = progress.optimizer ?? OptimizerSettings()
        let schedule = progress.schedule ?? .constant(progress.learningRate, epochs: max(1, progress.epoch))
        try settings.validate()
        try schedule.validate()
        try progress.augmentation?.validate()
        guard progress.batchSize > 0, progress.epoch >= 0, progress.optimizerStep >= 0 else {
            throw TrainingCheckpointError(description: "invalid position in '\(TrainingRun.progressKey)': epoch \(progress.epoch), step \(progress.optimizerStep), batch size \(progress.batchSize)")
        }
        guard progress.batchSize <= TrainingLimits.maximumBatchSize, progress.epoch <= TrainingLimits.maximumEpochs,
              progress.optimizerStep <= TrainingLimits.maximumOptimizerSteps, schedule.epochs <= TrainingLimits.maximumEpochs else {
            throw TrainingCheckpointError(description: "'\(TrainingRun.progressKey)' is beyond the stated limits: batch size \(progress.batchSize) (at most \(TrainingLimits.maximumBatchSize)), epoch \(progress.epoch) and schedule of \(schedule.epochs) epochs (at most \(TrainingLimits.maximumEpochs)), optimizer step \(progress.optimizerStep) (at most \(TrainingLimits.maximumOptimizerSteps))")
        }
        do {
            try MemoryBudget.checkTraining(network.architecture, batchSize: progress.batchSize, threads: threads)
        } catch let error as MemoryBudgetError {
            throw TrainingCheckpointError(description: "its batch size \(progress.batchSize) does not fit: \(error.description)")
        }
        // The optimizer's state is floating-point: integers there are relabelled or corrupt.
        if let integer = file.integerTensors.filter({ $0.hasPrefix("optimizer.") }).min() {
            throw TrainingCheckpointError(description: "tensor '\(integer)' is stored as \(file.storedDTypes[integer] ?? "an integer"), but the optimizer's state is floating-point")
        }
        let optimizer = try settings.restoredOptimizer(parameterCount: network.parameters.count, learningRate: progress.learningRate,
                                                       stepCount: progress.optimizerStep, tensors: file.tensors)
        self.graph = graph
        self.seed = progress.seed
        optimizerSettings = settings
        augmentation = progress.augmentation
        context = progress.context ?? [:]
        shuffle = SeededGenerator(seed: 0)
        shuffle.state = (state[0], state[1], state[2], state[3])
        trainer = Trainer(network: network, optimizer: optimizer, batchSize: progress.batchSize, threads: threads)
        trainer.schedule = schedule
        trainer.setEpochsCompleted(progress.epoch)
        trainer.stepsTaken = UInt64(max(progress.optimizerStep, 0))
    }

    /// Starts a SimpleCNN run from `network` with a fresh Adam (the exercise's recipe).
    public convenience init(model: SimpleCNN, network: Network, learningRate: Float, batchSize: Int, threads: Int, seed: UInt64) {
        self.init(network: network, learningRate: learningRate, batchSize: batchSize, threads: threads, seed: seed)
    }

    /// The SimpleCNN widths, when the network is a SimpleCNN.
    public var model: SimpleCNN? { SimpleCNN(graph: graph) }

    /// The learning-rate schedule. Setting its `epochs` on a resumed run changes the horizon a
    /// cosine schedule anneals over (bit-exact resumption needs the original one).
    public var schedule: LearningRateSchedule {
        get { trainer.schedule ?? .constant(trainer.optimizer.learningRate, epochs: max(1, trainer.epochsCompleted)) }
        set { trainer.schedule = newValue }
    }

    /// The network as trained so far.
    public var network: Network { trainer.network }
    /// Epochs completed, including those before a resume.
    public var epochsCompleted: Int { trainer.epochsCompleted }

    /// Trains one more epoch.
    public func runEpoch<Data: LabeledImages>(on data: Data, progress: ((BatchProgress) -> Void)? = nil) throws -> EpochSummary {
        if let augmentation {
            // Transforms are drawn per (seed, 0-based epoch, sample): a resumed run sees the same ones.
            let augmented = AugmentedImages(data, augmentation: augmentation, epoch: trainer.epochsCompleted)
            return try trainer.trainEpoch(on: augmented, generator: &shuffle, progress: progress)
        }
        return try trainer.trainEpoch(on: data, generator: &shuffle, progress: progress)
    }

    /// Everything needed to resume: the model's tensors (so the file also evaluates as a model),
    /// the optimizer's state (Adam's moments, SGD's momentum buffer), the recipe and the run's position.
    public func checkpoint() -> SafeTensors {
        let state = optimizerSettings.state(of: trainer.optimizer)
        let progress = TrainingProgress(
            epoch: trainer.epochsCompleted, optimizerStep: state.stepCount,
            shuffleState: [shuffle.state.0, shuffle.state.1, shuffle.state.2, shuffle.state.3].map { String($0) },
            seed: seed, batchSize: trainer.batchSize, learningRate: schedule.baseLearningRate,
            optimizer: optimizerSettings, schedule: schedule, augmentation: augmentation, context: context.isEmpty ? nil : context)
        var file = Checkpoint.safeTensors(of: trainer.network,
                                          metadata: [TrainingRun.progressKey: String(decoding: (try? JSONEncoder.sorted.encode(progress)) ?? Data(), as: UTF8.self)])
        for (name, tensor) in state.tensors { file.tensors[name] = tensor }
        return file
    }
}
