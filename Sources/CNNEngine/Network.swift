/// An architecture together with its parameter values: what a checkpoint stores and what
/// training, evaluation and pruning work on.
///
/// A value: copying a network copies its parameters, so pruning can edit a copy per K and leave
/// the trained model untouched. Parameters live in one flat array, tensors one after the other
/// in `architecture.parameterEntries` order, so optimizers and gradient sums are single loops.
/// Non-learnable state (a BatchNorm's running statistics) lives apart, in `state`, where no
/// optimizer reaches it.
public struct Network: Sendable {
    /// The layers and shapes.
    public let architecture: Sequential
    /// All parameter values, flat.
    public var parameters: [Float]
    /// All state values (running statistics), flat, in `architecture.stateEntries` order.
    public var state: [Float]

    /// A network with PyTorch's default initialisation: `Conv2d` and `Linear` weights
    /// kaiming-uniform with a = √5 and biases uniform, both `U(±1/√fan_in)`, drawn in order;
    /// BatchNorm weights 1 and biases 0; running means 0 and variances 1.
    public init(architecture: Sequential, generator: inout SeededGenerator) {
        self.architecture = architecture
        var values = [Float](repeating: 0, count: architecture.parameterCount)
        for entry in architecture.parameterEntries {
            let range = entry.offset..<(entry.offset + entry.count)
            switch entry.initializer {
            case .uniformFanIn:
                let bound = 1 / Float(entry.fanIn).squareRoot()
                for i in range { values[i] = generator.uniform(bound: bound) }
            case .ones: for i in range { values[i] = 1 }
            case .zeros: break
            }
        }
        self.parameters = values
        self.state = Network.initialState(of: architecture)
    }

    /// A network with given parameter values (flat, in storage order) and, optionally, state
    /// (else the initial state: running means 0, variances 1).
    public init(architecture: Sequential, parameters: [Float], state: [Float]? = nil) {
        precondition(parameters.count == architecture.parameterCount, "parameter count mismatch")
        let state = state ?? Network.initialState(of: architecture)
        precondition(state.count == architecture.stateCount, "state count mismatch")
        self.architecture = architecture
        self.parameters = parameters
        self.state = state
    }

    /// The state a fresh network starts with.
    public static func initialState(of architecture: Sequential) -> [Float] {
        var values = [Float](repeating: 0, count: architecture.stateCount)
        for entry in architecture.stateEntries where entry.initializer == .ones {
            for i in entry.offset..<(entry.offset + entry.count) { values[i] = 1 }
        }
        return values
    }

    /// The entry of the parameter tensor called `name` (e.g. `fc1.bias`).
    public func entry(named name: String) throws -> ParameterEntry {
        guard let entry = architecture.parameterEntries.first(where: { $0.name == name }) else {
            throw EngineError.unknownParameter(name)
        }
        return entry
    }

    /// A copy of the tensor called `name`: a parameter or a state tensor.
    public func tensor(named name: String) throws -> Tensor {
        if let entry = architecture.parameterEntries.first(where: { $0.name == name }) {
            return Tensor(shape: entry.shape, scalars: Array(parameters[entry.offset..<(entry.offset + entry.count)]))
        }
        if let entry = architecture.stateEntries.first(where: { $0.name == name }) {
            return Tensor(shape: entry.shape, scalars: Array(state[entry.offset..<(entry.offset + entry.count)]))
        }
        throw EngineError.unknownParameter(name)
    }

    /// Replaces the values of the tensor called `name` (a parameter or a state tensor); the
    /// shape must match.
    public mutating func setTensor(_ tensor: Tensor, named name: String) throws {
        let isState: Bool
        let entry: ParameterEntry
        if let found = architecture.parameterEntries.first(where: { $0.name == name }) {
            (entry, isState) = (found, false)
        } else if let found = architecture.stateEntries.first(where: { $0.name == name }) {
            (entry, isState) = (found, true)
        } else {
            throw EngineError.unknownParameter(name)
        }
        guard tensor.shape == entry.shape else {
            throw EngineError.shapeMismatch("\(name): expected shape \(entry.shape), got \(tensor.shape)")
        }
        let range = entry.offset..<(entry.offset + entry.count)
        if isState { state.replaceSubrange(range, with: tensor.scalars) } else { parameters.replaceSubrange(range, with: tensor.scalars) }
    }

