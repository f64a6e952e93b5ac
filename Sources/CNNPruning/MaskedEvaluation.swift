import CNNEngine

/// The units switched off at each point of a sweep, and whether their biases stay.
public struct MaskSequence: Sendable, Equatable {
    /// For each point, the masked units of the layer.
    public var masks: [[Int]]
    /// Zero the weights only (the exercise's way) instead of weights and bias.
    public var keepBias: Bool

    /// Masks `masks[i]` at point `i`; `keepBias` keeps the biases of masked units.
    public init(masks: [[Int]], keepBias: Bool = false) {
        self.masks = masks
        self.keepBias = keepBias
    }

    /// The nested masks of a rank-once sweep: for each `k` of `counts`, the first `k` units of
    /// `ranking` (least important first).
    public static func nested(ranking: [Int], counts: [Int], keepBias: Bool = false) -> MaskSequence {
        MaskSequence(masks: counts.map { Array(ranking.prefix($0)) }, keepBias: keepBias)
    }
}

/// Test accuracy of a network with units of one layer masked, for many masks, without running
/// the whole network again for each: the SimpleCNN study's policy (a cache shared between
/// calls, statistics gathered on the way, biases kept on request) over the masked-evaluation
/// engine of channel groups — a layer is a channel group with one producer, resumed at its
/// consumer (`GroupResumePoint`).
///
/// Masking unit `u` of the layer replaces its slice of the consumer's input (the next weighted
/// layer's input, after ReLU, pooling and flatten) by a constant `v` (0, or the rectified bias
/// when the bias is kept). The consumer is linear, so its pre-activation changes by the
/// consumer applied to `v − x_u` on that slice alone. So `correctCounts(_:)` takes the images
/// batch by batch and, for each batch:
///
/// 1. runs the layers before the consumer once (or reads their output from a cache, see below);
/// 2. computes each unit's contribution to the consumer's pre-activation (for a `conv2`
///    channel: its 64 inputs × `fc1`'s 256 outputs; together one pass of `fc1`);
/// 3. for every point of every sequence, subtracts the contributions of the newly masked units,
///    adds their constant's share, and runs only the layers after the consumer (for `conv2`:
///    ReLU and `fc2`). A `Conv2D` consumer (masking `conv1`) instead runs once per batch and
///    one small one-channel convolution per newly masked unit.
///
/// The consumer's input is cached for all images when it fits in `cacheLimit` bytes (82 MB for
/// `conv2` on 10,000 test images), so that several calls — a sweep, then a sensitivity
/// analysis — and the statistics gathered in `init` share one pass of the expensive layers;
/// otherwise each call recomputes it per batch.
///
/// The accuracies equal those of evaluating each masked copy in full (`Network.masking`) up to
/// Float rounding in the consumer's sums, which the tests check prediction for prediction.
public final class MaskedEvaluation: @unchecked Sendable {
    /// The unmasked network.
    public let network: Network
    /// The layer whose units are masked.
    public let layer: PrunableLayer
    /// Images evaluated.
    public let sampleCount: Int
    /// The layer's statistics on the evaluation images, when gathered in `init`.
    public let statistics: UnitStatistics?
    /// Workers that split each batch.
    public let threads: Int
    /// Images per forward pass of one worker.
    public let batchSize: Int
    /// Whether the consumer's input is cached (else recomputed per batch by each call).
    public var isCached: Bool { cache != nil }

    /// Writes a batch of images (from index `start`) into `activation(layer)` of a workspace.
    typealias Source = (_ workspace: Workspace, _ start: Int, _ batch: Int, _ indices: UnsafeMutableBufferPointer<Int32>) -> Void

    private let labels: [Int32]
    private let inputCount: Int
    /// The engine: the layer's channel group, resumed at its consumer.
    private let masking: ConsumerMasking
    private let cache: UnsafeMutablePointer<Float>?
    private let source: Source
    /// The activation `source` fills.
    private let sourceActivation: Int

    /// The default cache budget, 128 MiB.
    public static let defaultCacheLimit = 128 << 20

