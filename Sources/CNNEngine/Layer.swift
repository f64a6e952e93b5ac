/// How a learnable tensor or a state buffer starts out before training.
public enum ParameterInitializer: Sendable, Equatable {
    /// `U(±1/√fanIn)`: PyTorch's default for `Conv2d` and `Linear` weights and biases.
    case uniformFanIn
    /// All ones (a BatchNorm's `weight` and `running_var`).
    case ones
    /// All zeros (a BatchNorm's `bias`, `running_mean` and `num_batches_tracked`).
    case zeros
}

/// The shape and initialisation of one learnable tensor (or one state buffer) of a layer.
public struct ParameterSpec: Sendable, Equatable {
    /// The tensor's name within its layer, as PyTorch names it: `weight`, `bias`, `running_mean`.
    public var name: String
    /// The tensor's shape, as PyTorch's state_dict has it (e.g. `[out, in, kh, kw]`).
    public var shape: [Int]
    /// The number of inputs feeding one output, which sets PyTorch's default init bound.
    public var fanIn: Int
    /// How the tensor starts out.
    public var initializer: ParameterInitializer
    /// Whether the checkpoint stores the tensor as a 64-bit integer (PyTorch's
    /// `num_batches_tracked`); it is held as a Float in memory like every other tensor.
    public var isInteger: Bool

    /// A tensor called `name` of `shape`, initialised by `initializer` with bound set by `fanIn`.
    public init(name: String, shape: [Int], fanIn: Int, initializer: ParameterInitializer = .uniformFanIn, isInteger: Bool = false) {
        self.name = name
        self.shape = shape
        self.fanIn = fanIn
        self.initializer = initializer
        self.isInteger = isInteger
    }

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// What kind of pass a layer is running, and how the worker running it relates to the others
/// sharing the same batch.
///
/// In training, a batch is split into contiguous slices, one per worker; layers that need
/// statistics of the whole batch (BatchNorm) combine the workers' partial sums through
/// `reducer`. Inference passes are independent per sample.
public struct PassContext: @unchecked Sendable {
    /// Training (batch statistics, dropout) or inference (running statistics, no dropout).
    public var training: Bool
    /// This worker's index, `0..<workers`.
    public var worker: Int
    /// Combines per-worker partial sums across the workers of one batch; `nil` for a single worker.
    public var reducer: BatchReducer?
    /// Samples in the whole batch, across all workers.
    public var batchTotal: Int
    /// The index, within the whole batch, of this worker's first sample.
    public var sampleOffset: Int
    /// A number that differs per optimisation step, from which seeded layers (dropout) draw.
    public var step: UInt64
    /// Whether a backward pass may follow this forward pass, so that layers must keep what it
    /// needs (a max-pool's winning positions). `Network.forward` clears it for workspaces
    /// without gradient buffers, where layers may then skip that bookkeeping.
    public var backwardFollows: Bool = true

    /// A pass context; the defaults describe an inference pass on one worker.
    public init(training: Bool = false, worker: Int = 0, reducer: BatchReducer? = nil, batchTotal: Int = 0, sampleOffset: Int = 0, step: UInt64 = 0) {
        self.training = training
        self.worker = worker
        self.reducer = reducer
        self.batchTotal = batchTotal
        self.sampleOffset = sampleOffset
        self.step = step
    }

    /// An inference pass.
    public static let inference = PassContext()

    /// A training pass over `batch` samples on one worker.
    public static func training(batch: Int, step: UInt64 = 0) -> PassContext {
        PassContext(training: true, batchTotal: batch, step: step)
    }

    /// Sums `count` values over all the workers of the batch, in place, in worker order (so
    /// every worker gets bit-identical totals). Does nothing with a single worker.
    @inline(__always)
    public func allReduce(_ values: UnsafeMutablePointer<Double>, count: Int) {
        reducer?.allReduce(values, count: count, worker: worker)
    }
}

/// The raw buffers a layer reads and writes for one forward pass over `batch` samples.
///
/// All pointers are owned by a `Workspace` (activations, scratch) or a `Network` (parameters,
/// state); layers never allocate.
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
    /// `keptPerBatch` floats the layer keeps between forward and backward whatever the batch
    /// size (a BatchNorm's batch mean and inverse deviation).
    public var kept: UnsafeMutablePointer<Float>
    /// `batch × transientPerSample` floats of working space valid during one call only, shared
    /// by all layers of the network (a residual block's branch gradients).
    public var transient: UnsafeMutablePointer<Float>
    /// The layer's state buffers (running statistics), read-only during a pass; in `stateSpecs` order.
    public var state: UnsafeMutablePointer<Float>
    /// Training or inference, and this worker's place in the batch.
    public var context: PassContext

