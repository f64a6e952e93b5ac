import CNNEngine

/// Random tensors and finite-difference gradients for engine tests.
enum TestSupport {
    static func random(_ shape: [Int], seed: UInt64, bound: Float = 1) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.uniform(bound: bound) })
    }

    /// Runs `network` forward and backward on `input` with upstream gradient `weights` (so the
    /// scalar being differentiated is `Σ output · weights`); returns the input and parameter gradients.
    static func analyticGradients(_ network: Network, input: Tensor, weights: Tensor, training: Bool = false) -> (input: [Float], parameters: [Float]) {
        let batch = input.shape[0]
        let context: PassContext = training ? .training(batch: batch) : .inference
        let workspace = Workspace(architecture: network.architecture, batchCapacity: batch)
        let layers = network.architecture.layers.count
        input.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: input.count) }
        network.forward(workspace, batch: batch, context: context)
        weights.scalars.withUnsafeBufferPointer { workspace.activationGradient(layers).update(from: $0.baseAddress!, count: weights.count) }
        workspace.parameterGradients.update(repeating: 0)
        // The input gradient of layer 0 is not computed by the engine; prepend an identity layer
        // when it is needed (see `withInputGradient`).
        network.backward(workspace, batch: batch, context: context)
        let inputGradient = layers > 1 ? Array(UnsafeBufferPointer(start: workspace.activationGradient(1), count: batch * workspace.activationCounts[1])) : []
        return (inputGradient, Array(workspace.parameterGradients))
    }

    /// `Σ network(input) · weights` in Double.
    static func objective(_ network: Network, input: Tensor, weights: Tensor, training: Bool = false) -> Double {
        let output = network(input, training: training)
        return zip(output.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Central-difference derivative of the objective with respect to every parameter.
    static func numericParameterGradients(_ network: Network, input: Tensor, weights: Tensor, step: Float = 1e-2, training: Bool = false) -> [Float] {
        var network = network
        var result = [Float](repeating: 0, count: network.parameters.count)
        for i in 0..<network.parameters.count {
            let original = network.parameters[i]
            network.parameters[i] = original + step
            let plus = objective(network, input: input, weights: weights, training: training)
            network.parameters[i] = original - step
            let minus = objective(network, input: input, weights: weights, training: training)
            network.parameters[i] = original
            result[i] = Float((plus - minus) / Double(2 * step))
        }
        return result
    }

    /// Central-difference derivative of the objective with respect to every input element.
    static func numericInputGradients(_ network: Network, input: Tensor, weights: Tensor, step: Float = 1e-2, training: Bool = false) -> [Float] {
        var input = input
        var result = [Float](repeating: 0, count: input.count)
        for i in 0..<input.count {
            let original = input.scalars[i]
            input.scalars[i] = original + step
            let plus = objective(network, input: input, weights: weights, training: training)
            input.scalars[i] = original - step
            let minus = objective(network, input: input, weights: weights, training: training)
            input.scalars[i] = original
            result[i] = Float((plus - minus) / Double(2 * step))
        }
        return result
    }

    /// The largest |a − b| relative to max(1, |b|).
    static func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        var worst: Float = 0
        for (x, y) in zip(a, b) { worst = max(worst, abs(x - y) / max(1, abs(y))) }
        return worst
    }

    /// The largest |a − b| relative to the largest |b| — the right measure for gradients, whose
    /// entries are often far below 1, where an absolute tolerance would hide a wrong factor.
    static func scaledError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count && !b.isEmpty)
        let scale = b.map(abs).max()!
        precondition(scale > 0, "all reference gradients are zero: the check would prove nothing")
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }
}

/// A layer that passes its input through unchanged, placed first so that the engine computes
/// the gradient with respect to the next layer's input.
struct Identity: Layer {
    private var count = 0
    mutating func prepare(inputShape: [Int]) throws -> [Int] { count = inputShape.reduce(1, *); return inputShape }
    func forward(_ b: LayerBuffers) { b.output.update(from: b.input, count: b.batch * count) }
    func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) { g.input?.update(from: g.output, count: b.batch * count) }
}
