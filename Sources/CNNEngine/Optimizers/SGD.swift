/// Stochastic gradient descent with optional momentum, as PyTorch's `torch.optim.SGD`
/// (`v = μ·v + g; p −= lr·v`, no dampening, no Nesterov, no weight decay).
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    private var velocity: [Float]
    private var started = false

    public init(parameterCount: Int, learningRate: Float, momentum: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        velocity = momentum == 0 ? [] : [Float](repeating: 0, count: parameterCount)
    }

    public mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, workers: Int) {
        let lr = learningRate
        if momentum == 0 {
            for i in 0..<parameters.count { parameters[i] -= lr * gradients[i] }
            return
        }
        let mu = momentum, first = !started
        velocity.withUnsafeMutableBufferPointer { v in
            for i in 0..<parameters.count {
                // PyTorch initialises the buffer with the first gradient itself.
                v[i] = first ? gradients[i] : mu * v[i] + gradients[i]
                parameters[i] -= lr * v[i]
            }
        }
        started = true
    }
}
