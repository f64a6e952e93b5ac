import Foundation

/// An elementwise activation function of modern CNNs (MobileNetV2/V3, EfficientNet), with
/// PyTorch's definitions and PyTorch's gradients at the kinks. `ReLU` keeps its own layer (the
/// engine fuses it into convolutions and pooling).
public enum ActivationFunction: Sendable, Hashable {
    /// `min(max(x, 0), 6)` (`torch.nn.ReLU6`).
    case relu6
    /// `x` for `x > 0`, else `slope · x` (`torch.nn.LeakyReLU(negative_slope)`).
    case leakyReLU(slope: Float)
    /// `x · σ(x)` (`torch.nn.SiLU`, also called swish).
    case silu
    /// `x · min(max(x + 3, 0), 6) / 6` (`torch.nn.Hardswish`).
    case hardswish
    /// `min(max(x + 3, 0), 6) / 6` (`torch.nn.Hardsigmoid`).
    case hardsigmoid
    /// `1 / (1 + e⁻ˣ)` (`torch.nn.Sigmoid`).
    case sigmoid

    /// PyTorch's default slope of `LeakyReLU`.
    public static let defaultLeakySlope: Float = 0.01

    /// The architecture file's `type` of each function, in the order of the cases.
    public static let typeNames = ["relu6", "leaky-relu", "silu", "hardswish", "hardsigmoid", "sigmoid"]

    /// The architecture file's `type`.
    public var typeName: String {
        switch self {
        case .relu6: return "relu6"
        case .leakyReLU: return "leaky-relu"
        case .silu: return "silu"
        case .hardswish: return "hardswish"
        case .hardsigmoid: return "hardsigmoid"
        case .sigmoid: return "sigmoid"
        }
    }

    /// Whether `f(0) = 0`: a channel zeroed before the function stays zero after it, so
    /// masking and removing channels commute with it.
    public var preservesZero: Bool {
        switch self {
        case .relu6, .leakyReLU, .silu, .hardswish: return true
        case .hardsigmoid, .sigmoid: return false
        }
    }

    /// `f(x)`.
    @inline(__always)
    public func value(_ x: Float) -> Float {
        switch self {
        case .relu6: return min(max(x, 0), 6)
        case .leakyReLU(let slope): return x > 0 ? x : slope * x
        case .silu: return x / (1 + exp(-x))
        case .hardswish: return x * (min(max(x + 3, 0), 6) / 6)
        case .hardsigmoid: return min(max(x + 3, 0), 6) / 6
        case .sigmoid: return 1 / (1 + exp(-x))
        }
    }

    /// `f′(x)`, with PyTorch's choices where `f` has a kink: ReLU6 passes no gradient at 0 and
    /// 6, LeakyReLU takes the slope at 0, Hardswish takes `x/3 + 1/2` on `(-3, 3)`, 0 at -3 and 1 at 3,
    /// Hardsigmoid passes `1/6` on the open interval `(-3, 3)` only.
    @inline(__always)
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .relu6: return x > 0 && x < 6 ? 1 : 0
        case .leakyReLU(let slope): return x > 0 ? 1 : slope
        case .silu:
            let s = 1 / (1 + exp(-x))
            return s * (1 + x * (1 - s))
        case .hardswish: return x <= -3 ? 0 : (x < 3 ? x / 3 + 0.5 : 1)
        case .hardsigmoid: return x > -3 && x < 3 ? 1 / 6 : 0
        case .sigmoid:
            let s = 1 / (1 + exp(-x))
            return s * (1 - s)
        }
    }
}

/// An elementwise `ActivationFunction` on any shape.
public struct Activation: Layer {
    /// The function applied to every element.
    public let function: ActivationFunction
    private var count = 0

    /// An activation layer; it has no parameters.
    /// - Parameter function: the function applied to every element.
    public init(_ function: ActivationFunction) {
        self.function = function
    }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        count = inputShape.reduce(1, *)
        return inputShape
    }

    public var spec: LayerSpec? { .activation(function) }

    public func forward(_ b: LayerBuffers) {
        let total = b.batch * count
        let input = b.input, output = b.output
        // One loop per function, so that the switch stays out of the element loop.
        switch function {
        case .relu6: for i in 0..<total { output[i] = ActivationFunction.relu6.value(input[i]) }
        case .leakyReLU(let slope):
            let f = ActivationFunction.leakyReLU(slope: slope)
            for i in 0..<total { output[i] = f.value(input[i]) }
        case .silu: for i in 0..<total { output[i] = ActivationFunction.silu.value(input[i]) }
        case .hardswish: for i in 0..<total { output[i] = ActivationFunction.hardswish.value(input[i]) }
        case .hardsigmoid: for i in 0..<total { output[i] = ActivationFunction.hardsigmoid.value(input[i]) }
        case .sigmoid: for i in 0..<total { output[i] = ActivationFunction.sigmoid.value(input[i]) }
        }
    }

    /// The input gradient: the output gradient times `f′` at the input.
    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        guard let inputGradient = g.input else { return }
        let total = b.batch * count
        let input = b.input, output = g.output
        switch function {
        case .relu6: for i in 0..<total { inputGradient[i] = output[i] * ActivationFunction.relu6.derivative(input[i]) }
        case .leakyReLU(let slope):
            let f = ActivationFunction.leakyReLU(slope: slope)
            for i in 0..<total { inputGradient[i] = output[i] * f.derivative(input[i]) }
        case .silu: for i in 0..<total { inputGradient[i] = output[i] * ActivationFunction.silu.derivative(input[i]) }
        case .hardswish: for i in 0..<total { inputGradient[i] = output[i] * ActivationFunction.hardswish.derivative(input[i]) }
        case .hardsigmoid: for i in 0..<total { inputGradient[i] = output[i] * ActivationFunction.hardsigmoid.derivative(input[i]) }
        case .sigmoid: for i in 0..<total { inputGradient[i] = output[i] * ActivationFunction.sigmoid.derivative(input[i]) }
        }
    }
}
