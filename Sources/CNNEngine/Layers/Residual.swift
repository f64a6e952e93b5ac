/// A residual block, as in He et al. 2016: a main branch and a shortcut over the same input,
/// summed, then (by default) rectified — `relu(main(x) + shortcut(x))`. An empty shortcut is
/// the identity; a projection shortcut is typically a 1×1 strided `Conv2D` and a `BatchNorm2D`.
///
/// The block is one `Layer`: its branches' layers live inside it, bound to their shapes, their
/// tensors named `block.layer.tensor` (`layer2.0.conv1.weight`, `layer2.0.downsample.0.weight`)
/// as in PyTorch's state_dict. Their activations are kept in the block's scratch, and their
/// gradients in the network's shared transient buffer, so a block allocates nothing per batch.
public struct Residual: Layer {
    public var name: String
    /// The main branch, in order (bound after `prepare`).
    public private(set) var main: [any Layer]
    /// The shortcut branch; empty for the identity.
    public private(set) var shortcut: [any Layer]
    /// Whether a ReLU follows the sum.
    public var rectifiesOutput: Bool
    /// Keep every inner layer's output in its own storage (no rectifier in place, no branch
    /// writing into the block's output), so that each can be read after a forward pass — what
    /// pruning's calibration needs (`Sequential.keepingInnerOutputs()`); off for speed otherwise.
    public var keepsInnerOutputs = false

    /// Per-sample shapes: `mainShapes[i]` is the input of `main[i]`, the last one the branch's output.
    public private(set) var mainShapes: [[Int]] = []
    /// Per-sample shapes of the shortcut, likewise (just the input for the identity).
    public private(set) var shortcutShapes: [[Int]] = []

    private var layout = Layout()

    /// Where each inner layer's storage lives, relative to the block's.
    private struct Layout: Sendable {
        /// Per inner layer (main first, then shortcut): offsets into the block's parameters and
        /// state, into `kept`, and of its per-sample scratch (in units of `batch` floats).
        var parameterOffsets: [Int] = [], stateOffsets: [Int] = [], keptOffsets: [Int] = [], scratchOffsets: [Int] = []
        /// Per-sample offsets (in units of `batch` floats) of the branches' activations after
        /// each inner layer, in the scratch, and of their gradients, in the transient buffer.
        var activationOffsets: [Int] = [], gradientOffsets: [Int] = []
        /// Where, in the transient buffer, the gradient of the sum and of the shortcut's input go,
        /// and where the inner layers' own transient space starts.
        var sumGradientOffset = 0, shortcutInputGradientOffset = 0, innerTransientOffset = 0
        var scratchPerSample = 0, workingScratch = 0, kept = 0, transientPerSample = 0, parameters = 0, state = 0
        var inputCount = 0, outputCount = 0
        /// Whether the main branch's last layer writes into the block's output (then summed in place).
        var mainWritesBlockOutput = false
        /// Inner layers (main first, then shortcut) that have state.
        var statefulLayers: [Int] = []
    }

    /// - Parameters:
    ///   - name: the block's prefix in checkpoint names (`layer1.0`).
    ///   - main: the main branch's layers.
    ///   - shortcut: the shortcut's layers; none for the identity.
    ///   - rectifiesOutput: apply a ReLU after the sum.
    public init(name: String, main: [any Layer], shortcut: [any Layer] = [], rectifiesOutput: Bool = true) {
        self.name = name
        self.main = main
        self.shortcut = shortcut
        self.rectifiesOutput = rectifiesOutput
    }

