/// One layer of a network as data: what an architecture file and a checkpoint's metadata hold.
///
/// Input sizes are never stored: a convolution's input channels and a linear layer's input
/// features follow from the shape that reaches them, so a description stays valid when pruning
/// narrows the layer before. JSON spells each case as an object with a `type`:
///
/// ```json
/// {"type": "conv", "name": "conv1", "out": 16, "kernel": 3, "stride": 1, "padding": 1, "bias": false}
/// {"type": "conv", "name": "dw", "out": 32, "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1],
///  "dilation": [1, 1], "groups": 32, "bias": false}
/// {"type": "batchnorm", "name": "bn1"}
/// {"type": "relu"}
/// {"type": "relu6"}, {"type": "leaky-relu", "slope": 0.01}, {"type": "silu"},
/// {"type": "hardswish"}, {"type": "hardsigmoid"}, {"type": "sigmoid"}
/// {"type": "maxpool", "kernel": 2, "stride": 2}
/// {"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": true}
/// {"type": "avgpool", "kernel": 2, "stride": 2}
/// {"type": "avgpool", "kernel": 3, "stride": 1, "padding": 1, "count_include_pad": false}
/// {"type": "global-avgpool"}
/// {"type": "flatten"}
/// {"type": "dropout", "p": 0.5}
/// {"type": "linear", "name": "fc", "out": 10}
/// {"type": "residual", "name": "layer1.0", "main": [ … ], "shortcut": [ … ], "relu": true}
/// ```
public indirect enum LayerSpec: Sendable, Equatable, Hashable {
    /// `Conv2D`: output channels, the kernel's geometry (`ConvolutionGeometry`), channel
    /// groups and an optional bias. In JSON, `kernel`, `stride` and `dilation` are a number or
    /// `[height, width]`, `padding` a number, `[height, width]` (both sides alike) or
    /// `[top, left, bottom, right]`; `groups` and `dilation` default to 1.
    case convolution(name: String, outputChannels: Int, geometry: ConvolutionGeometry, groups: Int, bias: Bool)
    /// `BatchNorm2D` over the channels that reach it.
    case batchNorm(name: String)
    /// `ReLU`.
    case relu
    /// `Activation`: any other elementwise activation function.
    case activation(ActivationFunction)
    /// `MaxPool2D`.
    case maxPool(PoolingWindow)
    /// `AvgPool2D`.
    case avgPool(PoolingWindow, countIncludePad: Bool)
    /// `GlobalAvgPool2D`: `[C, H, W]` → `[C, 1, 1]`.
    case globalAvgPool
    /// `Flatten`.
    case flatten
    /// `Dropout` with the probability of zeroing an element.
    case dropout(probability: Float)
    /// `Linear` with its output features.
    case linear(name: String, outputFeatures: Int)
    /// `Residual`: `relu(main(x) + shortcut(x))`; an empty shortcut is the identity.
    case residual(name: String, main: [LayerSpec], shortcut: [LayerSpec], rectifiesOutput: Bool)

    /// A convolution with a square kernel, one stride and one padding on every side, dense.
    /// - Parameters:
    ///   - name: the layer's name.
    ///   - outputChannels: its filters.
    ///   - kernelSize: the kernel's side.
    ///   - stride: the step between positions.
    ///   - padding: zeros on every side.
    ///   - bias: whether it adds a bias.
    public static func convolution(name: String, outputChannels: Int, kernelSize: Int, stride: Int, padding: Int, bias: Bool) -> LayerSpec {
        .convolution(name: name, outputChannels: outputChannels, geometry: ConvolutionGeometry(kernel: kernelSize, stride: stride, padding: padding),
                     groups: 1, bias: bias)
    }

    /// `MaxPool2D` over windows that tile the input (no padding, floor mode).
    /// - Parameters:
    ///   - kernel: the window's side.
    ///   - stride: the step between windows.
    public static func maxPool(kernel: Int, stride: Int) -> LayerSpec { .maxPool(PoolingWindow(kernel: kernel, stride: stride)) }

    /// `AvgPool2D` over windows that tile the input (no padding, floor mode).
    /// - Parameters:
    ///   - kernel: the window's side.
    ///   - stride: the step between windows.
    public static func avgPool(kernel: Int, stride: Int) -> LayerSpec { .avgPool(PoolingWindow(kernel: kernel, stride: stride), countIncludePad: true) }

    /// Every `type` an architecture file may name.
    public static let typeNames = ["conv", "batchnorm", "relu"] + ActivationFunction.typeNames
        + ["maxpool", "avgpool", "global-avgpool", "flatten", "dropout", "linear", "residual"]

    /// The layer's name, or empty for layers without tensors.
    public var name: String {
        switch self {
        case .convolution(let name, _, _, _, _), .batchNorm(let name), .linear(let name, _), .residual(let name, _, _, _): return name
        default: return ""
        }
    }

    /// The JSON `type`.
    public var typeName: String {
        switch self {
        case .convolution: return "conv"
        case .batchNorm: return "batchnorm"
        case .relu: return "relu"
        case .activation(let function): return function.typeName
        case .maxPool: return "maxpool"
        case .avgPool: return "avgpool"
        case .globalAvgPool: return "global-avgpool"
        case .flatten: return "flatten"
        case .dropout: return "dropout"
        case .linear: return "linear"
        case .residual: return "residual"
        }
    }
}

