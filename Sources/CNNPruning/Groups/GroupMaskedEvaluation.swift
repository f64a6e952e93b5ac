import CNNEngine

/// Test accuracy of many masked copies of one network that differ only in one channel group,
/// with the layers before the group run once per batch for all of them.
///
/// Masking a group (`Network.masking(_:of:)`) changes only the tensors of its members, so every
/// top-level layer before the first member's layer computes the same values for every copy.
/// Each worker takes a contiguous share of the images and, per batch, runs those layers once,
/// then only the rest of the network per copy. Given the masked units rather than the copies
/// (`correctCounts(masking:on:)`), it shares more where the group has a `GroupResumePoint`: the
/// producer, its BatchNorm and rectifier run once too, and each copy zeroes its channels in
/// their output; where a convolution or linear layer reads them next, it runs once as well, and
/// each copy adds the change its newly masked channels make to that layer's output, on the one
/// masked-evaluation engine the SimpleCNN study uses too (`ConsumerMasking`). The accuracies are
/// those of evaluating every copy in full: exactly (the same operations on the same values), or,
/// past the consumer, up to Float rounding in its sums.
/// The tests check both, prediction for prediction, on networks whose predictions masking flips.
///
/// Measured (`benchmarks/group_sweep.py`, ResNet-20, `layer3.2.conv1`, 16 values of K on the
/// 10,000 test images, 2 threads): the whole `sweep` process took 9.3 s sharing only the layers
/// before the block, 7.6 s also sharing the block's conv1 · bn1 · ReLU, 4.5 s also sharing conv2,
/// 3.6 s running every copy on the unmasked network's parameters (no masked copy per K).
public struct GroupMaskedEvaluation: Sendable {
    /// The unmasked network.
    public let network: Network
    /// The group whose channels are masked.
    public let group: ChannelGroup
    /// The first top-level layer whose tensors the group touches: where the shared prefix ends.
    public let firstAffectedLayer: Int
    /// Workers that split each batch.
    public let threads: Int
    /// Images per forward pass of one worker: the requested number, or fewer when the
    /// workspace would exceed `Evaluator.workspaceBudget`.
    public let batchSize: Int
    /// Where copies given by their masked units start again, when the group has such a point.
    public let resumePoint: GroupResumePoint?
    /// The most floats of per-channel contributions to the consumer's output a worker keeps, to
    /// share them between copies (`ConsumerMasking`); past it each copy's change is computed
    /// when needed, one convolution over the channels it newly masks. By default 16 MB for a
    /// `Linear` consumer and none for a convolution: one convolution per copy over its newly
    /// masked channels costs less than one per channel (measured: a VGG-11 sweep of
    /// `features.22`, 4.4 s against 9.2 s on one thread).
    public let contributionBudget: Int

    /// - Throws: `EngineError.unknownParameter` when a member names no tensor of `network`.
    /// - Parameters:
    ///   - network: the unmasked network.
    ///   - group: the group whose channels are masked.
    ///   - threads: workers, each taking a contiguous share of the images.
    ///   - batchSize: images per pass of one worker (at most).
    ///   - contributionBudget: see `contributionBudget`; `nil` for the default by the consumer.
    public init(network: Network, group: ChannelGroup, threads: Int, batchSize: Int = 100, contributionBudget: Int? = nil) throws {
        let architecture = network.architecture
        var first = architecture.layers.count
        for member in group.members {
            guard let entry = (architecture.parameterEntries + architecture.stateEntries).first(where: { $0.name == member.tensor }) else {
                throw EngineError.unknownParameter(member.tensor)
            }
            first = min(first, entry.layerIndex)
        }
        self.network = network
        self.group = group
        self.firstAffectedLayer = first
        self.threads = max(1, threads)
        let point = GroupResumePoint(group: group, in: architecture)
        self.resumePoint = point
        self.contributionBudget = contributionBudget ?? (point?.consumer?.layer is Linear ? 1 << 22 : 0)
        self.batchSize = Evaluator.batchCapacity(for: point?.architecture ?? architecture, atMost: max(1, batchSize))
    }

    /// Correctly classified images of `data` for each set of `unitSets`: the network with those
    /// units of `group` masked, in order.
    /// - Throws: `RemovalError.unitOutOfRange` for a unit outside the group.
    public func correctCounts<Data: LabeledImages>(masking unitSets: [[Int]], on data: Data) throws -> [Int] {
        guard let point = resumePoint else { return correctCounts(try unitSets.map { try network.masking($0, of: group) }, on: data) }
        for unit in unitSets.joined() where !(0..<group.units).contains(unit) {
            throw RemovalError.unitOutOfRange(unit, layer: group.name, units: group.units, unitName: group.unitName)
        }
        // Past the point no tensor differs between the copies: the unmasked network runs them all.
        let shared = Network(architecture: point.architecture, parameters: network.parameters, state: network.state)
        if point.consumer != nil {
            return try consumerCorrectCounts(point: point, unitSets: unitSets, on: data)
        }
        let units = group.units, plane = point.plane
        return tally(on: data, architecture: point.architecture, copies: unitSets.count, savedCount: batchSize * units * plane, workerState: {}) { workspace, batch, saved, _, score in
            shared.forward(workspace, batch: batch, layers: point.sharedLayers)
            let values = point.storage(in: workspace, batch: batch)
            saved.update(from: values, count: batch * units * plane)
            for v in unitSets.indices {
                values.update(from: saved, count: batch * units * plane)
                for n in 0..<batch {
                    for unit in unitSets[v] { (values + (n * units + unit) * plane).update(repeating: 0, count: plane) }
                }
                point.resume(shared, from: point.place, in: workspace, batch: batch)
                score(v)
            }
        }
    }

