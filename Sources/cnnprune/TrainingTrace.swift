import CNNEngine
import Foundation

/// What `train --trace FILE` records so that another implementation can replay the run step by
/// step: the initial parameters, every traced step's batch (sample indices in the order used)
/// and mean loss, and the parameters after chosen steps. Written as safetensors:
/// `initial.NAME` (every parameter before step 1), `step{K}.NAME` (after step K, for each K of
/// `--trace-at` within the traced steps) with, for Adam, `step{K}.optimizer.exp_avg` and
/// `step{K}.optimizer.exp_avg_sq` (its moments, flat in parameter order), `indices` [STEPS·BATCH] (I64, the batches one after
/// another; `batch_sizes` [STEPS] (I64) says where each ends), `loss` [STEPS] (F32) and, in the
/// header's `__metadata__` under `cnnprune.trace`, JSON `{"steps", "batch_size", "seed",
/// "saved_steps", "loss"}` with the losses as full-precision doubles.
final class TrainingTrace {
    static let metadataKey = "cnnprune.trace"
    let steps: Int
    let savedSteps: Set<Int>
    private let network: () -> Network
    private let moments: () -> (first: [Float], second: [Float])?
    private var tensors: [String: Tensor] = [:]
    private var indices: [Float] = []
    private var batchSizes: [Float] = []
    private var losses: [Double] = []

    /// - Parameters:
    ///   - initial: the network before the first step.
    ///   - steps: how many steps to record.
    ///   - savedSteps: after which steps (1-based) to store the parameters.
    ///   - network: reads the network being trained.
    ///   - moments: reads the optimizer's first and second moments (nil: not Adam).
    init(initial: Network, steps: Int, savedSteps: [Int], network: @escaping () -> Network,
         moments: @escaping () -> (first: [Float], second: [Float])?) {
        self.steps = steps
        self.savedSteps = Set(savedSteps.filter { $0 >= 1 && $0 <= steps })
        self.network = network
        self.moments = moments
        store(initial, prefix: "initial")
        indices.reserveCapacity(steps * 64)
    }

    /// Records one step (called by `Trainer.stepObserver`).
    func record(indices batch: UnsafeBufferPointer<Int32>, summedLoss: Double) {
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

    /// Writes the trace.
    func write(to url: URL, batchSize: Int, seed: UInt64) throws {
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
