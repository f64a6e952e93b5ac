/// Preallocated buffers for running a `Sequential` over batches of up to `batchCapacity`
/// samples: every layer's input and output, their gradients, layer scratch and parameter
/// gradients. One per worker thread; nothing is allocated per batch.
public final class Workspace: @unchecked Sendable {
    /// The largest batch the buffers hold.
    public let batchCapacity: Int
    /// The per-sample element count of activation `i` (layer `i`'s input; the last is the output).
    public let activationCounts: [Int]

    private let activations: [UnsafeMutablePointer<Float>]
    private let activationGradients: [UnsafeMutablePointer<Float>]
    private let scratch: [UnsafeMutablePointer<Float>]
    private let kept: [UnsafeMutablePointer<Float>]
    /// Shared by all layers: valid during one layer call only.
    let transient: UnsafeMutablePointer<Float>
    /// Labels of the samples in the current batch.
    public let labels: UnsafeMutablePointer<Int32>
    /// Parameter gradients, laid out like the network's flat parameter storage.
    public let parameterGradients: UnsafeMutableBufferPointer<Float>
    /// Whether the workspace has gradient buffers (`training: true`), i.e. can run backward passes.
    public let hasGradients: Bool
    /// What the buffers were sized for: another architecture with equal requirements can run here.
    public let requirements: Requirements

    /// Allocates buffers for `architecture` and up to `batchCapacity` samples.
    /// `training: false` skips gradient buffers, for inference only.
    public init(architecture: Sequential, batchCapacity: Int, training: Bool = true) {
        precondition(batchCapacity > 0)
        self.batchCapacity = batchCapacity
        hasGradients = training
        requirements = Requirements(architecture)
        activationCounts = requirements.activationCounts
        activations = activationCounts.map { Workspace.allocate($0 * batchCapacity) }
        activationGradients = activationCounts.enumerated().map { index, count in
            Workspace.allocate(training && index > 0 ? count * batchCapacity : 0)
        }
        scratch = architecture.layers.map { Workspace.allocate($0.scratchPerSample * batchCapacity + $0.scratchPerBatch) }
        kept = architecture.layers.map { Workspace.allocate($0.keptPerBatch) }
        transient = Workspace.allocate((architecture.layers.map(\.transientPerSample).max() ?? 0) * batchCapacity)
        labels = .allocate(capacity: batchCapacity)
        labels.initialize(repeating: 0, count: batchCapacity)
        let gradientCount = training ? architecture.parameterCount : 0
        parameterGradients = UnsafeMutableBufferPointer(start: Workspace.allocate(gradientCount), count: gradientCount)
    }

    deinit {
        activations.forEach { $0.deallocate() }
        activationGradients.forEach { $0.deallocate() }
        scratch.forEach { $0.deallocate() }
        kept.forEach { $0.deallocate() }
        transient.deallocate()
        labels.deallocate()
        parameterGradients.baseAddress?.deallocate()
    }

    /// What the sizes of a workspace's buffers depend on: architectures with equal requirements
    /// can run in the same workspaces. Equal activation shapes are not enough: a pruned residual
    /// block keeps its output's shape while its inner layers change, and with them their
    /// working space (a convolution left with few input channels unfolds more images at once).
    public struct Requirements: Equatable, Sendable {
        let activationCounts: [Int]
        let scratch: [[Int]]
        let parameterCount: Int

        /// The requirements of `architecture`.
        public init(_ architecture: Sequential) {
            activationCounts = architecture.shapes.map { $0.reduce(1, *) }
            scratch = architecture.layers.map { [$0.scratchPerSample, $0.scratchPerBatch, $0.keptPerBatch, $0.transientPerSample] }
            parameterCount = architecture.parameterCount
        }
    }

    /// Activation `index`: the input of layer `index` (0 is the network's input), sample-major.
    public func activation(_ index: Int) -> UnsafeMutablePointer<Float> { activations[index] }

    /// The loss gradient with respect to activation `index` (not kept for the network's input).
    public func activationGradient(_ index: Int) -> UnsafeMutablePointer<Float> { activationGradients[index] }

    /// The network's output (logits), sample-major.
    public var output: UnsafeMutablePointer<Float> { activations[activations.count - 1] }

    func scratch(_ layer: Int) -> UnsafeMutablePointer<Float> { scratch[layer] }

    /// What layer `layer` kept from its last forward pass whatever the batch size (a
    /// BatchNorm's batch statistics).
    func kept(_ layer: Int) -> UnsafeMutablePointer<Float> { kept[layer] }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        return pointer
    }
}