    /// `correctCounts(masking:on:)` past the consumer, on the one masked-evaluation engine
    /// (`ConsumerMasking`): per copy, the consumer's unmasked output plus the change of the
    /// channels masked since the copy before it (when its set grows that one's, as a sweep's
    /// nested sets do; else of all its channels, from the unmasked output).
    private func consumerCorrectCounts<Data: LabeledImages>(point: GroupResumePoint, unitSets: [[Int]], on data: Data) throws -> [Int] {
        precondition(data.sampleShape == point.architecture.inputShape, "data shape does not match the network")
        let masking = try ConsumerMasking(network: network, group: group, point: point)
        let sequences = [MaskSequence(masks: unitSets)]
        let parts = max(1, min(threads, data.count))
        let batchSize = self.batchSize, shared = masking.network
        var perWorker = [[Int]](repeating: [Int](repeating: 0, count: unitSets.count), count: parts)
        perWorker.withUnsafeMutableBufferPointer { buffer in
            let results = Unchecked(buffer)
            Parallel.run(parts) { part in
                var indices = [Int32](repeating: 0, count: batchSize)
                results.value[part] = masking.correctCounts(
                    sequences, share: Parallel.slice(data.count, part: part, of: parts), batchSize: batchSize,
                    prepare: { workspace, start, batch in
                        for i in 0..<batch { indices[i] = Int32(start + i) }
                        indices.withUnsafeBufferPointer {
                            data.fillInputs(indices: UnsafeBufferPointer(rebasing: $0[0..<batch]), into: workspace.activation(0))
                        }
                        shared.forward(workspace, batch: batch, layers: point.inputLayers)
                    },
                    label: { data.label(at: $0) }, contributionBudget: self.contributionBudget)[0]
            }
        }
        var total = perWorker[0]
        for worker in perWorker.dropFirst() {
            for v in total.indices { total[v] += worker[v] }
        }
        return total
    }

    /// Correctly classified images of `data` for each network of `variants` (copies of
    /// `network` masked in `group` only), in order.
    public func correctCounts<Data: LabeledImages>(_ variants: [Network], on data: Data) -> [Int] {
        precondition(variants.allSatisfy { $0.parameters.count == network.parameters.count }, "variants must share the network's architecture")
        let architecture = network.architecture
        let first = firstAffectedLayer
        return tally(on: data, architecture: architecture, copies: variants.count, savedCount: 0, workerState: {}) { workspace, batch, _, _, score in
            // The shared prefix; the later layers never write activation(first), so every
            // variant reads the same input there.
            network.forward(workspace, batch: batch, layers: 0..<first)
            for (v, variant) in variants.enumerated() {
                variant.forward(workspace, batch: batch, layers: first..<architecture.layers.count)
                score(v)
            }
        }
    }

    /// Splits `data` into contiguous shares, one per worker, fills each worker's batches of
    /// inputs into its workspace (of `architecture`) and has `runBatch` pass `copies` networks
    /// over each; `runBatch` calls its last argument with a copy's index once that copy's
    /// outputs are in the workspace, and gets `savedCount` floats of its own to keep values in,
    /// and what `workerState` made for its worker (buffers allocated once, not per batch).
    private func tally<Data: LabeledImages, State>(
        on data: Data, architecture: Sequential, copies: Int, savedCount: Int, workerState: () -> State,
        runBatch: (Workspace, Int, UnsafeMutablePointer<Float>, State, (Int) -> Void) -> Void
    ) -> [Int] {
        precondition(data.sampleShape == architecture.inputShape, "data shape does not match the network")
        let classes = architecture.outputShape.reduce(1, *)
        let parts = max(1, min(threads, data.count))
        let batchSize = self.batchSize
        var perWorker = [[Int]](repeating: [Int](repeating: 0, count: copies), count: parts)
        perWorker.withUnsafeMutableBufferPointer { buffer in
            let results = Unchecked(buffer)
            Parallel.run(parts) { part in
                let share = Parallel.slice(data.count, part: part, of: parts)
                let workspace = Workspace(architecture: architecture, batchCapacity: batchSize, training: false)
                let saved = UnsafeMutablePointer<Float>.allocate(capacity: max(1, savedCount))
                defer { saved.deallocate() }
                let state = workerState()
                var indices = [Int32](repeating: 0, count: batchSize)
                var correct = [Int](repeating: 0, count: copies)
                for start in stride(from: share.lowerBound, to: share.upperBound, by: batchSize) {
                    let batch = min(batchSize, share.upperBound - start)
                    for i in 0..<batch { indices[i] = Int32(start + i) }
                    indices.withUnsafeBufferPointer {
                        data.fillInputs(indices: UnsafeBufferPointer(rebasing: $0[0..<batch]), into: workspace.activation(0))
                    }
                    runBatch(workspace, batch, saved, state) { v in
                        let output = workspace.output
                        for n in 0..<batch {
                            let row = output + n * classes
                            var best = 0
                            for j in 1..<classes where row[j] > row[best] { best = j }
                            if best == data.label(at: start + n) { correct[v] += 1 }
                        }
                    }
                }
                results.value[part] = correct
            }
        }
        var total = perWorker[0]
        for worker in perWorker.dropFirst() {
            for v in total.indices { total[v] += worker[v] }
        }
        return total
    }
}
