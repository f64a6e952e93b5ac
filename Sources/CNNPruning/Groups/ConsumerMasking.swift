import CNNEngine

/// The one engine behind every masked sweep: the accuracy of many copies of a network that
/// differ only in which channels of one group are masked, each copy costing the layers past the
/// group's consumer and a product over its newly masked channels — not a whole forward pass.
///
/// The group needs a `GroupResumePoint` with a consumer (a `Conv2D` or `Linear` right after the
/// chain that carries the channels). Masking unit `u` replaces its slice `x_u` of the
/// consumer's input by a constant `v` (0, or with the bias kept `GroupResumePoint.fill(bias:)`).
/// The consumer is linear, so its pre-activation changes by the consumer applied to `v − x_u`
/// on that slice alone. Per batch, the unmasked network runs once up to the consumer's input
/// (`prepare`), then the consumer's output is computed once — for a `Linear` consumer as the
/// sum of every unit's contribution plus the bias, the contributions kept (when they fit in
/// 16 MB per worker) and shared by every sequence — and for every mask of every sequence only
/// the newly masked units' changes are added and the layers past the consumer run. Masks that
/// grow (a sweep's nested sets) are evaluated incrementally; a mask that drops a unit of the one
/// before starts again from the unmasked output.
///
/// The accuracies equal those of evaluating every masked copy in full up to Float rounding in
/// the consumer's sums; the tests check them prediction for prediction. The SimpleCNN study
/// (`MaskedEvaluation`) and the channel-group sweeps (`GroupMaskedEvaluation`) both run here.
struct ConsumerMasking: @unchecked Sendable {
    /// Runs the copies: the unmasked parameters on the resume point's architecture.
    let network: Network
    let point: GroupResumePoint
    let consumer: GroupResumePoint.Consumer
    let delta: ConsumerDelta
    let units: Int
    /// Per-sample values at the resume point and at the consumer's output.
    let inputCount: Int, zCount: Int
    /// Per unit, the constant a masked unit with its bias kept carries; `nil` when not known.
    let fills: [Float]?

    /// - Parameters:
    ///   - network: the unmasked network (its parameters; it runs on `point.architecture`).
    ///   - group: the group whose channels are masked.
    ///   - point: the group's resume point; it must have a consumer.
    ///   - fills: per unit, the constant a masked unit carries with its bias kept (needed only
    ///     for sequences with `keepBias`).
    init(network: Network, group: ChannelGroup, point: GroupResumePoint, fills: [Float]? = nil) throws {
        guard let consumer = point.consumer else {
            throw PruningError.notPrunable(group.name, reason: "no convolution or linear layer reads its channels right after them")
        }
        self.network = Network(architecture: point.architecture, parameters: network.parameters, state: network.state)
        self.point = point
        self.consumer = consumer
        self.units = group.units
        self.inputCount = point.channelShape.reduce(1, *)
        self.zCount = consumer.outputShape.reduce(1, *)
        self.fills = fills
        self.delta = try ConsumerDelta(network: self.network, consumer: consumer, inputShape: point.channelShape, units: group.units, plane: point.plane)
    }

    /// Writes a batch of images (from index `start`) into a workspace of `point.architecture` and
    /// runs the unmasked network up to the resume point (`GroupResumePoint.inputLayers`, or the
    /// rest of them from a cache).
    typealias Prepare = (_ workspace: Workspace, _ start: Int, _ batch: Int) -> Void

