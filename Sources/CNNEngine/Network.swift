/// An architecture together with its parameter values: what a checkpoint stores and what
/// training, evaluation and pruning work on.
///
/// A value: copying a network copies its parameters, so pruning can edit a copy per K and leave
/// the trained model untouched. Parameters live in one flat array, tensors one after the other
/// in `architecture.parameterEntries` order, so optimizers and gradient sums are single loops.
public struct Network: Sendable {
    /// The layers and shapes.
    public let architecture: Sequential
    /// All parameter values, flat.
    public var parameters: [Float]

    /// A network with PyTorch's default initialisation for `Conv2d` and `Linear`: weights
    /// kaiming-uniform with a = √5 and biases uniform, both `U(±1/√fan_in)`, drawn in order.
    public init(architecture: Sequential, generator: inout SeededGenerator) {
        self.architecture = architecture
        var values = [Float](repeating: 0, count: architecture.parameterCount)
        for entry in architecture.parameterEntries {
            let bound = 1 / Float(entry.fanIn).squareRoot()
            for i in entry.offset..<(entry.offset + entry.count) {
                values[i] = generator.uniform(bound: bound)
            }
        }
        self.parameters = values
    }

    /// A network with given parameter values (flat, in storage order).
    public init(architecture: Sequential, parameters: [Float]) {
        precondition(parameters.count == architecture.parameterCount, "parameter count mismatch")
        self.architecture = architecture
        self.parameters = parameters
    }

    /// The entry of the tensor called `name` (e.g. `fc1.bias`).
    public func entry(named name: String) throws -> ParameterEntry {
        guard let entry = architecture.parameterEntries.first(where: { $0.name == name }) else {
            throw EngineError.unknownParameter(name)
        }
        return entry
    }

    /// A copy of the tensor called `name`.
    public func tensor(named name: String) throws -> Tensor {
        let entry = try entry(named: name)
        return Tensor(shape: entry.shape, scalars: Array(parameters[entry.offset..<(entry.offset + entry.count)]))
    }

    /// Replaces the values of the tensor called `name`; the shape must match.
    public mutating func setTensor(_ tensor: Tensor, named name: String) throws {
        let entry = try entry(named: name)
        guard tensor.shape == entry.shape else {
            throw EngineError.shapeMismatch("\(name): expected shape \(entry.shape), got \(tensor.shape)")
        }
        parameters.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: tensor.scalars)
    }

    /// Every tensor with its name, in storage order (a state_dict).
    public var namedTensors: [(name: String, tensor: Tensor)] {
        architecture.parameterEntries.map { entry in
            (entry.name, Tensor(shape: entry.shape, scalars: Array(parameters[entry.offset..<(entry.offset + entry.count)])))
        }
    }

    /// Runs layers `range` over the first `batch` samples in `workspace`: reads activation
    /// `range.lowerBound`, writes activations up to `range.upperBound`.
    ///
    /// A `ReLU` directly followed by a `MaxPool2D` (both in `range`) runs as one pass that pools
    /// the ReLU's input and rectifies the result: the rectified map before pooling
    /// (`activation(reluIndex + 1)`) is then not written. Every other activation is.
    public func forward(_ workspace: Workspace, batch: Int, layers range: Range<Int>? = nil) {
        let range = range ?? 0..<architecture.layers.count
        precondition(batch <= workspace.batchCapacity)
        let fused = architecture.fusedRectifier
        parameters.withUnsafeBufferPointer { store in
            let base = UnsafeMutablePointer(mutating: store.baseAddress!)
            var index = range.lowerBound
            while index < range.upperBound {
                if fused[index] && index + 1 < range.upperBound, let pool = architecture.layers[index + 1] as? MaxPool2D {
                    var b = buffers(workspace, layer: index + 1, batch: batch, parameters: base)
                    b.input = workspace.activation(index)
                    pool.forwardRectified(b)
                    index += 2
                    continue
                }
                architecture.layers[index].forward(buffers(workspace, layer: index, batch: batch, parameters: base))
                index += 1
            }
        }
    }

    /// Backpropagates the gradient in `workspace.activationGradient(layers.count)` through all
    /// layers (after a full `forward`), writing the batch's parameter gradients into
    /// `workspace.parameterGradients`. A fused `ReLU`–`MaxPool2D` pair writes no gradient for
    /// the rectified map between them.
    public func backward(_ workspace: Workspace, batch: Int) {
        let fused = architecture.fusedRectifier
        parameters.withUnsafeBufferPointer { store in
            let base = UnsafeMutablePointer(mutating: store.baseAddress!)
            var index = architecture.layers.count - 1
            while index >= 0 {
                let parameterGradients = workspace.parameterGradients.baseAddress! + architecture.layerParameterOffsets[index]
                if index > 0 && fused[index - 1], let pool = architecture.layers[index] as? MaxPool2D {
                    var b = buffers(workspace, layer: index, batch: batch, parameters: base)
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
                architecture.layers[index].backward(buffers(workspace, layer: index, batch: batch, parameters: base), gradients: gradients)
                index -= 1
            }
        }
    }

    private func buffers(_ workspace: Workspace, layer index: Int, batch: Int, parameters base: UnsafeMutablePointer<Float>) -> LayerBuffers {
        LayerBuffers(batch: batch, input: workspace.activation(index), output: workspace.activation(index + 1),
                     scratch: workspace.scratch(index), parameters: base + architecture.layerParameterOffsets[index])
    }

    /// The outputs for a batch of inputs given as a tensor `[N, ...inputShape]`; for tests and
    /// small jobs (it allocates a workspace).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let sample = architecture.inputShape.reduce(1, *)
        precondition(input.count % sample == 0 && input.shape.dropFirst().elementsEqual(architecture.inputShape),
                     "input shape \(input.shape) does not match \(architecture.inputShape)")
        let batch = input.shape[0]
        let workspace = Workspace(architecture: architecture, batchCapacity: max(batch, 1), training: false)
        input.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: input.count) }
        forward(workspace, batch: batch)
        let outCount = architecture.outputShape.reduce(1, *)
        return Tensor(shape: [batch] + architecture.outputShape,
                      scalars: Array(UnsafeBufferPointer(start: workspace.output, count: batch * outCount)))
    }
}
