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
/// the whole network again for each.
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
        let consumer = Consumer(network: network, layer: layer)
        perWorker.withUnsafeMutableBufferPointer { buffer in
            let results = Unchecked(buffer)
            Parallel.run(parts) { part in
                results.value[part] = self.evaluate(sequences, share: Parallel.slice(self.sampleCount, part: part, of: parts), consumer: consumer)
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

    private func evaluate(_ sequences: [MaskSequence], share: Range<Int>, consumer: Consumer) -> [[Int]] {
        let architecture = network.architecture
        let c = layer.consumerIndex
        let layerCount = architecture.layers.count
        let zCount = architecture.shapes[c + 1].reduce(1, *)
        let classes = architecture.outputShape.reduce(1, *)
        let units = layer.unitCount
        let workspace = Workspace(architecture: architecture, batchCapacity: batchSize, training: false)
        let deltaWorkspace = consumer.deltaArchitecture.map { Workspace(architecture: $0, batchCapacity: batchSize, training: false) }
        let unmasked = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * zCount)
        defer { unmasked.deallocate() }
        // Each unit's contribution to the consumer's pre-activation, computed at most once per
        // batch and shared by all sequences (when it fits in 16 MB per worker).
        let sharing = units * batchSize * zCount <= 1 << 22
        let contributions = UnsafeMutablePointer<Float>.allocate(capacity: sharing ? units * batchSize * zCount : 1)
        defer { contributions.deallocate() }
        var computed = [Bool](repeating: false, count: units)
        let z = workspace.activation(c + 1)
        let input = workspace.activation(c)
        let biases = (0..<units).map { network.bias($0, of: layer) }
        var counts = sequences.map { [Int](repeating: 0, count: $0.masks.count) }
        var indices = [Int32](repeating: 0, count: batchSize)
        network.parameters.withUnsafeBufferPointer { parameters in
            for start in stride(from: share.lowerBound, to: share.upperBound, by: batchSize) {
                let batch = min(batchSize, share.upperBound - start)
                if let cache {
                    input.update(from: cache + start * inputCount, count: batch * inputCount)
                } else {
                    indices.withUnsafeMutableBufferPointer { source(workspace, start, batch, $0) }
                    network.forward(workspace, batch: batch, layers: sourceActivation..<c)
                }
                for u in 0..<units { computed[u] = false }
                if sharing, let bias = consumer.linearBiasOffset {
                    // All units' contributions at once, and the unmasked pre-activation as their
                    // sum plus the bias: one pass of the consumer instead of two.
                    for j in 0..<zCount { z[j] = parameters[bias + j] }
                    for n in 1..<max(batch, 1) { (z + n * zCount).update(from: z, count: zCount) }
                    for u in 0..<units {
                        let contribution = contributions + u * batchSize * zCount
                        consumer.contribution(of: u, batch: batch, input: input, inputCount: inputCount, zCount: zCount,
                                              parameters: parameters.baseAddress!, into: contribution, workspace: deltaWorkspace)
                        computed[u] = true
                        for i in 0..<(batch * zCount) { z[i] += contribution[i] }
                    }
                } else {
                    network.forward(workspace, batch: batch, layers: c..<(c + 1))
                }
                unmasked.update(from: z, count: batch * zCount)
                for (s, sequence) in sequences.enumerated() {
                    var current = Set<Int>()
                    z.update(from: unmasked, count: batch * zCount)
                    for (i, mask) in sequence.masks.enumerated() {
                        let target = Set(mask)
                        if !current.isSubset(of: target) {
                            z.update(from: unmasked, count: batch * zCount)
                            current = []
                        }
                        for unit in target.subtracting(current).sorted() {
                            let contribution = contributions + unit * batchSize * zCount
                            if sharing && !computed[unit] {
                                consumer.contribution(of: unit, batch: batch, input: input, inputCount: inputCount, zCount: zCount,
                                                      parameters: parameters.baseAddress!, into: contribution, workspace: deltaWorkspace)
                                computed[unit] = true
                            }
                            let constant = layer.maskedOutput(bias: biases[unit], keepBias: sequence.keepBias)
                            consumer.addMaskingDelta(unit: unit, constant: constant, batch: batch, input: input, inputCount: inputCount,
                                                     into: z, zCount: zCount, parameters: parameters.baseAddress!,
                                                     contribution: sharing ? UnsafePointer(contribution) : nil, workspace: deltaWorkspace)
                        }
                        current = target
                        if c + 1 < layerCount {
                            network.forward(workspace, batch: batch, layers: (c + 1)..<layerCount)
                        }
                        let logits = workspace.output
                        var correct = 0
                        for n in 0..<batch {
                            let row = logits + n * classes
                            var best = 0
                            for j in 1..<classes where row[j] > row[best] { best = j }
                            if Int32(best) == labels[start + n] { correct += 1 }
                        }
                        counts[s][i] += correct
                    }
                }
            }
        }
        return counts
    }
}

/// How masking one unit changes the consumer's pre-activation `z`.
///
/// The consumer is linear in its input, so replacing unit `u`'s slice `x_u` of the input by a
/// constant `v` changes `z` by `consumer(v − x_u)` on that slice alone: `v · (row sums of W_u)
/// − x_u · W_uᵀ` for a `Linear` consumer (`W_u` the unit's columns), a one-channel convolution
/// of `v − x_u` with the unit's kernels for a `Conv2D` consumer (padding stays 0 either way).
private struct Consumer: @unchecked Sendable {
    enum Kind {
        case linear(weightOffset: Int, inputCount: Int, rowSums: [Float])
        case convolution(networks: [Network])
    }

