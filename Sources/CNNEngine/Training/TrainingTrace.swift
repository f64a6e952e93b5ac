import Foundation

/// What a traced training run records so that another implementation can replay the run step by
/// step: the initial parameters, every traced step's batch (sample indices in the order used)
/// and mean loss, and the parameters after chosen steps. Written as safetensors:
/// `initial.NAME` (every parameter before step 1), `step{K}.NAME` (after step K, for each saved
/// step K within the traced steps) with, for Adam, `step{K}.optimizer.exp_avg` and
/// `step{K}.optimizer.exp_avg_sq` (its moments, flat in parameter order), `indices` [STEPS·BATCH] (I64, the batches one after
/// another; `batch_sizes` [STEPS] (I64) says where each ends), `loss` [STEPS] (F32) and, in the
/// header's `__metadata__` under `cnnprune.trace`, JSON `{"steps", "batch_size", "seed",
/// "saved_steps", "loss"}` with the losses as full-precision doubles.
///
/// ```swift
/// let trace = TrainingTrace.recording(run, steps: 200, savedSteps: [1, 10, 100])
/// try recipe.train(run, on: train, evaluatingOn: test, threads: 2)
/// try trace.write(to: url, batchSize: run.trainer.batchSize, seed: recipe.seed)
/// ```
public final class TrainingTrace {
    /// The metadata key of the trace's JSON summary.
    public static let metadataKey = "cnnprune.trace"
    /// How many steps are recorded (later steps are ignored).
    public let steps: Int
    /// The steps (1-based, within `steps`) after which the parameters are stored.
    public let savedSteps: Set<Int>
    private let network: () -> Network
    private let moments: () -> (first: [Float], second: [Float])?
    private var tensors: [String: Tensor] = [:]
    private var indices: [Float] = []
    private var batchSizes: [Float] = []
    private var losses: [Double] = []

    /// A recorder that reads the trained network and the optimizer's moments through closures;
    /// call ``record(indices:summedLoss:)`` from `Trainer.stepObserver`.
    /// - Parameters:
    ///   - initial: the network before the first step.
    ///   - steps: how many steps to record.
    ///   - savedSteps: after which steps (1-based) to store the parameters.
    ///   - network: reads the network being trained.
    ///   - moments: reads the optimizer's first and second moments (nil: not Adam).
    public init(initial: Network, steps: Int, savedSteps: [Int], network: @escaping () -> Network,
         moments: @escaping () -> (first: [Float], second: [Float])?) {
        self.steps = steps
        self.savedSteps = Set(savedSteps.filter { $0 >= 1 && $0 <= steps })
        self.network = network
        self.moments = moments
        store(initial, prefix: "initial")
        indices.reserveCapacity(steps * 64)
    }

    /// A recorder attached to `run` from its current state: it becomes the run's
    /// `Trainer.stepObserver` and reads Adam's moments when the run uses Adam.
    /// - Parameters:
    ///   - run: the run to trace, before its first step.
    ///   - steps: how many steps to record.
    ///   - savedSteps: after which steps (1-based) to store the parameters.
    /// - Returns: the recorder; write it with ``write(to:batchSize:seed:)`` after training.
    public static func recording(_ run: TrainingRun, steps: Int, savedSteps: [Int]) -> TrainingTrace {
        let recorder = TrainingTrace(initial: run.network, steps: steps, savedSteps: savedSteps,
                                     network: { [unowned run] in run.network },
                                     moments: { [unowned run] in (run.trainer.optimizer as? Adam).map { ($0.firstMoment, $0.secondMoment) } })
        run.trainer.stepObserver = { recorder.record(indices: $0, summedLoss: $1) }
        return recorder
    }

    /// Records one step (called by `Trainer.stepObserver`).
    /// - Parameters:
    ///   - batch: the sample indices of the step, in the order used.
    ///   - summedLoss: the loss summed over the batch.
    public func record(indices batch: UnsafeBufferPointer<Int32>, summedLoss: Double) {
        guard losses.count < steps else { return }
        for index in batch { indices.append(Float(index)) }   // exact: every index is below 2²⁴
        batchSizes.append(Float(batch.count))
        losses.append(summedLoss / Double(batch.count))
        if savedSteps.contains(losses.count) {
            store(network(), prefix: "step\(losses.count)")
            if let (first, second) = moments() {
                tensors["step\(losses.count).optimizer.exp_avg"] = Tensor(shape: [first.count], scalars: first)
                tensors["step\(losses.count).optimizer.exp_avg_sq"] = Tensor(shape: [second.count], scalars: second)
            }
        }
    }

    /// Writes the trace as safetensors.
    /// - Parameters:
    ///   - url: the file to write.
    ///   - batchSize: the run's batch size (recorded in the summary).
    ///   - seed: the run's seed (recorded in the summary).
    public func write(to url: URL, batchSize: Int, seed: UInt64) throws {
        var file = SafeTensors(tensors: tensors)
        file.tensors["indices"] = Tensor(shape: [indices.count], scalars: indices)
        file.tensors["batch_sizes"] = Tensor(shape: [batchSizes.count], scalars: batchSizes)
        file.tensors["loss"] = Tensor(shape: [losses.count], scalars: losses.map { Float($0) })
        file.integerTensors = ["indices", "batch_sizes"]
        let summary = TraceSummary(steps: losses.count, batchSize: batchSize, seed: seed,
                                   savedSteps: savedSteps.filter { $0 <= losses.count }.sorted(), loss: losses)
        file.metadata[TrainingTrace.metadataKey] = String(decoding: try JSONEncoder().encode(summary), as: UTF8.self)
        try file.write(to: url)
    }

    private func store(_ network: Network, prefix: String) {
        for entry in network.architecture.parameterEntries {
            tensors["\(prefix).\(entry.name)"] = Tensor(shape: entry.shape, scalars: Array(network.parameters[entry.offset..<(entry.offset + entry.count)]))
        }
    }

    private struct TraceSummary: Encodable {
        var steps: Int
        var batchSize: Int
        var seed: UInt64
        var savedSteps: [Int]
        var loss: [Double]
        enum CodingKeys: String, CodingKey {
            case steps, seed, loss
            case batchSize = "batch_size"
            case savedSteps = "saved_steps"
        }
    }
}
