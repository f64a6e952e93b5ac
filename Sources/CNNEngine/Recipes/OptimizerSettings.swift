/// Which optimizer a run uses and its hyper-parameters (all but the learning rate, which the
/// schedule owns): enough to build it, save its state in a training checkpoint and restore it.
public struct OptimizerSettings: Codable, Equatable, Sendable {
    /// The optimizers a run can use.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// `torch.optim.Adam` (weight decay, if any, coupled into the gradient).
        case adam
        /// `torch.optim.AdamW` (decoupled weight decay).
        case adamw
        /// `torch.optim.SGD` with optional momentum, Nesterov and weight decay.
        case sgd
    }

    /// Which optimizer the run uses.
    public var kind: Kind
    /// SGD's μ (0 for Adam and AdamW).
    public var momentum: Float
    /// SGD's Nesterov momentum.
    public var nesterov: Bool
    /// The weight-decay coefficient.
    public var weightDecay: Float

    /// The name of SGD's momentum buffer in a training checkpoint (PyTorch's state key).
    public static let momentumBufferName = "optimizer.momentum_buffer"

    /// - Parameters:
    ///   - kind: adam, adamw or sgd.
    ///   - momentum: SGD's μ.
    ///   - nesterov: SGD's Nesterov momentum.
    ///   - weightDecay: nil for PyTorch's default (0.01 for AdamW, 0 otherwise).
    public init(kind: Kind = .adam, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float? = nil) {
        self.kind = kind
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay ?? (kind == .adamw ? 0.01 : 0)
    }

    /// A fresh optimizer for `parameterCount` parameters.
    public func makeOptimizer(parameterCount: Int, learningRate: Float) -> any Optimizer {
        switch kind {
        case .adam: return Adam(parameterCount: parameterCount, learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: return Adam.adamW(parameterCount: parameterCount, learningRate: learningRate, weightDecay: weightDecay)
        case .sgd:
            return SGD(parameterCount: parameterCount, learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        }
    }

    /// The step count and state tensors of `optimizer` (made by `makeOptimizer`) for a training
    /// checkpoint: Adam's `optimizer.exp_avg` and `optimizer.exp_avg_sq`, SGD's
    /// `optimizer.momentum_buffer` (none without momentum).
    public func state(of optimizer: any Optimizer) -> (stepCount: Int, tensors: [String: Tensor]) {
        if let adam = optimizer as? Adam {
            let m = adam.firstMoment, v = adam.secondMoment
            return (adam.stepCount, [TrainingRun.firstMomentName: Tensor(shape: [m.count], scalars: m),
                                     TrainingRun.secondMomentName: Tensor(shape: [v.count], scalars: v)])
        }
        if let sgd = optimizer as? SGD {
            let buffer = sgd.momentumBuffer
            return (sgd.stepCount, buffer.isEmpty ? [:] : [OptimizerSettings.momentumBufferName: Tensor(shape: [buffer.count], scalars: buffer)])
        }
        preconditionFailure("not an optimizer these settings make: \(type(of: optimizer))")
    }

    /// An optimizer in the state `state(of:)` saved.
    /// - Throws: `TrainingCheckpointError` when a state tensor is missing, misshapen, or holds
    ///   values the optimizer cannot have (NaN or infinite ones, a negative `exp_avg_sq`).
    public func restoredOptimizer(parameterCount: Int, learningRate: Float, stepCount: Int,
                                  tensors: [String: Tensor]) throws -> any Optimizer {
        let optimizer = makeOptimizer(parameterCount: parameterCount, learningRate: learningRate)
        if let adam = optimizer as? Adam {
            guard let m = tensors[TrainingRun.firstMomentName], let v = tensors[TrainingRun.secondMomentName],
                  m.count == parameterCount, v.count == parameterCount else {
                throw TrainingCheckpointError(description: "missing or misshapen optimizer moments '\(TrainingRun.firstMomentName)', '\(TrainingRun.secondMomentName)'")
            }
            try OptimizerSettings.requireFinite(m, named: TrainingRun.firstMomentName)
            try OptimizerSettings.requireFinite(v, named: TrainingRun.secondMomentName)
            guard v.scalars.allSatisfy({ $0 >= 0 }) else {
                throw TrainingCheckpointError(description: "optimizer tensor '\(TrainingRun.secondMomentName)' holds negative values (a mean of squares cannot)")
            }
            adam.restore(stepCount: stepCount, firstMoment: m.scalars, secondMoment: v.scalars)
            return adam
        }
        var sgd = optimizer as! SGD
        if momentum == 0 {
            sgd.restore(stepCount: stepCount, momentumBuffer: [])
        } else {
            guard let buffer = tensors[OptimizerSettings.momentumBufferName], buffer.count == parameterCount else {
                throw TrainingCheckpointError(description: "missing or misshapen SGD momentum buffer '\(OptimizerSettings.momentumBufferName)'")
            }
            try OptimizerSettings.requireFinite(buffer, named: OptimizerSettings.momentumBufferName)
            sgd.restore(stepCount: stepCount, momentumBuffer: buffer.scalars)
        }
        return sgd
    }

    private static func requireFinite(_ tensor: Tensor, named name: String) throws {
        guard tensor.scalars.allSatisfy(\.isFinite) else {
            throw TrainingCheckpointError(description: "optimizer tensor '\(name)' holds NaN or infinite values")
        }
    }

    /// Checks settings read from a file (which bypass `init`'s defaults and PyTorch's rules).
    /// - Throws: `TrainingCheckpointError` naming the bad value.
    public func validate() throws {
        guard momentum.isFinite, momentum >= 0, momentum < 1 else { throw TrainingCheckpointError(description: "invalid optimizer momentum \(momentum)") }
        guard !nesterov || (kind == .sgd && momentum > 0) else { throw TrainingCheckpointError(description: "Nesterov momentum needs SGD with a momentum above 0") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw TrainingCheckpointError(description: "invalid weight decay \(weightDecay)") }
    }

    /// One line for people, e.g. "SGD (momentum 0.9, Nesterov, weight decay 0.0005)".
    public var description: String {
        switch kind {
        case .adam: return weightDecay == 0 ? "Adam" : "Adam (weight decay \(weightDecay))"
        case .adamw: return "AdamW (weight decay \(weightDecay))"
        case .sgd:
            var parts: [String] = []
            if momentum != 0 { parts.append("momentum \(momentum)") }
            if nesterov { parts.append("Nesterov") }
            if weightDecay != 0 { parts.append("weight decay \(weightDecay)") }
            return parts.isEmpty ? "SGD" : "SGD (\(parts.joined(separator: ", ")))"
        }
    }

    enum CodingKeys: String, CodingKey {
        case kind = "name"
        case momentum, nesterov
        case weightDecay = "weight_decay"
    }
}