    let kind: Kind
    let featuresPerUnit: Int
    let deltaArchitecture: Sequential?
    /// Where a `Linear` consumer's bias starts in the parameters; `nil` for a convolution.
    let linearBiasOffset: Int?

    init(network: Network, layer: PrunableLayer) {
        let architecture = network.architecture
        let c = layer.consumerIndex
        featuresPerUnit = layer.consumerFeaturesPerUnit
        let weight = architecture.parameterEntries.first { $0.layerIndex == c && $0.name.hasSuffix(".weight") }!
        if let conv = architecture.layers[c] as? Conv2D {
            let shape = architecture.shapes[c]
            let delta = try! Sequential(inputShape: [1, shape[1], shape[2]]) {
                Conv2D(name: "delta", inputChannels: 1, outputChannels: conv.outputChannels,
                       kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding)
            }
            let kernel = conv.kernelSize * conv.kernelSize
            let networks = (0..<layer.unitCount).map { unit -> Network in
                var values = [Float](repeating: 0, count: delta.parameterCount)
                for o in 0..<conv.outputChannels {
                    let source = weight.offset + (o * conv.inputChannels + unit) * kernel
                    for t in 0..<kernel { values[o * kernel + t] = network.parameters[source + t] }
                }
                return Network(architecture: delta, parameters: values)
            }
            kind = .convolution(networks: networks)
            deltaArchitecture = delta
            linearBiasOffset = nil
        } else {
            let outputs = weight.shape[0], inputs = weight.shape[1]
            var sums = [Float](repeating: 0, count: layer.unitCount * outputs)
            for unit in 0..<layer.unitCount {
                for j in 0..<outputs {
                    var s = 0.0
                    let row = weight.offset + j * inputs + unit * featuresPerUnit
                    for p in 0..<featuresPerUnit { s += Double(network.parameters[row + p]) }
                    sums[unit * outputs + j] = Float(s)
                }
            }
            kind = .linear(weightOffset: weight.offset, inputCount: inputs, rowSums: sums)
            deltaArchitecture = nil
            linearBiasOffset = architecture.parameterEntries.first { $0.layerIndex == c && $0.name.hasSuffix(".bias") }!.offset
        }
    }

    /// Writes unit `unit`'s contribution to `z` into `output` (`batch × zCount`): `x_u · W_uᵀ`
    /// for a `Linear` consumer, the convolution of `−x_u` for a `Conv2D` one — what masking the
    /// unit subtracts, apart from the constant's share.
    func contribution(of unit: Int, batch: Int, input: UnsafeMutablePointer<Float>, inputCount: Int, zCount: Int,
                      parameters: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, workspace: Workspace?) {
        let features = featuresPerUnit
        switch kind {
        case .linear(let weightOffset, let inputs, _):
            BLAS.gemm(transposeA: false, transposeB: true, m: batch, n: zCount, k: features,
                      a: input + unit * features, lda: inputCount,
                      b: parameters + weightOffset + unit * features, ldb: inputs,
                      beta: 0, c: output, ldc: zCount)
        case .convolution:
            convolve(unit: unit, constant: 0, batch: batch, input: input, inputCount: inputCount, workspace: workspace!)
            output.update(from: workspace!.output, count: batch * zCount)
        }
    }

    /// Adds to `z` (the consumer's pre-activations of `batch` images) the change from replacing
    /// unit `unit`'s slice of `input` by `constant`, using the unit's `contribution` when given.
    func addMaskingDelta(unit: Int, constant: Float, batch: Int, input: UnsafeMutablePointer<Float>, inputCount: Int,
                         into z: UnsafeMutablePointer<Float>, zCount: Int, parameters: UnsafePointer<Float>,
                         contribution: UnsafePointer<Float>?, workspace: Workspace?) {
        let features = featuresPerUnit
        switch kind {
        case .linear(let weightOffset, let inputs, let rowSums):
            if let contribution {
                for i in 0..<(batch * zCount) { z[i] -= contribution[i] }
            } else {
                BLAS.gemm(transposeA: false, transposeB: true, m: batch, n: zCount, k: features, alpha: -1,
                          a: input + unit * features, lda: inputCount,
                          b: parameters + weightOffset + unit * features, ldb: inputs,
                          beta: 1, c: z, ldc: zCount)
            }
            if constant != 0 {
                rowSums.withUnsafeBufferPointer { sums in
                    let s = sums.baseAddress! + unit * zCount
                    for n in 0..<batch {
                        let row = z + n * zCount
                        for j in 0..<zCount { row[j] += constant * s[j] }
                    }
                }
            }
        case .convolution:
            // The contribution of −x_u plus the constant's is one convolution of v − x_u.
            if let contribution, constant == 0 {
                for i in 0..<(batch * zCount) { z[i] += contribution[i] }
                return
            }
            convolve(unit: unit, constant: constant, batch: batch, input: input, inputCount: inputCount, workspace: workspace!)
            let change = workspace!.output
            for i in 0..<(batch * zCount) { z[i] += change[i] }
        }
    }

    /// Runs the unit's one-channel convolution over `constant − x_u` into `workspace.output`.
    private func convolve(unit: Int, constant: Float, batch: Int, input: UnsafeMutablePointer<Float>, inputCount: Int, workspace: Workspace) {
        guard case .convolution(let networks) = kind else { return }
        let features = featuresPerUnit
        let delta = workspace.activation(0)
        for n in 0..<batch {
            let source = input + n * inputCount + unit * features
            let target = delta + n * features
            for p in 0..<features { target[p] = constant - source[p] }
        }
        networks[unit].forward(workspace, batch: batch)
    }
}