    /// Prepares the evaluation of `layer`'s masks on `data`.
    /// - Parameters:
    ///   - network: the trained network.
    ///   - layer: the layer whose units will be masked.
    ///   - data: the evaluation images (the test set).
    ///   - threads: workers, each taking a contiguous share of the images.
    ///   - collectStatistics: also gather `layer`'s `UnitStatistics` on these images (for a
    ///     ranking on the evaluation data, as the exercise does); with a cache this costs no
    ///     extra pass.
    ///   - batchSize: images per forward pass of one worker.
    ///   - cacheLimit: the most bytes to spend on caching the consumer's input.
    public convenience init<Data: LabeledImages>(network: Network, layer: PrunableLayer, data: Data, threads: Int,
                                                 collectStatistics: Bool = false, batchSize: Int = 32,
                                                 cacheLimit: Int = MaskedEvaluation.defaultCacheLimit) {
        precondition(data.sampleShape == network.architecture.inputShape, "data shape does not match the network")
        self.init(network: network, layer: layer, labels: (0..<data.count).map { Int32(data.label(at: $0)) },
                  threads: threads, collectStatistics: collectStatistics, batchSize: batchSize, cacheLimit: cacheLimit,
                  sourceActivation: 0) { workspace, start, batch, indices in
            for i in 0..<batch { indices[i] = Int32(start + i) }
            data.fillInputs(indices: UnsafeBufferPointer(rebasing: indices[0..<batch]), into: workspace.activation(0))
        }
    }

    /// Continues from another evaluation of the same network and images whose consumer comes
    /// no later than `layer`'s (e.g. `fc1` from `conv2`'s, whose consumer input is `fc1`'s
    /// input): with `base` cached, only the layers in between run.
    public convenience init(continuing base: MaskedEvaluation, layer: PrunableLayer, collectStatistics: Bool = false,
                            cacheLimit: Int = MaskedEvaluation.defaultCacheLimit) {
        precondition(base.layer.consumerIndex < layer.outputActivation && layer.consumerIndex >= base.layer.consumerIndex,
                     "\(layer.name) cannot continue from \(base.layer.name)'s evaluation")
        let source: Source
        let sourceActivation: Int
        if base.cache != nil {
            source = { workspace, start, batch, _ in
                let count = base.inputCount
                workspace.activation(base.layer.consumerIndex).update(from: base.cache! + start * count, count: batch * count)
            }
            sourceActivation = base.layer.consumerIndex
        } else {
            source = base.source
            sourceActivation = base.sourceActivation
        }
        self.init(network: base.network, layer: layer, labels: base.labels, threads: base.threads, collectStatistics: collectStatistics,
                  batchSize: base.batchSize, cacheLimit: cacheLimit, sourceActivation: sourceActivation, source: source)
    }