extension LayerSpec: Codable {
    private enum Keys: String, CodingKey {
        case type, name, out, kernel, stride, padding, bias, p, main, shortcut, relu, slope, dilation, groups
        case ceilMode = "ceil_mode", countIncludePad = "count_include_pad"
    }

    /// A number, or a list of `counts` numbers (`[height, width]`, or the paddings' four sides).
    private static func decodeSizes(_ container: KeyedDecodingContainer<Keys>, _ key: Keys, counts: [Int], default value: Int) throws -> [Int] {
        guard container.contains(key) else { return [value] }
        if let single = try? container.decode(Int.self, forKey: key) { return [single] }
        let list = try container.decode([Int].self, forKey: key)
        guard counts.contains(list.count) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container,
                debugDescription: "'\(key.stringValue)' must be a number or a list of \(counts.map(String.init).joined(separator: " or ")) numbers, got \(list.count)")
        }
        return list
    }

    /// A convolution's geometry from `kernel`, `stride`, `padding` and `dilation`.
    private static func decodeGeometry(_ container: KeyedDecodingContainer<Keys>) throws -> ConvolutionGeometry {
        func pair(_ values: [Int]) -> (Int, Int) { values.count == 1 ? (values[0], values[0]) : (values[0], values[1]) }
        guard container.contains(.kernel) else {
            throw DecodingError.keyNotFound(Keys.kernel, .init(codingPath: container.codingPath, debugDescription: "a conv layer needs a kernel"))
        }
        let kernel = pair(try decodeSizes(container, .kernel, counts: [2], default: 1))
        let stride = pair(try decodeSizes(container, .stride, counts: [2], default: 1))
        let dilation = pair(try decodeSizes(container, .dilation, counts: [2], default: 1))
        let pads = try decodeSizes(container, .padding, counts: [2, 4], default: 0)
        let sides = pads.count == 4 ? pads : pads.count == 2 ? [pads[0], pads[1], pads[0], pads[1]] : Array(repeating: pads[0], count: 4)
        return ConvolutionGeometry(kernelHeight: kernel.0, kernelWidth: kernel.1, strideY: stride.0, strideX: stride.1,
                                   padTop: sides[0], padLeft: sides[1], padBottom: sides[2], padRight: sides[3],
                                   dilationY: dilation.0, dilationX: dilation.1)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let type = try container.decode(String.self, forKey: .type)
        func name() throws -> String {
            let value = try container.decode(String.self, forKey: .name)
            guard !value.isEmpty, value.count <= 200, !value.contains(where: { $0.isWhitespace }) else {
                throw DecodingError.dataCorruptedError(forKey: .name, in: container, debugDescription: "a \(type) layer needs a non-empty name without spaces (at most 200 characters)")
            }
            return value
        }
        switch type {
        case "conv":
            self = .convolution(name: try name(), outputChannels: try container.decode(Int.self, forKey: .out),
                                geometry: try Self.decodeGeometry(container),
                                groups: try container.decodeIfPresent(Int.self, forKey: .groups) ?? 1,
                                bias: try container.decodeIfPresent(Bool.self, forKey: .bias) ?? true)
        case "batchnorm": self = .batchNorm(name: try name())
        case "relu": self = .relu
        case "relu6": self = .activation(.relu6)
        case "leaky-relu":
            let slope = try container.decodeIfPresent(Float.self, forKey: .slope) ?? ActivationFunction.defaultLeakySlope
            guard slope.isFinite else {
                throw DecodingError.dataCorruptedError(forKey: .slope, in: container, debugDescription: "a leaky-relu slope must be a finite number")
            }
            self = .activation(.leakyReLU(slope: slope))
        case "silu": self = .activation(.silu)
        case "hardswish": self = .activation(.hardswish)
        case "hardsigmoid": self = .activation(.hardsigmoid)
        case "sigmoid": self = .activation(.sigmoid)
        case "maxpool", "avgpool":
            let kernel = try container.decode(Int.self, forKey: .kernel)
            let window = PoolingWindow(kernel: kernel, stride: try container.decodeIfPresent(Int.self, forKey: .stride) ?? kernel,
                                       padding: try container.decodeIfPresent(Int.self, forKey: .padding) ?? 0,
                                       ceilMode: try container.decodeIfPresent(Bool.self, forKey: .ceilMode) ?? false)
            self = type == "maxpool" ? .maxPool(window)
                : .avgPool(window, countIncludePad: try container.decodeIfPresent(Bool.self, forKey: .countIncludePad) ?? true)
        case "global-avgpool": self = .globalAvgPool
        case "flatten": self = .flatten
        case "dropout": self = .dropout(probability: try container.decodeIfPresent(Float.self, forKey: .p) ?? 0.5)
        case "linear": self = .linear(name: try name(), outputFeatures: try container.decode(Int.self, forKey: .out))
        case "residual":
            self = .residual(name: try name(), main: try container.decode([LayerSpec].self, forKey: .main),
                             shortcut: try container.decodeIfPresent([LayerSpec].self, forKey: .shortcut) ?? [],
                             rectifiesOutput: try container.decodeIfPresent(Bool.self, forKey: .relu) ?? true)
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container,
                debugDescription: "unknown layer type '\(type)' (known: \(LayerSpec.typeNames.joined(separator: ", ")))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(typeName, forKey: .type)
        switch self {
        case .convolution(let name, let out, let geometry, let groups, let bias):
            try container.encode(name, forKey: .name)
            try container.encode(out, forKey: .out)
            let g = geometry
            if g.isUniform {
                // The classic form, as every earlier version wrote it.
                try container.encode(g.kernelHeight, forKey: .kernel)
                try container.encode(g.strideY, forKey: .stride)
                try container.encode(g.padTop, forKey: .padding)
            } else {
                try container.encode([g.kernelHeight, g.kernelWidth], forKey: .kernel)
                try container.encode([g.strideY, g.strideX], forKey: .stride)
                let symmetric = g.padTop == g.padBottom && g.padLeft == g.padRight
                try container.encode(symmetric ? [g.padTop, g.padLeft] : [g.padTop, g.padLeft, g.padBottom, g.padRight], forKey: .padding)
                if g.dilationY != 1 || g.dilationX != 1 { try container.encode([g.dilationY, g.dilationX], forKey: .dilation) }
            }
            if groups != 1 { try container.encode(groups, forKey: .groups) }
            try container.encode(bias, forKey: .bias)
        case .batchNorm(let name):
            try container.encode(name, forKey: .name)
        case .maxPool(let window), .avgPool(let window, _):
            try container.encode(window.kernel, forKey: .kernel)
            try container.encode(window.stride, forKey: .stride)
            // Written only when they differ from the defaults, so earlier files keep their bytes.
            if window.padding != 0 { try container.encode(window.padding, forKey: .padding) }
            if window.ceilMode { try container.encode(true, forKey: .ceilMode) }
            if case .avgPool(_, false) = self { try container.encode(false, forKey: .countIncludePad) }
        case .dropout(let p):
            try container.encode(p, forKey: .p)
        case .linear(let name, let out):
            try container.encode(name, forKey: .name)
            try container.encode(out, forKey: .out)
        case .residual(let name, let main, let shortcut, let relu):
            try container.encode(name, forKey: .name)
            try container.encode(main, forKey: .main)
            try container.encode(shortcut, forKey: .shortcut)
            try container.encode(relu, forKey: .relu)
        case .activation(let function):
            if case .leakyReLU(let slope) = function { try container.encode(slope, forKey: .slope) }
        case .relu, .globalAvgPool, .flatten:
            break
        }
    }
}