    /// The number of correctly classified images of `share` for every mask of every sequence.
    /// - Parameters:
    ///   - sequences: the masks, each a set of unit indices of the group.
    ///   - share: the images this worker takes.
    ///   - batchSize: images per pass.
    ///   - prepare: fills the values at the resume point for a batch.
    ///   - label: the label of image `i`.
    ///   - contributionBudget: the most floats of per-unit contributions a worker keeps to share
    ///     between sequences (16 MB by default); past it each change is computed when needed.
    func correctCounts(_ sequences: [MaskSequence], share: Range<Int>, batchSize: Int, prepare: Prepare, label: (Int) -> Int,
                       contributionBudget: Int = 1 << 22) -> [[Int]] {
        let architecture = point.architecture
        let classes = architecture.outputShape.reduce(1, *)
        let workspace = Workspace(architecture: architecture, batchCapacity: batchSize, training: false)
        let deltaWorkspace = delta.deltaArchitecture.map { Workspace(architecture: $0, batchCapacity: batchSize, training: false) }
        let unmasked = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * zCount)
        defer { unmasked.deallocate() }
        // Each unit's contribution to the consumer's output, computed at most once per batch and
        // shared by all sequences (when it fits in 16 MB per worker).
        let sharing = units * batchSize * zCount <= contributionBudget
        let contributions = UnsafeMutablePointer<Float>.allocate(capacity: sharing ? units * batchSize * zCount : 1)
        defer { contributions.deallocate() }
        var computed = [Bool](repeating: false, count: units)
        var counts = sequences.map { [Int](repeating: 0, count: $0.masks.count) }
        // Without shared contributions, a convolution consumer takes a step's newly masked
        // channels (bias not kept) in one convolution over all of them, not one per channel.
        let grouped = sharing ? [:] : delta.groupedSteps(sequences, point: point, network: network, units: units)
        let scratch = Dictionary(uniqueKeysWithValues: Set(grouped.values.map(\.units.count)).map { count in
            (count, Workspace(architecture: grouped.values.first { $0.units.count == count }!.network.architecture,
                              batchCapacity: batchSize, training: false))
        })
        let plane = point.plane
        network.parameters.withUnsafeBufferPointer { parameters in
            for start in stride(from: share.lowerBound, to: share.upperBound, by: batchSize) {
                let batch = min(batchSize, share.upperBound - start)
                prepare(workspace, start, batch)
                let input = point.storage(in: workspace, batch: batch)
                let z = point.consumerStorage(in: workspace, batch: batch)!
                for u in 0..<units { computed[u] = false }
                if case .activation(let c) = point.place {
                    if sharing, let bias = delta.linearBiasOffset {
                        // All units' contributions at once, and the unmasked output as their sum
                        // plus the bias: one pass of the consumer instead of two.
                        for j in 0..<zCount { z[j] = parameters[bias + j] }
                        for n in 1..<max(batch, 1) { (z + n * zCount).update(from: z, count: zCount) }
                        for u in 0..<units {
                            let contribution = contributions + u * batchSize * zCount
                            delta.contribution(of: u, batch: batch, input: input, inputCount: inputCount, zCount: zCount,
                                               parameters: parameters.baseAddress!, into: contribution, workspace: deltaWorkspace)
                            computed[u] = true
                            for i in 0..<(batch * zCount) { z[i] += contribution[i] }
                        }
                    } else {
                        network.forward(workspace, batch: batch, layers: c..<(c + 1))
                    }
                }
                // (Inside a block, `prepare` ran the block: the consumer's output is there.)
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
                        if let step = grouped[StepKey(sequence: s, mask: i)], let work = scratch[step.units.count] {
                            let gathered = work.activation(0), count = step.units.count
                            for n in 0..<batch {
                                for (j, unit) in step.units.enumerated() {
                                    (gathered + (n * count + j) * plane).update(from: input + n * inputCount + unit * plane, count: plane)
                                }
                            }
                            step.network.forward(work, batch: batch)
                            let subtracted = work.output
                            for k in 0..<(batch * zCount) { z[k] -= subtracted[k] }
                        } else {
                        for unit in target.subtracting(current).sorted() {
                            let contribution = contributions + unit * batchSize * zCount
                            if sharing && !computed[unit] {
                                delta.contribution(of: unit, batch: batch, input: input, inputCount: inputCount, zCount: zCount,
                                                   parameters: parameters.baseAddress!, into: contribution, workspace: deltaWorkspace)
                                computed[unit] = true
                            }
                            let constant = sequence.keepBias ? fills![unit] : 0
                            delta.addMaskingDelta(unit: unit, constant: constant, batch: batch, input: input, inputCount: inputCount,
                                                  into: z, zCount: zCount, parameters: parameters.baseAddress!,
                                                  contribution: sharing ? UnsafePointer(contribution) : nil, workspace: deltaWorkspace)
                        }
                        }
                        current = target
                        point.resume(network, from: consumer.place, in: workspace, batch: batch)
                        let logits = workspace.output
                        var correct = 0
                        for n in 0..<batch {
                            let row = logits + n * classes
                            var best = 0
                            for j in 1..<classes where row[j] > row[best] { best = j }
                            if best == label(start + n) { correct += 1 }
                        }
                        counts[s][i] += correct
                    }
                }
            }
        }
        return counts
    }
}

