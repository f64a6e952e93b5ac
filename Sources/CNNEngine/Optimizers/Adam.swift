import CNNKernels
import Foundation

/// Adam (Kingma & Ba 2015) exactly as PyTorch's `torch.optim.Adam` with its defaults:
/// betas 0.9 / 0.999, eps 1e-8 added after the bias-corrected square root, no weight decay.
///
/// Weight decay comes in PyTorch's two forms, through the same update loop: coupled (`Adam`'s
/// `weight_decay`: `g += wd·p` before the moments) and decoupled (`torch.optim.AdamW`:
/// `p *= 1 − lr·wd` before the Adam step; see `Adam.adamW`).
///
/// A reference type, like PyTorch's optimizers: it owns its moment buffers and a prebuilt
/// worker closure, so a step on several threads allocates nothing.
public final class Adam: Optimizer, @unchecked Sendable {
    public var learningRate: Float
    /// The decay rate of the first moment estimate (PyTorch's `betas[0]`).
    public var beta1: Float
    /// The decay rate of the second moment estimate (PyTorch's `betas[1]`).
    public var beta2: Float
    /// Added to the square root of the second moment, for stability (PyTorch's `eps`).
    public var epsilon: Float
    /// The weight-decay coefficient (0: none).
    public var weightDecay: Float
    /// Whether `weightDecay` is decoupled (AdamW: `p *= 1 − lr·wd`) rather than added to the gradient.
    public let decoupledWeightDecay: Bool
    /// Steps taken so far (PyTorch's `state['step']`).
    public private(set) var stepCount: Int = 0
    /// The first moment estimate (PyTorch's `exp_avg`), in the network's flat parameter layout.
    public var firstMoment: [Float] { Array(UnsafeBufferPointer(start: m, count: count)) }
    /// The second moment estimate (PyTorch's `exp_avg_sq`).
    public var secondMoment: [Float] { Array(UnsafeBufferPointer(start: v, count: count)) }
    private let m: UnsafeMutablePointer<Float>
    private let v: UnsafeMutablePointer<Float>
    private let count: Int

    /// - Parameters:
    ///   - parameterCount: the size of the flat parameter storage it will update.
    ///   - learningRate: step size (PyTorch's `lr`).
    ///   - beta1: the decay rate of the first moment estimate.
    ///   - beta2: the decay rate of the second moment estimate.
    ///   - epsilon: added to the denominator, for stability.
    ///   - weightDecay: the weight-decay coefficient (PyTorch's `weight_decay`).
    ///   - decoupledWeightDecay: `true` for AdamW's decoupled decay, `false` for Adam's L2 term.
    public init(parameterCount: Int, learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        count = parameterCount
        m = .allocate(capacity: max(parameterCount, 1))
        m.initialize(repeating: 0, count: max(parameterCount, 1))
        v = .allocate(capacity: max(parameterCount, 1))
        v.initialize(repeating: 0, count: max(parameterCount, 1))
        work = { [unowned self] part in
            let job = self.job
            Adam.update(Parallel.slice(job.count, part: part, of: job.parts), job.parameters!, job.gradients!, m, v, job.constants)
        }
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// The step being run, read by `work`.
    private var job = Job()
    private var work: ((Int) -> Void)?

    private struct Job {
        var parameters: UnsafeMutablePointer<Float>?
        var gradients: UnsafePointer<Float>?
        var count = 0
        var parts = 1
        var constants = Constants(beta1: 0, beta2: 0, epsilon: 0, stepSize: 0, inverseCorrection2Root: 0, decay: 0, shrink: 1)
    }

    /// Restores saved state (for resuming training).
    public func restore(stepCount: Int, firstMoment: [Float], secondMoment: [Float]) {
        precondition(firstMoment.count == count && secondMoment.count == count)
        self.stepCount = stepCount
        m.update(from: firstMoment, count: count)
        v.update(from: secondMoment, count: count)
    }

    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, workers: Int) {
        precondition(parameters.count == count && gradients.count == parameters.count)
        stepCount += 1
        let t = Double(stepCount)
        let correction1 = Float(1 - pow(Double(beta1), t))
        let correction2Root = Float((1 - pow(Double(beta2), t)).squareRoot())
        let decoupled = decoupledWeightDecay && weightDecay != 0
        let constants = Constants(beta1: beta1, beta2: beta2, epsilon: epsilon,
                                  stepSize: learningRate / correction1, inverseCorrection2Root: 1 / correction2Root,
                                  decay: decoupled ? 0 : weightDecay,
                                  shrink: decoupled ? Float(1 - Double(learningRate) * Double(weightDecay)) : 1)
        let count = parameters.count
        job = Job(parameters: parameters.baseAddress, gradients: gradients.baseAddress, count: count,
                  parts: max(1, min(workers, count / 4096)), constants: constants)
        Parallel.runPrebuilt(job.parts, work!)
    }

    private struct Constants {
        var beta1, beta2, epsilon, stepSize, inverseCorrection2Root: Float
        /// Coupled weight decay (`g += decay·p`), 0 for none.
        var decay: Float
        /// Decoupled weight decay's factor `1 − lr·wd` (exactly 1 for none, which leaves `p` unchanged).
        var shrink: Float
    }

    /// The update for one range of parameters: CNNKernels' `cnnk_adam`, with AVX2 where the
    /// processor has it (Swift's eight-lane version, 128-bit here, spilled its vectors and took
    /// a sixth of a SimpleCNN epoch). PyTorch's formula:
    /// `p −= stepSize · m / (√v / √(1 − β₂ᵗ) + ε)` with `stepSize = lr / (1 − β₁ᵗ)`, after
    /// `g += decay·p` (Adam's weight decay) and `p *= shrink` (AdamW's).
    private static func update(_ range: Range<Int>, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                               _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ c: Constants) {
        let first = range.lowerBound
        cnnk_adam(p + first, g + first, m + first, v + first, range.count, c.beta1, c.beta2, c.epsilon, c.stepSize,
                  c.inverseCorrection2Root, c.decay, c.shrink, KernelBuild.avx2)
    }
}

extension Adam {
    /// AdamW (Loshchilov & Hutter 2019) as PyTorch's `torch.optim.AdamW`: Adam with decoupled
    /// weight decay, `p *= 1 − lr·wd` before each Adam step; PyTorch's defaults (wd 0.01).
    public static func adamW(parameterCount: Int, learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(parameterCount: parameterCount, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupledWeightDecay: true)
    }
}
