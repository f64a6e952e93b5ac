/// Builds an array of layers from a block listing them in order, so a model reads like its
/// definition: `Sequential(inputShape: [3, 32, 32]) { Conv2D(...); ReLU(); ... }`.
@resultBuilder
public enum LayerBuilder {
    /// One layer in the block.
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
    /// Several layers in the block (a helper's output).
    public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
    /// The block's layers in order.
    public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
    /// The layers of an `if` whose condition holds, else none.
    public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
    /// The layers of an `if`'s first branch.
    public static func buildEither(first part: [any Layer]) -> [any Layer] { part }
    /// The layers of an `else` branch.
    public static func buildEither(second part: [any Layer]) -> [any Layer] { part }
    /// The layers of a `for` loop, in iteration order.
    public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
}

/// Where one named tensor lives in a network's flat parameter (or state) storage.
public struct ParameterEntry: Sendable, Equatable {
    /// The checkpoint name, `layer.tensor` (e.g. `conv2.weight`), as in PyTorch's state_dict.
    public var name: String
    /// The tensor's shape, as PyTorch's state_dict has it.
    public var shape: [Int]
    /// The fan-in that sets PyTorch's default initialisation bound.
    public var fanIn: Int
    /// The index of the owning layer in the `Sequential`.
    public var layerIndex: Int
    /// The first element's index in the flat storage.
    public var offset: Int
    /// How the tensor starts out.
    public var initializer: ParameterInitializer = .uniformFanIn
    /// Stored as a 64-bit integer in checkpoints (`num_batches_tracked`).
    public var isInteger = false
    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// A chain of layers bound to a per-sample input shape: the architecture of a network, without
/// its parameter values.
public struct Sequential: Sendable {
    /// The layers, bound to their input shapes, in order.
    public private(set) var layers: [any Layer]
    /// `shapes[i]` is the per-sample input shape of layer `i`; `shapes[layers.count]` the output's.
    public private(set) var shapes: [[Int]]
    /// Every learnable tensor, in storage order.
    public private(set) var parameterEntries: [ParameterEntry]
    /// `layerParameterOffsets[i]` is where layer `i`'s parameters start in the flat storage.
    public private(set) var layerParameterOffsets: [Int]
    /// The total number of learnable scalars.
    public private(set) var parameterCount: Int
    /// Every state tensor (running statistics), in storage order.
    public private(set) var stateEntries: [ParameterEntry]
    /// `layerStateOffsets[i]` is where layer `i`'s state starts in the flat state storage.
    public private(set) var layerStateOffsets: [Int]
    /// The total number of state scalars.
    public private(set) var stateCount: Int
    /// Indices of the layers that have state (updated after each training step).
    public private(set) var statefulLayers: [Int]
    /// `fusedRectifier[i]` is true when layer `i` is a `ReLU` directly followed by a
    /// `MaxPool2D`: the two run as one pass (see `Network.forward`).
    public private(set) var fusedRectifier: [Bool]
    /// The architecture as data, when every layer can describe itself (see `Layer.specs`): the
    /// function the layers compute, fused layers included.
    public internal(set) var graph: ModelGraph?

    /// Binds `layers` to the shapes they will see, starting from `inputShape` (one sample's).
    /// Throws `EngineError.shapeMismatch` when consecutive layers do not fit.
    public init(inputShape: [Int], layers: [any Layer]) throws {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw EngineError.shapeMismatch("invalid input shape \(inputShape)")
        }
        var bound: [any Layer] = []
        var shapes = [inputShape]
        var entries: [ParameterEntry] = [], stateEntries: [ParameterEntry] = []
        var offsets: [Int] = [], stateOffsets: [Int] = []
        var offset = 0, stateOffset = 0
        var names = Set<String>()
        for (index, var layer) in layers.enumerated() {
            let output = try layer.prepare(inputShape: shapes[index])
            offsets.append(offset)
            stateOffsets.append(stateOffset)
            for (isState, specs) in [(false, layer.parameterSpecs), (true, layer.stateSpecs)] {
                for spec in specs {
                    let name = layer.name.isEmpty ? spec.name : "\(layer.name).\(spec.name)"
                    guard names.insert(name).inserted else {
                        throw EngineError.shapeMismatch("two tensors named '\(name)'")
                    }
                    let entry = ParameterEntry(name: name, shape: spec.shape, fanIn: spec.fanIn, layerIndex: index,
                                               offset: isState ? stateOffset : offset, initializer: spec.initializer, isInteger: spec.isInteger)
                    if isState {
                        stateEntries.append(entry)
                        stateOffset += spec.count
                    } else {
                        entries.append(entry)
                        offset += spec.count
                    }
                }
            }
            bound.append(layer)
            shapes.append(output)
        }
        self.layers = bound
        self.shapes = shapes
        self.parameterEntries = entries
        self.layerParameterOffsets = offsets
        self.parameterCount = offset
        self.stateEntries = stateEntries
        self.layerStateOffsets = stateOffsets
        self.stateCount = stateOffset
        self.statefulLayers = bound.indices.filter { !bound[$0].stateSpecs.isEmpty }
        self.fusedRectifier = bound.indices.map { i in
            i + 1 < bound.count && bound[i] is ReLU && bound[i + 1] is MaxPool2D
        }
        let specs = bound.map(\.specs)
        self.graph = specs.contains { $0 == nil } ? nil : ModelGraph(inputShape: inputShape, layers: specs.flatMap { $0! })
    }

    /// Builds the chain from a result-builder block.
    public init(inputShape: [Int], @LayerBuilder _ build: () -> [any Layer]) throws {
        try self.init(inputShape: inputShape, layers: build())
    }

    /// The per-sample input shape.
    public var inputShape: [Int] { shapes[0] }
    /// The per-sample output shape.
    public var outputShape: [Int] { shapes[shapes.count - 1] }

    /// The index of the layer called `name`, if any.
    public func layerIndex(named name: String) -> Int? {
        layers.firstIndex { !$0.name.isEmpty && $0.name == name }
    }

    /// The most values any layer sums across workers in one call (0 when none does).
    public var reductionCapacity: Int { layers.map(\.reductionCapacity).max() ?? 0 }
}
