import Foundation

/// Where a training run stands between epochs: enough, with the parameters and the optimizer's
/// moments, to continue it exactly as if it had never stopped.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// Epochs completed.
    public var epoch: Int
    /// Adam steps taken (PyTorch's `state['step']`).
    public var optimizerStep: Int
    /// The shuffling generator's state, as four decimal strings (JSON numbers lose 64-bit precision).
    public var shuffleState: [String]
    public var seed: UInt64
    public var batchSize: Int
    public var learningRate: Float

    enum CodingKeys: String, CodingKey {
        case epoch, seed
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

/// A training run of the exercise's recipe (Adam, softmax cross-entropy, shuffled mini-batches)
/// that can be checkpointed after any epoch and resumed bit for bit (same thread count).
public final class TrainingRun {
    /// The metadata key holding `TrainingProgress` as JSON in a training checkpoint.
    public static let progressKey = "cnnprune.training"
    /// Names of the optimizer tensors a training checkpoint adds to the model's.
    public static let firstMomentName = "optimizer.exp_avg"
    public static let secondMomentName = "optimizer.exp_avg_sq"

    /// The architecture being trained.
    public let graph: ModelGraph
    public let trainer: Trainer
    public let seed: UInt64
    private var shuffle: SeededGenerator

    /// Starts a run from `network` with a fresh Adam.
    /// - Parameters:
    ///   - seed: seeds the shuffling (the network's initialisation is the caller's).
    public init(network: Network, learningRate: Float, batchSize: Int, threads: Int, seed: UInt64) {
        precondition(network.architecture.graph != nil, "only networks described by a ModelGraph can be checkpointed")
        self.graph = network.architecture.graph!
        self.seed = seed
        shuffle = SeededGenerator(seed: seed &+ 0x5EED_5EED)
        trainer = Trainer(network: network, optimizer: Adam(parameterCount: network.parameters.count, learningRate: learningRate),
                          batchSize: batchSize, threads: threads)
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
        guard let m = file.tensors[TrainingRun.firstMomentName], let v = file.tensors[TrainingRun.secondMomentName],
              m.count == network.parameters.count, v.count == network.parameters.count else {
            throw TrainingCheckpointError(description: "missing or misshapen optimizer moments '\(TrainingRun.firstMomentName)', '\(TrainingRun.secondMomentName)'")
        }
        let adam = Adam(parameterCount: network.parameters.count, learningRate: progress.learningRate)
        adam.restore(stepCount: progress.optimizerStep, firstMoment: m.scalars, secondMoment: v.scalars)
        self.graph = graph
        self.seed = progress.seed
        shuffle = SeededGenerator(seed: 0)
        shuffle.state = (state[0], state[1], state[2], state[3])
        trainer = Trainer(network: network, optimizer: adam, batchSize: progress.batchSize, threads: threads)
        trainer.setEpochsCompleted(progress.epoch)
        trainer.stepsTaken = UInt64(max(progress.optimizerStep, 0))
    }

    /// Starts a SimpleCNN run from `network` with a fresh Adam.
    public convenience init(model: SimpleCNN, network: Network, learningRate: Float, batchSize: Int, threads: Int, seed: UInt64) {
        self.init(network: network, learningRate: learningRate, batchSize: batchSize, threads: threads, seed: seed)
    }

    /// The SimpleCNN widths, when the network is a SimpleCNN.
    public var model: SimpleCNN? { SimpleCNN(graph: graph) }

    /// The network as trained so far.
    public var network: Network { trainer.network }
    public var epochsCompleted: Int { trainer.epochsCompleted }

    /// Trains one more epoch.
    public func runEpoch<Data: LabeledImages>(on data: Data, progress: ((BatchProgress) -> Void)? = nil) throws -> EpochSummary {
        try trainer.trainEpoch(on: data, generator: &shuffle, progress: progress)
    }

    /// Everything needed to resume: the model's tensors (so the file also evaluates as a model),
    /// the optimizer's moments and the run's position.
    public func checkpoint() -> SafeTensors {
        let adam = trainer.optimizer as! Adam
        let progress = TrainingProgress(
            epoch: trainer.epochsCompleted, optimizerStep: adam.stepCount,
            shuffleState: [shuffle.state.0, shuffle.state.1, shuffle.state.2, shuffle.state.3].map { String($0) },
            seed: seed, batchSize: trainer.batchSize, learningRate: adam.learningRate)
        var file = Checkpoint.safeTensors(of: trainer.network,
                                          metadata: [TrainingRun.progressKey: String(decoding: (try? JSONEncoder.sorted.encode(progress)) ?? Data(), as: UTF8.self)])
        file.tensors[TrainingRun.firstMomentName] = Tensor(shape: [adam.firstMoment.count], scalars: adam.firstMoment)
        file.tensors[TrainingRun.secondMomentName] = Tensor(shape: [adam.secondMoment.count], scalars: adam.secondMoment)
        return file
    }
}
