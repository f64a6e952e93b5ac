import CNNEngine

/// The translation of a network's layers into ONNX nodes and initializers, walking the chain
/// as `scripts/torch_interop.py`'s `graph_model` does: layers in order, a residual block's main
/// branch and shortcut from the same input, summed, then rectified.
///
/// | cnnprune layer | ONNX (opset 17) |
/// |---|---|
/// | `Conv2D` | `Conv` (weight `[out, in, k, k]`, optional bias; zero `pads`, `strides`) |
/// | `BatchNorm2D` | `BatchNormalization` with the running statistics, kept as its own node |
/// | `ReLU` | `Relu` |
/// | `Activation` | ReLU6: `Clip` (bounds 0 and 6 as initializers); LeakyReLU: `LeakyRelu`; SiLU: `Sigmoid` then `Mul`; Hardswish: `HardSwish`; Hardsigmoid: `HardSigmoid` (α 1/6, β 1/2, PyTorch's); Sigmoid: `Sigmoid` |
/// | `MaxPool2D`, `AvgPool2D` | `MaxPool`, `AveragePool` (no padding, floor mode) |
/// | `GlobalAvgPool2D` | `GlobalAveragePool` |
/// | `Flatten` | `Flatten` (`axis` 1) |
/// | `Dropout` | nothing: inference passes the input on |
/// | `Linear` | `Gemm` (`transB` 1: the weight is `[out, in]` as in PyTorch) |
/// | `Residual` | its branches, `Add`, then `Relu` when the block rectifies |
///
/// Initializers carry the checkpoint's tensor names (`layer1.0.conv1.weight`); node outputs are
/// named after their layer (`layer1.0.conv1`), unique within the graph.
struct ONNXGraphTranslation {
    /// The nodes, in an order where every input is produced before it is used.
    private(set) var nodes: [Onnx_NodeProto] = []
    /// The weights and running statistics the nodes read.
    private(set) var initializers: [Onnx_TensorProto] = []

    private let network: Network
    private var takenNames: Set<String>
    /// Scalar initializers by value (the bounds of `Clip`).
    private var constants: [Float: String] = [:]

    /// - Parameters:
    ///   - network: the network whose layers and tensors are translated.
    ///   - reservedNames: value names no node output may take (the graph's input and output).
    init(network: Network, reservedNames: Set<String>) {
        self.network = network
        let tensorNames = (network.architecture.parameterEntries + network.architecture.stateEntries).map(\.name)
        takenNames = reservedNames.union(tensorNames)
    }

    /// Appends the nodes computing `layers` from the value `input` and returns the name of the
    /// value they produce (`input` itself when every layer is a dropout).
    /// - Parameters:
    ///   - prefix: the tensor-name prefix of the enclosing block (`layer1.0.`), empty at the top.
    ///   - path: where the layers sit in the architecture, for errors (`layers`, `layers[4].main`).
    /// - Throws: `ONNXExportError.unsupportedLayer` for a layer without an ONNX translation.
    mutating func translate(_ layers: [any Layer], from input: String, prefix: String, path: String) throws -> String {
        var value = input
        for (index, layer) in layers.enumerated() {
            value = try translate(layer, from: value, prefix: prefix, path: "\(path)[\(index)]")
        }
        return value
    }

    private mutating func translate(_ layer: any Layer, from input: String, prefix: String, path: String) throws -> String {
        let fullName = prefix + layer.name
        if let block = layer as? Residual {
            let main = try translate(block.main, from: input, prefix: fullName + ".", path: path + ".main")
            let shortcut = try translate(block.shortcut, from: input, prefix: fullName + ".", path: path + ".shortcut")
            let sum = node("Add", name: fullName, inputs: [main, shortcut])
            return block.rectifiesOutput ? node("Relu", name: fullName + ".relu", inputs: [sum]) : sum
        }
        guard let specs = layer.specs else {
            throw ONNXExportError.unsupportedLayer(path: path, layer: layer.name.isEmpty ? "\(type(of: layer))" : "\(type(of: layer)) '\(layer.name)'",
                                                   reason: "it has no architecture description (a layer defined only in Swift code)")
        }
        // A convolution fused with its ReLU and max-pool (an inference plan's) is all three.
        var value = input
        for spec in specs {
            value = try translate(spec, of: layer, from: value, prefix: prefix, path: path)
        }
        return value
    }

