import CNNEngine

/// Where the forward pass of a copy masked in one channel group can start again, past the
/// group's producer: the first place whose values are the unmasked network's with the masked
/// channels set to zero.
///
/// Masking zeroes a producer's filters and bias and its BatchNorm's weight and bias
/// (`Network.mask(_:of:)`), so the masked channels leave the producer and the BatchNorm as
/// exact zeros, and rectifiers, pooling, dropout at inference and flattening keep them zero,
/// channel by channel (or, with the bias kept, the constant `fill(bias:)`). Every other channel is computed from the same values as in the unmasked network.
/// So the unmasked network can run up to the end of that chain once, and each copy only zeroes
/// its channels there and runs the rest — the same operations on the same values as a full pass.
/// The rest holds no tensor that masking changes (the point exists only when every masked
/// member is in the chain), so the unmasked network's parameters serve every copy past it.
///
/// There is such a point for a group with one producer whose chain ends before its first
/// consumer: at the top level, or inside a residual block's main branch before the branch's
/// last layer. Groups coupled through a residual sum have none.
public struct GroupResumePoint: Sendable {
    /// Where the zeroed channels are read again.
    public enum Place: Sendable, Equatable {
        /// Activation `index` of the top-level chain: copies run layers `index…` from it.
        case activation(Int)
        /// Inside the residual block at top-level `block`: copies run its main branch from inner
        /// layer `mainLayer`, then the layers after the block.
        case block(Int, mainLayer: Int)
    }

    /// Where copies start again.
    public let place: Place
    /// The per-sample shape of the values at `place`: the group's channels first.
    public let channelShape: [Int]
    /// The values to zero per masked unit, one plane per channel (`H·W`, or 1 for a `Linear`).
    public let plane: Int
    /// The architecture that copies run on: the network's, with blocks keeping their inner
    /// outputs apart when `place` is inside a block (`Sequential.keepingInnerOutputs()`).
    public let architecture: Sequential
    /// For a place inside a block: the inner output that copies alter.
    public let tap: LayerOutputTap?
    /// The convolution or linear layer that reads the zeroed channels, when it comes right at
    /// the resume point: being linear, it lets copies start again past it too (see `Consumer`).
    public let consumer: Consumer?
    /// Whether a rectifier lies between the producer and the resume point.
    public let isRectified: Bool
    /// Whether an activation other than ReLU, or an average pool whose divisor counts padding
    /// (which scales a constant at the borders), lies in the chain: `fill(bias:)` does not
    /// model them.
    public let hasOtherActivations: Bool
    /// Whether a BatchNorm lies between the producer and the resume point.
    public let isNormalized: Bool

    /// The convolution or linear layer right after the resume point, and where copies start
    /// again past it.
    ///
    /// Its output for a copy is its output for the unmasked network plus what replacing the
    /// masked channels by their constant changes: the same layer (no bias) over the change in
    /// those channels alone. So a copy costs that layer over its masked channels instead of over
    /// all of them, and equals the full pass up to Float rounding in the layer's sums
    /// (`ConsumerMasking`).
    public struct Consumer: Sendable {
        /// The `Conv2D` or `Linear`, as bound in the architecture.
        public let layer: any Layer
        /// Its weight's checkpoint name.
        public let weight: String
        /// Where copies start again past it.
        public let place: Place
        /// Its output, when it is inside a block.
        let tap: LayerOutputTap?
        /// Its output's per-sample shape.
        public let outputShape: [Int]
    }

