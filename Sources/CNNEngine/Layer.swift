/// The shape and initialisation fan-in of one learnable tensor of a layer.
public struct ParameterSpec: Sendable, Equatable {
    /// The tensor's name within its layer, as PyTorch names it: `weight` or `bias`.
    public var name: String
    /// The tensor's shape, as PyTorch's state_dict has it (e.g. `[out, in, kh, kw]`).
    public var shape: [Int]
    /// The number of inputs feeding one output, which sets PyTorch's default init bound.
    public var fanIn: Int

    public init(name: String, shape: [Int], fanIn: Int) {
        self.name = name
        self.shape = shape
        self.fanIn = fanIn
    }

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// The raw buffers a layer reads and writes for one forward pass over `batch` samples.
///
/// All pointers are owned by a `Workspace` (activations, scratch) or a `Network` (parameters);
/// layers never allocate.
public struct LayerBuffers {
    /// Samples in this pass.
    public var batch: Int
    /// `batch × inputCount` floats, sample-major.
    public var input: UnsafeMutablePointer<Float>
    /// `batch × outputCount` floats, sample-major.
    public var output: UnsafeMutablePointer<Float>
    /// `batch × scratchPerSample` floats the layer keeps between forward and backward, followed
    /// by `scratchPerBatch` floats of working space it may overwrite at any time.
    public var scratch: UnsafeMutablePointer<Float>
    /// The layer's parameters, its tensors one after the other in `parameterSpecs` order.
    public var parameters: UnsafeMutablePointer<Float>
}

/// The raw buffers of one backward pass.
public struct LayerGradientBuffers {
    /// The loss gradient with respect to the layer's output (`batch × outputCount`).
    public var output: UnsafeMutablePointer<Float>
    /// Where to write the gradient with respect to the input, or `nil` when nobody needs it
    /// (the first layer).
    public var input: UnsafeMutablePointer<Float>?
    /// Parameter gradients, laid out like `LayerBuffers.parameters`; backward *overwrites* them
    /// with the gradient summed over the batch (so nobody has to zero them first).
    public var parameters: UnsafeMutablePointer<Float>
}

/// One stage of a `Sequential` network: a pure function of its input and parameters, with its
/// backward pass.
///
/// A layer is a value describing its configuration; `prepare(inputShape:)` binds it to the
/// per-sample shape it will see (e.g. `[3, 32, 32]`) so that the hot calls take no shapes.
public protocol Layer: Sendable {
    /// The name that prefixes the layer's parameters in checkpoints (`conv1` → `conv1.weight`);
    /// empty for layers without parameters.
    var name: String { get }

    /// Binds the layer to a per-sample input shape and returns the per-sample output shape.
    /// Throws `EngineError.shapeMismatch` when the layer cannot take that input.
    mutating func prepare(inputShape: [Int]) throws -> [Int]

    /// The learnable tensors, in storage order. Valid after `prepare`.
    var parameterSpecs: [ParameterSpec] { get }

    /// Floats of per-sample scratch the layer keeps from forward to backward. Valid after `prepare`.
    var scratchPerSample: Int { get }

    /// Floats of working space the layer needs once per pass, whatever the batch size (kept
    /// small enough to stay in cache). Valid after `prepare`.
    var scratchPerBatch: Int { get }

    /// Computes the output of `buffers.batch` samples.
    func forward(_ buffers: LayerBuffers)

    /// Computes input and parameter gradients, given the buffers of the preceding forward pass.
    func backward(_ buffers: LayerBuffers, gradients: LayerGradientBuffers)
}

extension Layer {
    public var name: String { "" }
    public var parameterSpecs: [ParameterSpec] { [] }
    public var scratchPerSample: Int { 0 }
    public var scratchPerBatch: Int { 0 }
}

/// Errors the engine reports: wrong shapes, unknown names.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(String)
    case unknownParameter(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let message): return message
        case .unknownParameter(let name): return "unknown parameter '\(name)'"
        }
    }
}