/// A mask of a sequence: `masks[mask]` of `sequences[sequence]`.
struct StepKey: Hashable {
    var sequence: Int
    var mask: Int
}

extension ConsumerDelta {
    /// For a convolution consumer, the masks (bias not kept) that newly mask two or more
    /// channels, each with one convolution (no bias) over those channels, their filters the
    /// consumer's: what the step changes is that convolution of `−x` over them.
    func groupedSteps(_ sequences: [MaskSequence], point: GroupResumePoint, network: Network, units: Int) -> [StepKey: (units: [Int], network: Network)] {
        guard case .convolution = kind, let conv = point.consumer?.layer as? Conv2D,
              let weight = try? network.entry(named: point.consumer!.weight) else { return [:] }
        let kernel = conv.geometry.taps
        var architectures: [Int: Sequential] = [:]
        var steps: [StepKey: (units: [Int], network: Network)] = [:]
        for (s, sequence) in sequences.enumerated() where !sequence.keepBias {
            var current = Set<Int>()
            for (i, mask) in sequence.masks.enumerated() {
                let target = Set(mask)
                if !current.isSubset(of: target) { current = [] }
                let added = target.subtracting(current).sorted()
                current = target
                guard added.count > 1 else { continue }
                if architectures[added.count] == nil {
                    architectures[added.count] = try? Sequential(inputShape: [added.count] + point.channelShape.dropFirst(), layers: [
                        Conv2D(name: "contribution", inputChannels: added.count, outputChannels: conv.outputChannels,
                               geometry: conv.geometry, bias: false),
                    ])
                }
                guard let architecture = architectures[added.count] else { continue }
                var filters = [Float](repeating: 0, count: architecture.parameterCount)
                for o in 0..<conv.outputChannels {
                    for (j, unit) in added.enumerated() {
                        let source = weight.offset + (o * conv.inputChannels + unit) * kernel
                        for t in 0..<kernel { filters[(o * added.count + j) * kernel + t] = network.parameters[source + t] }
                    }
                }
                steps[StepKey(sequence: s, mask: i)] = (added, Network(architecture: architecture, parameters: filters))
            }
        }
        return steps
    }
}

/// How masking one unit changes the consumer's output `z`.
///
/// The consumer is linear in its input, so replacing unit `u`'s slice `x_u` of the input by a
/// constant `v` changes `z` by `consumer(v − x_u)` on that slice alone: `v · (row sums of W_u)
/// − x_u · W_uᵀ` for a `Linear` consumer (`W_u` the unit's columns), a one-channel convolution
/// of `v − x_u` with the unit's kernels for a `Conv2D` consumer (padding stays 0 either way).
struct ConsumerDelta: @unchecked Sendable {
    enum Kind {
        case linear(weightOffset: Int, inputCount: Int, rowSums: [Float])
        case convolution(networks: [Network])
    }

    let kind: Kind
    let featuresPerUnit: Int
    let deltaArchitecture: Sequential?
    /// Where a `Linear` consumer's bias starts in the parameters; `nil` for a convolution.
    let linearBiasOffset: Int?

    init(network: Network, consumer: GroupResumePoint.Consumer, inputShape: [Int], units: Int, plane: Int) throws {
        featuresPerUnit = plane
        let weight = try network.entry(named: consumer.weight)
        if let conv = consumer.layer as? Conv2D {
            let delta = try Sequential(inputShape: [1, inputShape[1], inputShape[2]]) {
                Conv2D(name: "delta", inputChannels: 1, outputChannels: conv.outputChannels, geometry: conv.geometry)
            }
            let kernel = conv.geometry.taps
            let networks = (0..<units).map { unit -> Network in
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
            var sums = [Float](repeating: 0, count: units * outputs)
            for unit in 0..<units {
                for j in 0..<outputs {
                    var s = 0.0
                    let row = weight.offset + j * inputs + unit * plane
                    for p in 0..<plane { s += Double(network.parameters[row + p]) }
                    sums[unit * outputs + j] = Float(s)
                }
            }
            kind = .linear(weightOffset: weight.offset, inputCount: inputs, rowSums: sums)
            deltaArchitecture = nil
            linearBiasOffset = try network.entry(named: consumer.layer.name + ".bias").offset
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
