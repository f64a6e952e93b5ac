/// Classification results on a labelled set.
public struct Evaluation: Sendable {
    /// Samples predicted right.
    public var correct: Int
    /// Samples evaluated.
    public var total: Int
    /// Per class: samples labelled with it, and how many of those were predicted right.
    public var perClassTotal: [Int]
    /// Per class: how many of its samples were predicted right.
    public var perClassCorrect: [Int]
    /// The predicted class of every sample, in data order.
    public var predictions: [Int32]
    /// The network's outputs per sample (`classes` logits each, sample after sample) when the
    /// evaluation collected them (`collectingLogits: true`), else empty.
    public var logits: [Float] = []
    /// The network's output count.
    public var classes: Int = 0

    /// Accuracy in percent.
    public var accuracy: Double { total == 0 ? 0 : 100 * Double(correct) / Double(total) }

    /// Accuracy of class `label` in percent.
    public func accuracy(ofClass label: Int) -> Double {
        perClassTotal[label] == 0 ? 0 : 100 * Double(perClassCorrect[label]) / Double(perClassTotal[label])
    }
}

/// Evaluates networks on labelled images in parallel batches, with preallocated workspaces
/// reused across calls for the same architecture.
public final class Evaluator {
    /// Workers that split each batch.
    public let threads: Int
    /// Images per batch, across all workers.
    public let batchSize: Int
    /// The most bytes of activations one worker's inference workspace may take (32 MiB): a wide
    /// network evaluates in smaller batches (its results do not depend on the batch) rather than
    /// hold a training-sized batch of every layer's output on top of the trainer's buffers.
    public static let workspaceBudget = 32 << 20
    private var workspaces: [Workspace] = []
    /// Samples per parallel step: `batchSize`, or fewer when the workspaces' budget says so.
    private var stepSize = 1
    /// What the workspaces were sized for (nil before the first evaluation): a network with
    /// other requirements gets new ones.
    public var requirements: Workspace.Requirements? { workspaces.first?.requirements }
    /// Whether `evaluate` runs the network with its BatchNorms folded into the convolutions
    /// before them (`BatchNormFolding`), as a deployed model runs: faster, and equal to the
    /// unfolded network up to Float round-off in the logits; its ReLUs and 2×2 max-pools fused
    /// into the convolutions before them where those can run them (in networks without
    /// BatchNorm too).
    public let foldsBatchNorm: Bool

    /// - Parameters:
    ///   - threads: workers, each taking a share of every batch.
    ///   - batchSize: samples per batch across all workers.
    ///   - foldsBatchNorm: fold BatchNorms, ReLUs and max-pools into convolutions for the pass
    ///     (see the property).
    public init(threads: Int, batchSize: Int = 128, foldsBatchNorm: Bool = true) {
        self.threads = max(1, threads)
        self.batchSize = max(batchSize, self.threads)
        self.foldsBatchNorm = foldsBatchNorm
    }

    /// Predicts every sample of `data` and counts the correct ones.
    /// - Parameters:
    ///   - network: the network to evaluate, in inference mode (its BatchNorms folded first
    ///     when `foldsBatchNorm`).
    ///   - data: the labelled images.
    ///   - collectingLogits: also keep every sample's logits (`Evaluation.logits`, one
    ///     N × classes array allocated once; workers copy their rows into it).
    public func evaluate<Data: LabeledImages>(_ network: Network, on data: Data, collectingLogits: Bool = false) -> Evaluation {
        let network = foldsBatchNorm ? network.foldingBatchNorm : network
        prepare(for: network.architecture)
        BLAS.setThreadCount(1)
        let classes = network.architecture.outputShape.reduce(1, *)
        var predictions = [Int32](repeating: 0, count: data.count)
        var indices = (0..<Int32(data.count)).map { $0 }
        var logits = [Float](repeating: 0, count: collectingLogits ? data.count * classes : 0)
        let perWorker = workspaces[0].batchCapacity
        let workspaces = self.workspaces, threads = self.threads, batchSize = self.stepSize
        predictions.withUnsafeMutableBufferPointer { predictionBuffer in
          logits.withUnsafeMutableBufferPointer { logitBuffer in
            indices.withUnsafeMutableBufferPointer { indexBuffer in
                let predicted = UncheckedSendable(predictionBuffer.baseAddress!)
                let logitRows = UncheckedSendable(logitBuffer.baseAddress)
                let all = UncheckedSendable(indexBuffer.baseAddress!)
                // One closure for all batches (no allocation per batch); `start` says which batch.
                var start = 0
                let total = data.count
                withUnsafeMutablePointer(to: &start) { startPointer in
                    let current = UncheckedSendable(startPointer)
                    let work: (Int) -> Void = { worker in
                        let start = current.value.pointee
                        let batch = min(batchSize, total - start)
                        let parts = min(threads, batch)
                        let range = Parallel.slice(batch, part: worker, of: parts)
                        let workspace = workspaces[worker]
                        precondition(range.count <= perWorker)
                        let slice = UnsafeBufferPointer(start: all.value + start + range.lowerBound, count: range.count)
                        data.fillInputs(indices: slice, into: workspace.activation(0))
                        network.forward(workspace, batch: range.count)
                        for i in 0..<range.count {
                            predicted.value[start + range.lowerBound + i] = Int32(argmax(workspace.output + i * classes, count: classes))
                        }
                        if collectingLogits {
                            (logitRows.value! + (start + range.lowerBound) * classes).update(from: workspace.output, count: range.count * classes)
                        }
                    }
                    while current.value.pointee < total {
                        Parallel.runPrebuilt(min(threads, total - current.value.pointee), work)
                        current.value.pointee += batchSize
                    }
                }
            }
          }
        }
        var perClassTotal = [Int](repeating: 0, count: data.classNames.count)
        var perClassCorrect = perClassTotal
        var correct = 0
        for i in 0..<data.count {
            let label = data.label(at: i)
            perClassTotal[label] += 1
            if Int(predictions[i]) == label { correct += 1; perClassCorrect[label] += 1 }
        }
        return Evaluation(correct: correct, total: data.count, perClassTotal: perClassTotal,
                          perClassCorrect: perClassCorrect, predictions: predictions, logits: logits, classes: classes)
    }

    /// The samples one worker's inference workspace for `architecture` holds within
    /// `workspaceBudget`: `atMost`, or fewer for a wide network (at least 1).
    public static func batchCapacity(for architecture: Sequential, atMost: Int) -> Int {
        // Floats per sample in an inference workspace: every activation, per-sample scratch, transient.
        var perSample = architecture.layers.map(\.transientPerSample).max() ?? 0
        for shape in architecture.shapes { perSample += shape.reduce(1, *) }
        for layer in architecture.layers { perSample += layer.scratchPerSample }
        return max(1, min(atMost, workspaceBudget / max(1, 4 * perSample)))
    }

    private func prepare(for architecture: Sequential) {
        guard Workspace.Requirements(architecture) != requirements else { return }
        let perWorker = Evaluator.batchCapacity(for: architecture, atMost: (batchSize + threads - 1) / threads)
        stepSize = min(batchSize, perWorker * threads)
        workspaces = (0..<threads).map { _ in Workspace(architecture: architecture, batchCapacity: perWorker, training: false) }
    }
}

/// The index of the largest of `count` values (the first on ties, as PyTorch's argmax).
@inline(__always)
func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for j in 1..<count where values[j] > values[best] { best = j }
    return best
}
