/// Stochastic gradient descent exactly as PyTorch's `torch.optim.SGD` with dampening 0:
///
/// ```
/// g ← g + wd·p                       (weight decay, when wd ≠ 0)
/// b ← μ·b + g   (b = g on the first step)   (momentum, when μ ≠ 0)
/// g ← nesterov ? g + μ·b : b
/// p ← p − lr·g
/// ```
///
/// The defaults (no momentum, no weight decay) are plain SGD, `p −= lr·g`. The momentum buffer
/// (PyTorch's `momentum_buffer`) is kept in the network's flat parameter layout, and `restore`
/// puts a saved one back so that a resumed run continues bit for bit.
public struct SGD: Optimizer {
    public var learningRate: Float
    /// μ, in [0, 1).
    public var momentum: Float
    /// Nesterov momentum (needs `momentum > 0`, as in PyTorch).
    public var nesterov: Bool
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`, coupled).
    public var weightDecay: Float
    /// Steps taken so far; the momentum buffer is empty (PyTorch's `None`) while this is 0.
    public private(set) var stepCount = 0
    private var velocity: [Float]

    /// - Parameters:
    ///   - parameterCount: the size of the flat parameter storage it will update.
    ///   - learningRate: step size (PyTorch's `lr`).
    ///   - momentum: μ; 0 keeps no buffer.
    ///   - nesterov: use Nesterov momentum.
    ///   - weightDecay: the L2 coefficient added to the gradient before momentum.
    public init(parameterCount: Int, learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(!nesterov || momentum > 0, "Nesterov momentum requires a momentum")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = momentum == 0 ? [] : [Float](repeating: 0, count: parameterCount)
    }

    /// The momentum buffer (empty without momentum; zeros before the first step).
    public var momentumBuffer: [Float] { velocity }

    /// Restores saved state (for resuming training).
    public mutating func restore(stepCount: Int, momentumBuffer: [Float]) {
        precondition(momentumBuffer.count == velocity.count)
        self.stepCount = stepCount
        velocity = momentumBuffer
    }

    public mutating func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, workers: Int) {
        precondition(gradients.count == parameters.count)
        let lr = learningRate, wd = weightDecay, p = parameters.baseAddress!, g = gradients.baseAddress!
        let count = parameters.count
        defer { stepCount += 1 }
        if momentum == 0 {
            if wd == 0 {
                for i in 0..<count { p[i] -= lr * g[i] }
            } else {
                for i in 0..<count { p[i] -= lr * (g[i] + wd * p[i]) }
            }
            return
        }
        precondition(velocity.count == count)
        let mu = momentum, first = stepCount == 0, nesterov = self.nesterov
        velocity.withUnsafeMutableBufferPointer { buffer in
            let v = buffer.baseAddress!
            for i in 0..<count {
                let gi = wd == 0 ? g[i] : g[i] + wd * p[i]
                // PyTorch initialises the buffer with the first (decayed) gradient itself.
                v[i] = first ? gi : mu * v[i] + gi
                p[i] -= lr * (nesterov ? gi + mu * v[i] : v[i])
            }
        }
    }
}