    private init(network: Network, layer: PrunableLayer, labels: [Int32], threads: Int, collectStatistics: Bool,
                 batchSize: Int, cacheLimit: Int, sourceActivation: Int, source: @escaping Source) {
        let architecture = network.architecture
        let consumer = layer.consumerIndex
        let count = labels.count
        self.network = network
        self.layer = layer
        self.sampleCount = count
        self.threads = max(1, min(threads, max(count, 1)))
        self.batchSize = batchSize
        self.labels = labels
        self.source = source
        self.sourceActivation = sourceActivation
        let inputCount = architecture.shapes[consumer].reduce(1, *)
        self.inputCount = inputCount
        // A layer is a channel group with one producer; its resume point is the consumer's input.
        guard let group = try? ChannelGroups(architecture).group(named: layer.name),
              let point = GroupResumePoint(group: group, in: architecture), point.place == .activation(consumer),
              let masking = try? ConsumerMasking(network: network, group: group, point: point,
                                                 fills: (0..<layer.unitCount).map { point.fill(bias: network.bias($0, of: layer)) ?? 0 }) else {
            preconditionFailure("\(layer.name) has no channel group resumed at its consumer")
        }
        self.masking = masking
        let caching = count * inputCount * MemoryLayout<Float>.size <= cacheLimit
        let cache = caching ? UnsafeMutablePointer<Float>.allocate(capacity: max(1, count * inputCount)) : nil
        self.cache = cache
        guard caching || collectStatistics else {
            statistics = nil
            return
        }

        // One pass of the layers before the consumer: fill the cache, gather the statistics.
        let parts = self.threads
        let empty = UnitStatistics(units: layer.unitCount, positionsPerUnit: layer.positionsPerUnit, withGradients: false)
        var gathered = [UnitStatistics](repeating: empty, count: parts)
        let output = Unchecked(cache)
        let last = caching ? consumer : layer.outputActivation
        gathered.withUnsafeMutableBufferPointer { buffer in
            let gathered = Unchecked(buffer)
            Parallel.run(parts) { part in
                let share = Parallel.slice(count, part: part, of: parts)
                let workspace = Workspace(architecture: architecture, batchCapacity: batchSize, training: false)
                var indices = [Int32](repeating: 0, count: batchSize)
                var statistics = empty
                for start in stride(from: share.lowerBound, to: share.upperBound, by: batchSize) {
                    let batch = min(batchSize, share.upperBound - start)
                    indices.withUnsafeMutableBufferPointer { source(workspace, start, batch, $0) }
                    network.forward(workspace, batch: batch, layers: sourceActivation..<last)
                    if let cache = output.value {
                        (cache + start * inputCount).update(from: workspace.activation(consumer), count: batch * inputCount)
                    }
                    if collectStatistics {
                        statistics.add(batch: batch, preActivations: workspace.activation(layer.outputActivation))
                    }
                }
                gathered.value[part] = statistics
            }
        }
        if collectStatistics {
            var total = gathered[0]
            for part in gathered.dropFirst() { total.merge(part) }
            statistics = total
        } else {
            statistics = nil
        }
    }

    deinit { cache?.deallocate() }

    /// The number of correctly classified images for every mask of every sequence, aligned with
    /// `sequences[s].masks[i]`.
    ///
    /// Consecutive masks that grow (nested sets) are evaluated incrementally; a mask that drops
    /// a unit of the one before starts again from the unmasked network.
    public func correctCounts(_ sequences: [MaskSequence]) -> [[Int]] {
        for sequence in sequences {
            for mask in sequence.masks {
                precondition(mask.allSatisfy { (0..<layer.unitCount).contains($0) }, "mask \(mask) out of range for \(layer.name)")
            }
        }
        let parts = threads
        var perWorker = [[[Int]]](repeating: sequences.map { [Int](repeating: 0, count: $0.masks.count) }, count: parts)
        let c = layer.consumerIndex, inputCount = self.inputCount
        let (cache, source, sourceActivation, labels) = (self.cache, self.source, self.sourceActivation, self.labels)
        let network = masking.network
        perWorker.withUnsafeMutableBufferPointer { buffer in
            let results = Unchecked(buffer)
            Parallel.run(parts) { part in
                var indices = [Int32](repeating: 0, count: self.batchSize)
                results.value[part] = self.masking.correctCounts(
                    sequences, share: Parallel.slice(self.sampleCount, part: part, of: parts), batchSize: self.batchSize,
                    prepare: { workspace, start, batch in
                        if let cache {
                            workspace.activation(c).update(from: cache + start * inputCount, count: batch * inputCount)
                        } else {
                            indices.withUnsafeMutableBufferPointer { source(workspace, start, batch, $0) }
                            network.forward(workspace, batch: batch, layers: sourceActivation..<c)
                        }
                    },
                    label: { Int(labels[$0]) })
            }
        }
        var total = perWorker[0]
        for worker in perWorker.dropFirst() {
            for s in total.indices { for i in total[s].indices { total[s][i] += worker[s][i] } }
        }
        return total
    }

    /// Accuracy in percent for a number of correct predictions.
    public func accuracy(correct: Int) -> Double {
        sampleCount == 0 ? 0 : 100 * Double(correct) / Double(sampleCount)
    }
}