    /// Every tensor with its name — parameters, then state — in storage order (a state_dict).
    public var namedTensors: [(name: String, tensor: Tensor)] {
        architecture.parameterEntries.map { entry in
            (entry.name, Tensor(shape: entry.shape, scalars: Array(parameters[entry.offset..<(entry.offset + entry.count)])))
        } + architecture.stateEntries.map { entry in
            (entry.name, Tensor(shape: entry.shape, scalars: Array(state[entry.offset..<(entry.offset + entry.count)])))
        }
    }

    /// Runs layers `range` over the first `batch` samples in `workspace`: reads activation
    /// `range.lowerBound`, writes activations up to `range.upperBound`.
    ///
    /// A `ReLU` directly followed by a `MaxPool2D` (both in `range`) runs as one pass that pools
    /// the ReLU's input and rectifies the result: the rectified map before pooling
    /// (`activation(reluIndex + 1)`) is then not written. Every other activation is.
    /// - Parameters:
    ///   - workspace: holds the activations; activation `range.lowerBound` must be filled.
    ///   - batch: samples to run, at most the workspace's capacity.
    ///   - range: the layers to run; all of them by default.
    ///   - context: inference (the default: running statistics, no dropout) or
    ///     training, with this worker's place in the batch.
    public func forward(_ workspace: Workspace, batch: Int, layers range: Range<Int>? = nil, context: PassContext = .inference) {
        let range = range ?? 0..<architecture.layers.count
        precondition(batch <= workspace.batchCapacity)
        var context = context
        if !workspace.hasGradients { context.backwardFollows = false }
        let fused = architecture.fusedRectifier
        withStorage { parameterBase, stateBase in
            var index = range.lowerBound
            while index < range.upperBound {
                if fused[index] && index + 1 < range.upperBound, let pool = architecture.layers[index + 1] as? MaxPool2D {
                    var b = buffers(workspace, layer: index + 1, batch: batch, parameters: parameterBase, state: stateBase, context: context)
                    b.input = workspace.activation(index)
                    pool.forwardRectified(b)
                    index += 2
                    continue
                }
                architecture.layers[index].forward(buffers(workspace, layer: index, batch: batch, parameters: parameterBase, state: stateBase, context: context))
                index += 1
            }
        }
    }

    /// Runs only the residual block at top-level `index` over the first `batch` samples, with its
    /// main branch resumed at inner layer `start` (see `Residual.forward(_:resumingMainAt:)`):
    /// the branch's layers before `start` are skipped, and their last output is read from the
    /// block's scratch in `workspace` as an earlier pass left it (or as it was altered since,
    /// through `Workspace.storage(at:batch:)`). Writes activation `index + 1`.
    /// The architecture's blocks must keep their inner outputs (`Sequential.keepingInnerOutputs()`).
    public func forward(_ workspace: Workspace, batch: Int, resumingBlock index: Int, atMainLayer start: Int, context: PassContext = .inference) {
        precondition(batch <= workspace.batchCapacity)
        guard let block = architecture.layers[index] as? Residual else { preconditionFailure("layer \(index) is not a residual block") }
        var context = context
        if !workspace.hasGradients { context.backwardFollows = false }
        withStorage { parameterBase, stateBase in
            block.forward(buffers(workspace, layer: index, batch: batch, parameters: parameterBase, state: stateBase, context: context), resumingMainAt: start)
        }
    }

