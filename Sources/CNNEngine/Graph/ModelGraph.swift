import Foundation

/// A network's architecture as a value: the per-sample input shape and the layers in order,
/// residual blocks holding their branches. `Codable` (the `--arch-file` format and the
/// `cnnprune.graph` metadata of every checkpoint) and `Sendable`.
///
/// ```json
/// {"name": "tiny", "input": [3, 32, 32], "layers": [
///   {"type": "conv", "name": "conv1", "out": 8, "kernel": 3, "padding": 1, "bias": false},
///   {"type": "batchnorm", "name": "bn1"}, {"type": "relu"},
///   {"type": "residual", "name": "block", "main": [
///     {"type": "conv", "name": "conv1", "out": 8, "kernel": 3, "padding": 1, "bias": false},
///     {"type": "batchnorm", "name": "bn1"}]},
///   {"type": "global-avgpool"}, {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 10}]}
/// ```
///
/// The layers form a chain whose only branches are those of residual blocks, so the graph is
/// acyclic by construction: a file cannot express a cycle.
public struct ModelGraph: Codable, Sendable, Equatable {
    /// A label such as `resnet20`, for reports; not part of the architecture's identity.
    public var name: String?
    /// One sample's shape, `[channels, height, width]`.
    public var inputShape: [Int]
    /// The layers, in order.
    public var layers: [LayerSpec]

    /// An architecture called `name` (optional) of `layers` on samples of `inputShape`.
    public init(name: String? = nil, inputShape: [Int], layers: [LayerSpec]) {
        self.name = name
        self.inputShape = inputShape
        self.layers = layers
    }

    enum CodingKeys: String, CodingKey {
        case name, layers
        case inputShape = "input"
    }

    public static func == (a: ModelGraph, b: ModelGraph) -> Bool {
        a.inputShape == b.inputShape && a.layers == b.layers
    }

    /// The most layers a graph may hold, counting those inside blocks.
    public static let maximumLayerCount = 2_000
    /// The deepest nesting of residual blocks.
    public static let maximumNesting = 4
    /// The widest channel or feature count, and the largest image side.
    public static let maximumWidth = 1 << 16
    /// The most learnable scalars (4 GiB of Float32).
    public static let maximumParameterCount = 1 << 30
    /// The most floats one sample's activation may hold.
    public static let maximumActivationCount = 1 << 26

    /// Binds the layers to their shapes.
    /// - Throws: `EngineError.shapeMismatch` naming the first layer that does not fit (shapes,
    ///   absurd widths or depth, a linear layer on an unflattened input, an empty name, …).
    public func sequential() throws -> Sequential {
        guard inputShape.count == 3, inputShape.allSatisfy({ (1...ModelGraph.maximumWidth).contains($0) }) else {
            throw EngineError.shapeMismatch("input shape \(inputShape) must be [channels, height, width], each 1…\(ModelGraph.maximumWidth)")
        }
        var count = 0
        try ModelGraph.checkSize(layers, path: "layers", nesting: 0, count: &count)
        var shape = inputShape
        var built: [any Layer] = []
        for (index, spec) in layers.enumerated() {
            let layer = try ModelGraph.layer(spec, inputShape: shape, path: "layers[\(index)]")
            var bound = layer
            shape = try bound.prepare(inputShape: shape)
            try ModelGraph.checkActivation(shape, path: "layers[\(index)]", spec: spec)
            built.append(layer)
        }
        var sequential = try Sequential(inputShape: inputShape, layers: built)
        sequential.graph?.name = name
        guard sequential.parameterCount <= ModelGraph.maximumParameterCount else {
            throw EngineError.shapeMismatch("the architecture has \(sequential.parameterCount) parameters, more than the \(ModelGraph.maximumParameterCount) allowed")
        }
        return sequential
    }

    private static func checkSize(_ layers: [LayerSpec], path: String, nesting: Int, count: inout Int) throws {
        guard nesting <= maximumNesting else {
            throw EngineError.shapeMismatch("\(path): residual blocks nested more than \(maximumNesting) deep")
        }
        for (index, spec) in layers.enumerated() {
            count += 1
            guard count <= maximumLayerCount else {
                throw EngineError.shapeMismatch("the architecture has more than \(maximumLayerCount) layers")
            }
            if case .residual(_, let main, let shortcut, _) = spec {
                try checkSize(main, path: "\(path)[\(index)].main", nesting: nesting + 1, count: &count)
                try checkSize(shortcut, path: "\(path)[\(index)].shortcut", nesting: nesting + 1, count: &count)
            }
        }
    }