    /// Builds the block from result-builder blocks: `Residual(name: "layer1.0") { … } shortcut: { … }`.
    public init(name: String, rectifiesOutput: Bool = true, @LayerBuilder main: () -> [any Layer],
                @LayerBuilder shortcut: () -> [any Layer] = { [] }) {
        self.init(name: name, main: main(), shortcut: shortcut(), rectifiesOutput: rectifiesOutput)
    }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard !main.isEmpty else { throw EngineError.shapeMismatch("\(name): a residual block needs a main branch") }
        var layout = Layout()
        var names = Set<String>()
        func bind(_ layers: inout [any Layer], shapes: inout [[Int]], isMain: Bool) throws {
            shapes = [inputShape]
            for index in layers.indices {
                let output = try layers[index].prepare(inputShape: shapes[index])
                let layer = layers[index]
                guard layer.scratchPerSample == 0 || layer.scratchPerBatch == 0 else {
                    throw EngineError.shapeMismatch("\(name): inner layer '\(layer.name)' needs both per-sample and per-batch scratch, which a residual block cannot lay out")
                }
                if !(layer.parameterSpecs.isEmpty && layer.stateSpecs.isEmpty) {
                    guard !layer.name.isEmpty, names.insert(layer.name).inserted else {
                        throw EngineError.shapeMismatch("\(name): inner layers with tensors need distinct names, '\(layer.name)' is empty or repeated")
                    }
                }
                if !layer.stateSpecs.isEmpty { layout.statefulLayers.append(layout.parameterOffsets.count) }
                layout.parameterOffsets.append(layout.parameters)
                layout.stateOffsets.append(layout.state)
                layout.keptOffsets.append(layout.kept)
                layout.parameters += layer.parameterSpecs.reduce(0) { $0 + $1.count }
                layout.state += layer.stateSpecs.reduce(0) { $0 + $1.count }
                // Even offsets keep the Doubles some layers store in their working space aligned.
                layout.kept += (layer.keptPerBatch + 1) & ~1
                layout.scratchOffsets.append(layout.scratchPerSample)
                layout.scratchPerSample += (layer.scratchPerSample + 1) & ~1
                layout.workingScratch = max(layout.workingScratch, layer.scratchPerBatch)
                let count = output.reduce(1, *)
                if !keepsInnerOutputs && layer is ReLU && index > 0 && Residual.ignoresOwnOutputInBackward(layers[index - 1]) {
                    // In place: the rectifier overwrites its input, which the layer before it
                    // (a BatchNorm or a convolution) does not read again; its backward pass masks
                    // by the rectified values, positive exactly where the input was.
                    layout.activationOffsets.append(layout.activationOffsets[layout.activationOffsets.count - 1])
                } else if !keepsInnerOutputs && index == layers.count - 1 && isMain && Residual.ignoresOwnOutputInBackward(layer) {
                    // The main branch's last output goes straight into the block's output,
                    // where the sum with the shortcut then happens in place; nothing reads it
                    // in the backward pass.
                    layout.activationOffsets.append(-1)
                    layout.mainWritesBlockOutput = true
                } else {
                    layout.activationOffsets.append(layout.scratchPerSample)
                    layout.scratchPerSample += (count + 1) & ~1
                }
                layout.gradientOffsets.append(layout.transientPerSample)
                layout.transientPerSample += (count + 1) & ~1
                shapes.append(output)
            }
        }
        var mainShapes: [[Int]] = [], shortcutShapes: [[Int]] = []
        try bind(&main, shapes: &mainShapes, isMain: true)
        try bind(&shortcut, shapes: &shortcutShapes, isMain: false)
        let output = mainShapes.last!
        guard output == shortcutShapes.last! else {
            throw EngineError.shapeMismatch("\(name): the main branch gives \(output) but the shortcut gives \(shortcutShapes.last!); they must match to be summed")
        }
        layout.inputCount = inputShape.reduce(1, *)
        layout.outputCount = output.reduce(1, *)
        layout.sumGradientOffset = layout.transientPerSample
        layout.transientPerSample += (layout.outputCount + 1) & ~1
        layout.shortcutInputGradientOffset = layout.transientPerSample
        layout.transientPerSample += shortcut.isEmpty ? 0 : (layout.inputCount + 1) & ~1
        layout.innerTransientOffset = layout.transientPerSample
        layout.transientPerSample += (main + shortcut).map(\.transientPerSample).max() ?? 0
        self.layout = layout
        self.mainShapes = mainShapes
        self.shortcutShapes = shortcutShapes
        return output
    }

    public var parameterSpecs: [ParameterSpec] { innerSpecs(\.parameterSpecs) }
    public var stateSpecs: [ParameterSpec] { innerSpecs(\.stateSpecs) }

    private func innerSpecs(_ specs: (any Layer) -> [ParameterSpec]) -> [ParameterSpec] {
        (main + shortcut).flatMap { layer in
            specs(layer).map { spec in
                var named = spec
                named.name = "\(layer.name).\(spec.name)"
                return named
            }
        }
    }

    public var scratchPerSample: Int { layout.scratchPerSample }
    public var scratchPerBatch: Int { layout.workingScratch }
    public var keptPerBatch: Int { layout.kept }
    public var transientPerSample: Int { layout.transientPerSample }
    public var reductionCapacity: Int { (main + shortcut).map(\.reductionCapacity).max() ?? 0 }

    public var spec: LayerSpec? {
        let mainSpecs = main.map(\.specs), shortcutSpecs = shortcut.map(\.specs)
        guard !mainSpecs.contains(where: { $0 == nil }), !shortcutSpecs.contains(where: { $0 == nil }) else { return nil }
        return .residual(name: name, main: mainSpecs.flatMap { $0! }, shortcut: shortcutSpecs.flatMap { $0! }, rectifiesOutput: rectifiesOutput)
    }

    /// Where inner layer `name` (its name inside the block) writes its output in the block's
    /// scratch (in units of `batch` floats), and the output's per-sample shape.
    /// `nil` when the storage is shared (see `keepsInnerOutputs`).
    func innerOutput(named name: String) -> (offset: Int, shape: [Int])? {
        guard !name.isEmpty, keepsInnerOutputs else { return nil }
        if let index = main.firstIndex(where: { $0.name == name }) {
            return (layout.activationOffsets[index], mainShapes[index + 1])
        }
        if let index = shortcut.firstIndex(where: { $0.name == name }) {
            return (layout.activationOffsets[main.count + index], shortcutShapes[index + 1])
        }
        return nil
    }

    /// Whether `layer`'s backward pass reads only its input and output gradient, never its own
    /// output, so that the output's storage may be reused (a rectifier in place, the block's sum).
    static func ignoresOwnOutputInBackward(_ layer: any Layer) -> Bool {
        layer is BatchNorm2D || layer is Conv2D
    }

    /// The buffers of inner layer `index` (main first, then shortcut), reading `input`.
    private func innerBuffers(_ b: LayerBuffers, index: Int, input: UnsafeMutablePointer<Float>) -> LayerBuffers {
        let batch = b.batch
        let offset = layout.activationOffsets[index]
        return LayerBuffers(
            batch: batch, input: input, output: offset < 0 ? b.output : b.scratch + batch * offset,
            scratch: b.scratch + batch * layout.scratchOffsets[index], parameters: b.parameters + layout.parameterOffsets[index],
            kept: b.kept + layout.keptOffsets[index], transient: b.transient + batch * layout.innerTransientOffset,
            state: b.state + layout.stateOffsets[index], context: b.context)
    }

    /// The working space (`scratchPerBatch`) is shared by the inner layers: it follows the
    /// per-sample region, as for any layer.
    private func withWorkingSpace(_ inner: LayerBuffers, _ b: LayerBuffers, layer: any Layer) -> LayerBuffers {
        guard layer.scratchPerSample == 0 else { return inner }
        var inner = inner
        // A layer with no per-sample scratch uses its scratch pointer as working space directly.
        inner.scratch = b.scratch + b.batch * layout.scratchPerSample
        return inner
    }

    /// Where main-branch layer `index` writes its output in the block's scratch (in units of
    /// `batch` floats), and the output's per-sample shape; `nil` unless the block keeps its
    /// inner outputs apart (see `keepsInnerOutputs`), and for the branch's last layer, whose
    /// output is the block's to sum.
    func mainOutput(at index: Int) -> (offset: Int, shape: [Int])? {
        guard keepsInnerOutputs, main.indices.contains(index), index < main.count - 1 else { return nil }
        return (layout.activationOffsets[index], mainShapes[index + 1])
    }

    /// Runs a branch forward, from layer `start` on; returns its output. Layer `start` reads
    /// the block's input when `start` is 0, else the output the layer before it left in the scratch.
    private func runForward(_ layers: [any Layer], first: Int, _ b: LayerBuffers, from start: Int = 0) -> UnsafeMutablePointer<Float> {
        var input = start == 0 ? b.input : b.scratch + b.batch * layout.activationOffsets[first + start - 1]
        for offset in start..<layers.count {
            let layer = layers[offset]
            let inner = withWorkingSpace(innerBuffers(b, index: first + offset, input: input), b, layer: layer)
            layer.forward(inner)
            input = inner.output
        }
        return input
    }

    public func forward(_ b: LayerBuffers) {
        forward(b, resumingMainAt: 0)
    }

    /// `forward`, with the main branch's layers before `start` skipped: layer `start` reads the
    /// output that `main[start - 1]` left in the block's scratch in an earlier pass over the same
    /// buffers, as it is now. What pruning's sweeps use to run, per masked copy, only what the
    /// mask changes (the output altered in place, see `Sequential.mainBranchTap(ofBlock:layer:)`).
    /// Needs `keepsInnerOutputs` for `start > 0`, so that no later inner layer overwrites that output.
    public func forward(_ b: LayerBuffers, resumingMainAt start: Int) {
        precondition(start == 0 || (keepsInnerOutputs && start < main.count), "\(name): resuming the main branch needs keepsInnerOutputs and a layer of it")
        let mainOutput = runForward(main, first: 0, b, from: start)
        let shortcutOutput = shortcut.isEmpty ? b.input : runForward(shortcut, first: main.count, b)
        let total = b.batch * layout.outputCount
        let out = b.output
        if rectifiesOutput {
            for i in 0..<total { out[i] = max(mainOutput[i] + shortcutOutput[i], 0) }
        } else {
            for i in 0..<total { out[i] = mainOutput[i] + shortcutOutput[i] }
        }
    }

    /// Runs a branch backward from the gradient of its output `outputGradient`, writing the
    /// gradient of the block's input into `inputGradient` (when not nil).
    private func runBackward(_ layers: [any Layer], first: Int, _ b: LayerBuffers, _ g: LayerGradientBuffers,
                             outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?) {
        var gradient = outputGradient
        for offset in stride(from: layers.count - 1, through: 0, by: -1) {
            let index = first + offset
            let input = offset == 0 ? b.input : b.scratch + b.batch * layout.activationOffsets[index - 1]
            let inner = withWorkingSpace(innerBuffers(b, index: index, input: input), b, layer: layers[offset])
            let target = offset == 0 ? inputGradient : b.transient + b.batch * layout.gradientOffsets[index - 1]
            layers[offset].backward(inner, gradients: LayerGradientBuffers(
                output: gradient, input: target, parameters: g.parameters + layout.parameterOffsets[index]))
            if let target { gradient = target }
        }
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        let total = b.batch * layout.outputCount
        let sumGradient = b.transient + b.batch * layout.sumGradientOffset
        if rectifiesOutput {
            for i in 0..<total {
                let passes: Float = b.output[i] > 0 ? 1 : 0
                sumGradient[i] = g.output[i] * passes
            }
        } else {
            sumGradient.update(from: g.output, count: total)
        }
        runBackward(main, first: 0, b, g, outputGradient: sumGradient, inputGradient: g.input)
        if shortcut.isEmpty {
            if let inputGradient = g.input {
                for i in 0..<total { inputGradient[i] += sumGradient[i] }
            }
        } else {
            let shortcutInputGradient = g.input == nil ? nil : b.transient + b.batch * layout.shortcutInputGradientOffset
            runBackward(shortcut, first: main.count, b, g, outputGradient: sumGradient, inputGradient: shortcutInputGradient)
            if let inputGradient = g.input, let shortcutInputGradient {
                for i in 0..<(b.batch * layout.inputCount) { inputGradient[i] += shortcutInputGradient[i] }
            }
        }
    }

    public func updateState(_ state: UnsafeMutablePointer<Float>, kept: UnsafePointer<Float>, batch: Int) {
        // Runs every training step: indices precomputed, no array built.
        for index in layout.statefulLayers {
            let layer = index < main.count ? main[index] : shortcut[index - main.count]
            layer.updateState(state + layout.stateOffsets[index], kept: kept + layout.keptOffsets[index], batch: batch)
        }
    }
}