    private mutating func translate(_ spec: LayerSpec, of layer: any Layer, from input: String, prefix: String, path: String) throws -> String {
        let fullName = prefix + layer.name
        func tensor(_ suffix: String) throws -> String {
            try initializer(named: "\(fullName).\(suffix)", path: path, spec: spec)
        }
        switch spec {
        case .convolution(_, _, let g, let groups, let bias):
            let parameters = [try tensor("weight")] + (bias ? [try tensor("bias")] : [])
            return node("Conv", name: fullName, inputs: [input] + parameters, attributes: [
                .ints("kernel_shape", [g.kernelHeight, g.kernelWidth]), .ints("strides", [g.strideY, g.strideX]),
                .ints("pads", [g.padTop, g.padLeft, g.padBottom, g.padRight]), .ints("dilations", [g.dilationY, g.dilationX]),
                .int("group", groups),
            ])
        case .batchNorm:
            let epsilon = (layer as? BatchNorm2D)?.epsilon ?? 1e-5
            let statistics = [try tensor("weight"), try tensor("bias"), try tensor("running_mean"), try tensor("running_var")]
            return node("BatchNormalization", name: fullName, inputs: [input] + statistics,
                        attributes: [.float("epsilon", epsilon), .float("momentum", 0.9)])
        case .relu:
            return node("Relu", name: prefix + "relu", inputs: [input])
        case .activation(let function):
            return translate(function, from: input, prefix: prefix)
        case .maxPool(let w):
            return node("MaxPool", name: prefix + "maxpool", inputs: [input], attributes: [
                .ints("kernel_shape", [w.kernel, w.kernel]), .ints("strides", [w.stride, w.stride]),
                .ints("pads", Array(repeating: w.padding, count: 4)), .int("ceil_mode", w.ceilMode ? 1 : 0),
            ])
        case .avgPool(let w, let countIncludePad):
            return node("AveragePool", name: prefix + "avgpool", inputs: [input], attributes: [
                .ints("kernel_shape", [w.kernel, w.kernel]), .ints("strides", [w.stride, w.stride]),
                .ints("pads", Array(repeating: w.padding, count: 4)), .int("ceil_mode", w.ceilMode ? 1 : 0),
                // Without padding every window is whole and the attribute changes nothing; it is
                // written as 0 then, as earlier versions did.
                .int("count_include_pad", countIncludePad && w.padding > 0 ? 1 : 0),
            ])
        case .globalAvgPool:
            return node("GlobalAveragePool", name: prefix + "global_avgpool", inputs: [input])
        case .flatten:
            return node("Flatten", name: prefix + "flatten", inputs: [input], attributes: [.int("axis", 1)])
        case .dropout:
            return input
        case .linear:
            return node("Gemm", name: fullName, inputs: [input, try tensor("weight"), try tensor("bias")], attributes: [
                .float("alpha", 1), .float("beta", 1), .int("transA", 0), .int("transB", 1),
            ])
        case .residual:
            // A residual spec always comes from a `Residual` layer, handled above; another
            // layer type claiming to be one cannot be walked.
            throw ONNXExportError.unsupportedLayer(path: path, layer: "\(type(of: layer))", reason: "it describes itself as a residual block but is not one")
        }
    }

    /// Appends the nodes of an activation function and returns their output.
    private mutating func translate(_ function: ActivationFunction, from input: String, prefix: String) -> String {
        let name = prefix + function.typeName.replacingOccurrences(of: "-", with: "_")
        switch function {
        case .relu6:
            return node("Clip", name: name, inputs: [input, constant(0), constant(6)])
        case .leakyReLU(let slope):
            return node("LeakyRelu", name: name, inputs: [input], attributes: [.float("alpha", slope)])
        case .silu:
            let gate = node("Sigmoid", name: name + ".sigmoid", inputs: [input])
            return node("Mul", name: name, inputs: [input, gate])
        case .hardswish:
            return node("HardSwish", name: name, inputs: [input])
        case .hardsigmoid:
            return node("HardSigmoid", name: name, inputs: [input], attributes: [.float("alpha", 1.0 / 6), .float("beta", 0.5)])
        case .sigmoid:
            return node("Sigmoid", name: name, inputs: [input])
        }
    }

    /// The name of a scalar initializer holding `value`, added the first time it is asked for.
    private mutating func constant(_ value: Float) -> String {
        if let known = constants[value] { return known }
        let name = uniqueName("constant_\(value)".replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "minus_"))
        initializers.append(Onnx_TensorProto(name: name, tensor: Tensor(shape: [], scalars: [value])))
        constants[value] = name
        return name
    }

    /// Appends a node whose single output is named after `name` (made unique) and returns that output.
    private mutating func node(_ opType: String, name: String, inputs: [String], attributes: [Onnx_AttributeProto] = []) -> String {
        let output = uniqueName(name)
        nodes.append(Onnx_NodeProto(operator: opType, name: output, inputs: inputs, outputs: [output], attributes: attributes))
        return output
    }

    /// Adds the network's tensor `name` as an initializer and returns its name.
    private mutating func initializer(named name: String, path: String, spec: LayerSpec) throws -> String {
        let tensor: Tensor
        do {
            tensor = try network.tensor(named: name)
        } catch {
            throw ONNXExportError.unsupportedLayer(path: path, layer: "\(spec.typeName) '\(spec.name)'", reason: "the network holds no tensor '\(name)'")
        }
        initializers.append(Onnx_TensorProto(name: name, tensor: tensor))
        return name
    }

    /// `base`, or `base_2`, `base_3`, … when taken.
    private mutating func uniqueName(_ base: String) -> String {
        var candidate = base, suffix = 2
        while takenNames.contains(candidate) {
            candidate = "\(base)_\(suffix)"
            suffix += 1
        }
        takenNames.insert(candidate)
        return candidate
    }

    /// Renames the value `old` to `new` wherever a node produces or reads it (the graph's final
    /// value becomes its declared output); node names stay those of their layers.
    mutating func renameValue(_ old: String, to new: String) {
        for index in nodes.indices {
            nodes[index].output = nodes[index].output.map { $0 == old ? new : $0 }
            nodes[index].input = nodes[index].input.map { $0 == old ? new : $0 }
        }
    }
}