    private static func checkActivation(_ shape: [Int], path: String, spec: LayerSpec) throws {
        var total = 1
        for extent in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= maximumActivationCount else {
                throw EngineError.shapeMismatch("\(path) (\(spec.typeName) '\(spec.name)'): its output \(shape) is larger than \(maximumActivationCount) values per sample")
            }
            total = product
        }
    }

    /// The engine layer for `spec`, given the shape that reaches it.
    static func layer(_ spec: LayerSpec, inputShape shape: [Int], path: String) throws -> any Layer {
        let label = spec.name.isEmpty ? "\(path) (\(spec.typeName))" : "\(path) (\(spec.typeName) '\(spec.name)')"
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw EngineError.shapeMismatch("\(label): \(message())") }
        }
        func spatial() throws {
            try require(shape.count == 3, "needs a [channels, height, width] input, got \(shape)")
        }
        switch spec {
        case .convolution(let name, let out, let geometry, let groups, let bias):
            try spatial()
            try require((1...maximumWidth).contains(out), "output channels must be 1…\(maximumWidth), got \(out)")
            if let problem = geometry.problem { try require(false, problem) }
            try require(groups >= 1 && shape[0] % groups == 0 && out % groups == 0,
                        "\(groups) groups must divide the \(shape[0]) input and \(out) output channels")
            try require(geometry.outputSize(height: shape[1], width: shape[2]) != nil, geometry.isUniform
                ? "a \(geometry.kernelHeight)×\(geometry.kernelWidth) kernel does not fit the \(shape[1])×\(shape[2]) input with padding \(geometry.padTop)"
                : "a kernel spanning \(geometry.spanY)×\(geometry.spanX) does not fit the \(shape[1])×\(shape[2]) input (\(geometry))")
            return Conv2D(name: name, inputChannels: shape[0], outputChannels: out, geometry: geometry, groups: groups, bias: bias)
        case .batchNorm(let name):
            try spatial()
            return BatchNorm2D(name: name, channels: shape[0])
        case .relu:
            return ReLU()
        case .activation(let function):
            return Activation(function)
        case .maxPool(let window), .avgPool(let window, _):
            try spatial()
            if let problem = window.problem { try require(false, problem) }
            try require(window.outputSize(shape[1]) != nil && window.outputSize(shape[2]) != nil,
                        "a \(window.kernel)×\(window.kernel) window does not fit the \(shape[1])×\(shape[2]) input")
            if case .avgPool(_, let countIncludePad) = spec { return AvgPool2D(window, countIncludePad: countIncludePad) }
            return MaxPool2D(window)
        case .globalAvgPool:
            try spatial()
            return GlobalAvgPool2D()
        case .flatten:
            return Flatten()
        case .dropout(let p):
            try require(p >= 0 && p < 1, "the probability must be in [0, 1), got \(p)")
            return Dropout(probability: p)
        case .linear(let name, let out):
            try require(shape.count == 1, "needs a flat input, got \(shape): put a flatten layer before it")
            try require((1...maximumWidth).contains(out), "output features must be 1…\(maximumWidth), got \(out)")
            let (weights, overflow) = shape[0].multipliedReportingOverflow(by: out)
            try require(!overflow && weights <= maximumParameterCount, "\(shape[0]) × \(out) weights are too many")
            return Linear(name: name, inputFeatures: shape[0], outputFeatures: out)
        case .residual(let name, let main, let shortcut, let relu):
            try require(!main.isEmpty, "needs a main branch")
            func branch(_ specs: [LayerSpec], _ part: String) throws -> [any Layer] {
                var current = shape
                return try specs.enumerated().map { index, inner in
                    let layer = try ModelGraph.layer(inner, inputShape: current, path: "\(path).\(part)[\(index)]")
                    var bound = layer
                    current = try bound.prepare(inputShape: current)
                    try ModelGraph.checkActivation(current, path: "\(path).\(part)[\(index)]", spec: inner)
                    return layer
                }
            }
            return Residual(name: name, main: try branch(main, "main"), shortcut: try branch(shortcut, "shortcut"), rectifiesOutput: relu)
        }
    }

    /// The JSON form, keys sorted (stable across runs).
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Parses an architecture from JSON.
    /// - Throws: `ModelGraphError` with one line naming where the text is wrong
    ///   (`layers[3].main[1]: unknown layer type 'conv3d' …`).
    public static func decode(_ data: Data) throws -> ModelGraph {
        do {
            return try JSONDecoder().decode(ModelGraph.self, from: data)
        } catch let error as DecodingError {
            throw ModelGraphError(description: ModelGraphError.describe(error))
        } catch {
            throw ModelGraphError(description: "not valid JSON (\(error.localizedDescription))")
        }
    }
}

/// Why a text is not an architecture, as one line naming the place.
public struct ModelGraphError: Error, CustomStringConvertible, Equatable {
    public var description: String

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            var text = ""
            for key in context.codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "the architecture" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context)): missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "\(path(context)): \(context.codingPath.isEmpty ? "not valid JSON" : context.debugDescription)\(underlying.map { " (\($0))" } ?? "")"
        @unknown default:
            return "not a valid architecture"
        }
    }
}