    /// The resume point of `group` in `architecture`, or `nil` when it has none.
    public init?(group: ChannelGroup, in architecture: Sequential) {
        guard group.producers.count == 1, !group.isResidual, let producer = group.producers.first else { return nil }
        let normalizations = Set(group.normalizations)
        let entries = architecture.parameterEntries + architecture.stateEntries
        var memberLayers: [(top: Int, name: String, masked: Bool)] = []
        for member in group.members {
            guard let entry = entries.first(where: { $0.name == member.tensor }) else { return nil }
            memberLayers.append((entry.layerIndex, String(member.tensor[..<(member.tensor.lastIndex(of: ".") ?? member.tensor.endIndex)]),
                                 member.role != .consumer))
        }
        /// Whether `layer` (full name `name`) keeps zero channels zero, channel by channel, at inference.
        func keepsZeros(_ layer: any Layer, name: String) -> Bool {
            if layer is BatchNorm2D { return normalizations.contains(name) }
            if let activation = layer as? Activation { return activation.function.preservesZero }
            // A depthwise convolution of the group without a bias maps each zeroed channel to 0.
            if let conv = layer as? Conv2D, conv.isDepthwise, conv.outputChannels == conv.inputChannels, !conv.bias {
                return group.depthwiseLayers.contains(name)
            }
            return layer is ReLU || layer is MaxPool2D || layer is AvgPool2D || layer is GlobalAvgPool2D || layer is Dropout || layer is Flatten
        }
        if let p = architecture.layerIndex(named: producer) {
            var last = p
            while last + 1 < architecture.layers.count, keepsZeros(architecture.layers[last + 1], name: architecture.layers[last + 1].name) { last += 1 }
            let resume = last + 1
            // Masking touches the chain's tensors only; consumers' slices run after it.
            guard resume < architecture.layers.count,
                  memberLayers.allSatisfy({ $0.top >= p && $0.top <= last || (!$0.masked && $0.top >= resume) }) else { return nil }
            let count = architecture.shapes[resume].reduce(1, *)
            guard count % group.units == 0 else { return nil }
            self.channelShape = architecture.shapes[resume]
            self.place = .activation(resume)
            self.plane = count / group.units
            self.architecture = architecture
            self.tap = nil
            self.isRectified = architecture.layers[p...last].contains { $0 is ReLU }
            self.hasOtherActivations = architecture.layers[p...last].contains(where: GroupResumePoint.changesConstants)
            self.isNormalized = architecture.layers[p...last].contains { $0 is BatchNorm2D }
            let next = architecture.layers[resume]
            if (next is Conv2D || next is Linear) && !next.name.isEmpty {
                consumer = Consumer(layer: next, weight: next.name + ".weight", place: .activation(resume + 1),
                                    tap: nil, outputShape: architecture.shapes[resume + 1])
            } else {
                consumer = nil
            }
            return
        }
        guard let blockIndex = architecture.layers.firstIndex(where: { $0 is Residual && producer.hasPrefix($0.name + ".") }),
              let block = architecture.layers[blockIndex] as? Residual else { return nil }
        let prefix = block.name + "."
        guard let p = block.main.firstIndex(where: { prefix + $0.name == producer }) else { return nil }
        var last = p
        while last + 1 < block.main.count - 1, keepsZeros(block.main[last + 1], name: prefix + block.main[last + 1].name) { last += 1 }
        guard last < block.main.count - 1 else { return nil }
        let chain = Set(block.main[p...last].map { prefix + $0.name })
        let later = Set(block.main[(last + 1)...].map { prefix + $0.name })
        guard memberLayers.allSatisfy({ $0.top == blockIndex && chain.contains($0.name) || (!$0.masked && ($0.top > blockIndex || later.contains($0.name))) }),
              let keeping = try? architecture.keepingInnerOutputs(),
              let tap = keeping.mainBranchTap(ofBlock: blockIndex, layer: last) else { return nil }
        let count = tap.shape.reduce(1, *)
        guard count % group.units == 0, tap.shape.first == group.units else { return nil }
        self.channelShape = tap.shape
        self.place = .block(blockIndex, mainLayer: last + 1)
        self.plane = count / group.units
        self.architecture = keeping
        self.tap = tap
        self.isRectified = block.main[p...last].contains { $0 is ReLU }
        self.hasOtherActivations = block.main[p...last].contains(where: GroupResumePoint.changesConstants)
        self.isNormalized = block.main[p...last].contains { $0 is BatchNorm2D }
        if let convolution = block.main[last + 1] as? Conv2D, !convolution.name.isEmpty,
           let output = keeping.mainBranchTap(ofBlock: blockIndex, layer: last + 1) {
            consumer = Consumer(layer: convolution, weight: prefix + convolution.name + ".weight", place: .block(blockIndex, mainLayer: last + 2),
                                tap: output, outputShape: output.shape)
        } else {
            consumer = nil
        }
    }

    /// The top-level layers that the unmasked network runs once per batch for all copies, so
    /// that the values at `place` (and at the consumer's place) are there (the block included,
    /// when the place is inside one).
    public var sharedLayers: Range<Int> {
        switch consumer?.place ?? place {
        case .activation(let index): return 0..<index
        case .block(let index, _): return 0..<(index + 1)
        }
    }

    /// The top-level layers that run before a copy's values at `place` are there: up to the
    /// place at the top level, the whole block (its consumer included) inside one.
    public var inputLayers: Range<Int> {
        switch place {
        case .activation(let index): return 0..<index
        case .block(let index, _): return 0..<(index + 1)
        }
    }

    /// Whether `layer` maps a constant channel to something other than that constant (or its
    /// rectification): an activation other than ReLU, a depthwise convolution, an average pool
    /// counting its padding.
    static func changesConstants(_ layer: any Layer) -> Bool {
        if layer is Activation { return true }
        if let conv = layer as? Conv2D, conv.isDepthwise { return true }  // it scales the constant by its filter's sum
        if let pool = layer as? AvgPool2D { return pool.window.padding > 0 && pool.countIncludePad }
        return false
    }

    /// The constant a channel whose filter is zeroed but whose bias `bias` is kept carries at
    /// the resume point: the bias, rectified where the chain rectifies; `nil` where a BatchNorm
    /// in the chain would transform it (masking with the bias kept is the exercise's way, for
    /// layers without one), or another activation than ReLU.
    public func fill(bias: Float) -> Float? {
        guard !isNormalized, !hasOtherActivations else { return nil }
        return isRectified ? max(bias, 0) : bias
    }

    /// The values that copies zero channels in, for the first `batch` samples of `workspace`
    /// (a workspace of `architecture`), after a pass over `sharedLayers`.
    public func storage(in workspace: Workspace, batch: Int) -> UnsafeMutablePointer<Float> {
        storage(at: place, tap: tap, in: workspace, batch: batch)
    }

    /// The consumer's output, likewise; `nil` without a consumer.
    public func consumerStorage(in workspace: Workspace, batch: Int) -> UnsafeMutablePointer<Float>? {
        consumer.map { storage(at: $0.place, tap: $0.tap, in: workspace, batch: batch) }
    }

    private func storage(at place: Place, tap: LayerOutputTap?, in workspace: Workspace, batch: Int) -> UnsafeMutablePointer<Float> {
        switch place {
        case .activation(let index): return workspace.activation(index)
        case .block: return workspace.storage(at: tap!, batch: batch)
        }
    }

    /// Runs `network` (on `architecture`; past the point every copy's tensors are the unmasked
    /// network's) from `place` (this point's, or its consumer's) to its output.
    public func resume(_ network: Network, from place: Place, in workspace: Workspace, batch: Int) {
        switch place {
        case .activation(let index):
            network.forward(workspace, batch: batch, layers: index..<architecture.layers.count)
        case .block(let index, let mainLayer):
            network.forward(workspace, batch: batch, resumingBlock: index, atMainLayer: mainLayer)
            network.forward(workspace, batch: batch, layers: (index + 1)..<architecture.layers.count)
        }
    }
}