    /// Backpropagates the gradient in `workspace.activationGradient(layers.count)` through all
    /// layers (after a full `forward` with the same `context`), writing the batch's parameter
    /// gradients into `workspace.parameterGradients`. A fused `ReLU`–`MaxPool2D` pair writes no
    /// gradient for the rectified map between them.
    public func backward(_ workspace: Workspace, batch: Int, context: PassContext = .inference) {
        let fused = architecture.fusedRectifier
        withStorage { parameterBase, stateBase in
            var index = architecture.layers.count - 1
            while index >= 0 {
                let parameterGradients = workspace.parameterGradients.baseAddress! + architecture.layerParameterOffsets[index]
                if index > 0 && fused[index - 1], let pool = architecture.layers[index] as? MaxPool2D {
                    var b = buffers(workspace, layer: index, batch: batch, parameters: parameterBase, state: stateBase, context: context)
                    b.input = workspace.activation(index - 1)
                    let gradients = LayerGradientBuffers(
                        output: workspace.activationGradient(index + 1),
                        input: index - 1 > 0 ? workspace.activationGradient(index - 1) : nil,
                        parameters: parameterGradients)
                    pool.backwardRectified(b, gradients: gradients)
                    index -= 2
                    continue
                }
                let gradients = LayerGradientBuffers(
                    output: workspace.activationGradient(index + 1),
                    input: index > 0 ? workspace.activationGradient(index) : nil,
                    parameters: parameterGradients)
                architecture.layers[index].backward(buffers(workspace, layer: index, batch: batch, parameters: parameterBase, state: stateBase, context: context), gradients: gradients)
                index -= 1
            }
        }
    }

    /// Folds what the last training pass in `workspace` measured (batch statistics of every
    /// BatchNorm, over all `batch` samples of all workers) into the running state, as PyTorch
    /// does after each training-mode forward pass.
    public mutating func updateState(from workspace: Workspace, batch: Int) {
        guard architecture.stateCount > 0 else { return }
        let architecture = self.architecture
        state.withUnsafeMutableBufferPointer { store in
            for index in architecture.statefulLayers {
                architecture.layers[index].updateState(store.baseAddress! + architecture.layerStateOffsets[index], kept: workspace.kept(index), batch: batch)
            }
        }
    }

    private func withStorage(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        parameters.withUnsafeBufferPointer { store in
            state.withUnsafeBufferPointer { stateStore in
                // Layers only read parameters and state during a pass.
                body(UnsafeMutablePointer(mutating: store.baseAddress!), UnsafeMutablePointer(mutating: stateStore.baseAddress ?? store.baseAddress!))
            }
        }
    }

    private func buffers(_ workspace: Workspace, layer index: Int, batch: Int, parameters base: UnsafeMutablePointer<Float>,
                         state stateBase: UnsafeMutablePointer<Float>, context: PassContext) -> LayerBuffers {
        LayerBuffers(batch: batch, input: workspace.activation(index), output: workspace.activation(index + 1),
                     scratch: workspace.scratch(index), parameters: base + architecture.layerParameterOffsets[index],
                     kept: workspace.kept(index), transient: workspace.transient,
                     state: stateBase + architecture.layerStateOffsets[index], context: context)
    }

    /// The outputs for a batch of inputs given as a tensor `[N, ...inputShape]`; for tests and
    /// small jobs (it allocates a workspace). With `training`, layers use batch statistics and
    /// dropout as in a training step (one worker, step 0) and the state is left unchanged.
    public func callAsFunction(_ input: Tensor, training: Bool = false) -> Tensor {
        let sample = architecture.inputShape.reduce(1, *)
        precondition(input.count % sample == 0 && input.shape.dropFirst().elementsEqual(architecture.inputShape),
                     "input shape \(input.shape) does not match \(architecture.inputShape)")
        let batch = input.shape[0]
        let workspace = Workspace(architecture: architecture, batchCapacity: max(batch, 1), training: false)
        input.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: input.count) }
        forward(workspace, batch: batch, context: training ? .training(batch: batch) : .inference)
        let outCount = architecture.outputShape.reduce(1, *)
        return Tensor(shape: [batch] + architecture.outputShape,
                      scalars: Array(UnsafeBufferPointer(start: workspace.output, count: batch * outCount)))
    }
}
