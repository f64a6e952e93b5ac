import CNNEngine

/// The one loop behind every calibration: `network` run over `data`, each worker on a
/// contiguous share of the images in batches with its own `Workspace`, and, with `gradients`,
/// the backward pass of each image's cross-entropy loss. What is gathered is the caller's:
/// each worker fills its own copy of `empty`, and the copies are merged in worker order, so
/// that a thread count gives the same sums every time.
enum CalibrationPass {
    /// Runs the pass and returns the merged statistics.
    /// - Parameters:
    ///   - network: the network to run (inference mode: BatchNorm's running statistics).
    ///   - data: the calibration images.
    ///   - forwardLayers: the top-level layers the forward pass needs (all of them with gradients).
    ///   - gradients: also run the backward pass (cross-entropy against the labels).
    ///   - threads: workers, each taking a contiguous share of the images.
    ///   - batchSize: images per forward pass of one worker.
    ///   - empty: the statistics before any image, one per point gathered.
    ///   - afterForward: gathers from a worker's workspace after the forward pass of a batch of
    ///     `batch` images.
    ///   - afterBackward: gathers after the backward pass (only with `gradients`).
    static func run<Data: LabeledImages>(
        _ network: Network, on data: Data, forwardLayers: Int, gradients: Bool, threads: Int, batchSize: Int,
        empty: [UnitStatistics],
        afterForward: (_ workspace: Workspace, _ batch: Int, _ statistics: inout [UnitStatistics]) -> Void,
        afterBackward: (_ workspace: Workspace, _ batch: Int, _ statistics: inout [UnitStatistics]) -> Void = { _, _, _ in }
    ) -> [UnitStatistics] {
        precondition(data.sampleShape == network.architecture.inputShape, "data shape does not match the network")
        let architecture = network.architecture
        let layerCount = architecture.layers.count
        let classes = architecture.outputShape.reduce(1, *)
        let parts = max(1, min(threads, data.count))
        var results = [[UnitStatistics]](repeating: empty, count: parts)
        results.withUnsafeMutableBufferPointer { buffer in
            let results = Unchecked(buffer)
            Parallel.run(parts) { part in
                let share = Parallel.slice(data.count, part: part, of: parts)
                let workspace = Workspace(architecture: architecture, batchCapacity: batchSize, training: gradients)
                var indices = [Int32](repeating: 0, count: batchSize)
                var mine = empty
                for start in stride(from: share.lowerBound, to: share.upperBound, by: batchSize) {
                    let batch = min(batchSize, share.upperBound - start)
                    for i in 0..<batch { indices[i] = Int32(start + i) }
                    indices.withUnsafeBufferPointer {
                        data.fillInputs(indices: UnsafeBufferPointer(rebasing: $0[0..<batch]), into: workspace.activation(0))
                    }
                    network.forward(workspace, batch: batch, layers: 0..<forwardLayers)
                    afterForward(workspace, batch, &mine)
                    guard gradients else { continue }
                    for i in 0..<batch { workspace.labels[i] = Int32(data.label(at: start + i)) }
                    _ = SoftmaxCrossEntropy.loss(logits: workspace.output, labels: workspace.labels, batch: batch,
                                                 classes: classes, gradientScale: 1, gradient: workspace.activationGradient(layerCount))
                    network.backward(workspace, batch: batch)
                    afterBackward(workspace, batch, &mine)
                }
                results.value[part] = mine
            }
        }
        var total = results[0]
        for part in results.dropFirst() {
            for j in total.indices { total[j].merge(part[j]) }
        }
        return total
    }
}