    /// The buffers of one pass; `kept`, `transient` and `state` default to other buffers for layers that do not use them.
    public init(batch: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                scratch: UnsafeMutablePointer<Float>, parameters: UnsafeMutablePointer<Float>,
                kept: UnsafeMutablePointer<Float>? = nil, transient: UnsafeMutablePointer<Float>? = nil,
                state: UnsafeMutablePointer<Float>? = nil, context: PassContext = .inference) {
        self.batch = batch
        self.input = input
        self.output = output
        self.scratch = scratch
        self.parameters = parameters
        self.kept = kept ?? scratch
        self.transient = transient ?? scratch
        self.state = state ?? parameters
        self.context = context
    }
}

/// The raw buffers of one backward pass.
public struct LayerGradientBuffers {
    /// The loss gradient with respect to the layer's output (`batch × outputCount`).
    public var output: UnsafeMutablePointer<Float>
    /// Where to write the gradient with respect to the input, or `nil` when nobody needs it
    /// (the first layer).
    public var input: UnsafeMutablePointer<Float>?
    /// Parameter gradients, laid out like `LayerBuffers.parameters`; backward *overwrites* them
    /// with the gradient summed over this worker's samples (so nobody has to zero them first).
    public var parameters: UnsafeMutablePointer<Float>

    /// The buffers of one backward pass (`input` nil when no input gradient is needed).
    public init(output: UnsafeMutablePointer<Float>, input: UnsafeMutablePointer<Float>?, parameters: UnsafeMutablePointer<Float>) {
        self.output = output
        self.input = input
        self.parameters = parameters
    }
}

/// One stage of a network: a pure function of its input, parameters and state, with its
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

    /// The non-learnable state tensors (running statistics), in storage order. Valid after `prepare`.
    var stateSpecs: [ParameterSpec] { get }

    /// Floats of per-sample scratch the layer keeps from forward to backward. Valid after `prepare`.
    var scratchPerSample: Int { get }

    /// Floats of working space the layer needs once per pass, whatever the batch size (kept
    /// small enough to stay in cache). Valid after `prepare`.
    var scratchPerBatch: Int { get }

    /// Floats the layer keeps from forward to backward whatever the batch size. Valid after `prepare`.
    var keptPerBatch: Int { get }

    /// Floats of per-sample working space valid during one call (see `LayerBuffers.transient`).
    var transientPerSample: Int { get }

    /// The layer as data (for architecture files and checkpoints), or `nil` for a layer that
    /// only exists in Swift code, or that stands for several (`specs`).
    var spec: LayerSpec? { get }

    /// What the layer computes, as data: `[spec]` for an ordinary layer; for a layer that an
    /// inference plan fused with those after it (a convolution that rectifies and pools its
    /// own output, `BatchNormFolding`), every layer it stands for, so that the network's
    /// `Sequential.graph` describes the function it computes. `nil` for a layer without a
    /// description.
    var specs: [LayerSpec]? { get }

    /// The most values the layer sums across workers in one `PassContext.allReduce` call.
    var reductionCapacity: Int { get }

    /// Computes the output of `buffers.batch` samples.
    func forward(_ buffers: LayerBuffers)

    /// Computes input and parameter gradients, given the buffers of the preceding forward pass.
    func backward(_ buffers: LayerBuffers, gradients: LayerGradientBuffers)

    /// After a training pass over `batch` samples (all workers), folds what the pass measured
    /// (a BatchNorm's batch statistics, kept in `kept`) into the layer's state.
    func updateState(_ state: UnsafeMutablePointer<Float>, kept: UnsafePointer<Float>, batch: Int)
}

extension Layer {
    public var name: String { "" }
    public var parameterSpecs: [ParameterSpec] { [] }
    public var stateSpecs: [ParameterSpec] { [] }
    public var scratchPerSample: Int { 0 }
    public var scratchPerBatch: Int { 0 }
    public var keptPerBatch: Int { 0 }
    public var transientPerSample: Int { 0 }
    public var spec: LayerSpec? { nil }
    public var specs: [LayerSpec]? { spec.map { [$0] } }
    public var reductionCapacity: Int { 0 }
    public func updateState(_ state: UnsafeMutablePointer<Float>, kept: UnsafePointer<Float>, batch: Int) {}
}

/// Errors the engine reports: wrong shapes, unknown names.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// Two layers do not fit together, or an input has the wrong shape.
    case shapeMismatch(String)
    /// A tensor name that the network does not have.
    case unknownParameter(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let message): return message
        case .unknownParameter(let name): return "unknown parameter '\(name)'"
        }
    }
}
