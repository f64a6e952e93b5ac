import CNNEngine

/// One tensor slice that a channel group owns: along `dimension` of `tensor`, each unit of the
/// group holds `block` consecutive indices (1, or `H·W` input features of a `Linear` after a
/// flatten, in PyTorch's order).
public struct GroupMember: Sendable, Equatable, Codable {
    /// What the slice is to the channel.
    public enum Role: String, Sendable, Codable {
        /// A weight or bias that makes the channel (a convolution's filter, a linear row).
        case producer
        /// A BatchNorm's weight, bias or running statistic of the channel.
        case normalization
        /// The slice of a consumer's weight that reads the channel.
        case consumer
        /// A depthwise convolution's filter (or bias) of the channel: it reads channel i and
        /// writes channel i, so the channel passes through it (MobileNet's 3×3 depthwise layers).
        case depthwise
    }

    /// The checkpoint name, e.g. `layer1.0.conv1.weight`.
    public var tensor: String
    /// The tensor's dimension that indexes the channel (0 for a producer's output, 1 for a consumer's input).
    public var dimension: Int
    /// Consecutive indices per unit along `dimension` (1, or `H·W` for a `Linear` after a flatten).
    public var block: Int
    /// What the slice is to the channel.
    public var role: Role

    /// The slice of `tensor` along `dimension`, `block` indices per unit, in role `role`.
    public init(tensor: String, dimension: Int, block: Int = 1, role: Role) {
        self.tensor = tensor
        self.dimension = dimension
        self.block = block
        self.role = role
    }
}

/// Channels that can only be pruned together, as Torch-Pruning's DepGraph groups them: a
/// convolution's (or linear layer's) output channels with their bias, the BatchNorm after them
/// and every consumer's input slice — and, where several branches meet at a residual sum,
/// every producer feeding that sum and the sum's consumers.
///
/// Unit `u` of the group is channel `u` of every member at once.
public struct ChannelGroup: Sendable, Equatable {
    /// The depthwise convolutions the channels pass through (full layer names): removal narrows
    /// them and their channel groups alike.
    public var depthwiseLayers: [String] {
        members.filter { $0.role == .depthwise && $0.tensor.hasSuffix(".weight") }.map { String($0.tensor.dropLast(".weight".count)) }
    }

    /// The first producer's layer name (`conv1`, `layer1.0.conv1`, `features.0`).
    public var name: String
    /// Channels (or features) per member.
    public var units: Int
    /// Every slice, producers first.
    public var members: [GroupMember]
    /// Layers whose outputs are the group's channels.
    public var producers: [String]
    /// BatchNorm layers normalising them.
    public var normalizations: [String]
    /// Whether the channels are the network's outputs (the classes): never prunable.
    public var isOutput: Bool
    /// Whether the group is coupled through a residual sum (several producers).
    public var isResidual: Bool
    /// Whether the channels carry the network's input (never prunable).
    public var isInput: Bool
    /// What one unit is called in messages and reports: `channel`, or `neuron` for the output
    /// features of `Linear` layers.
    public var unitName = "channel"
    /// Activation functions the channels pass through that do not map 0 to 0 (sigmoid,
    /// hardsigmoid): a masked channel leaves them as a constant, not as zero, so its removal
    /// would change what the consumers compute. Such a group is not prunable.
    public var constantMakingActivations: [ActivationFunction] = []
    /// Grouped convolutions (other than depthwise ones with one output per channel, which pass
    /// channels through) that read or produce the channels: their weights couple channel i with
    /// the other channels of its convolution group, which removal does not follow yet. Such a
    /// group is not prunable.
    public var groupedConvolutions: [String] = []

    /// Whether units may be removed: never for the input or the output, and for groups coupled
    /// through a residual sum only when `allowResidual`.
    public func isPrunable(allowResidual: Bool) -> Bool {
        !isOutput && !isInput && !producers.isEmpty && constantMakingActivations.isEmpty && groupedConvolutions.isEmpty
            && (allowResidual || !isResidual)
    }

    /// Why the group cannot be pruned, or `nil` when it can. A group coupled through a residual
    /// sum is refused only when `allowResidual` is false, which
    /// ``isBlockedByResidualCoupling(allowResidual:)`` tells apart.
    public func whyNotPrunable(allowResidual: Bool) -> String? {
        if isInput { return "its channels are the network's input" }
        if isOutput { return "it is the output layer (its units are the classes)" }
        if producers.isEmpty { return "no layer produces its channels" }
        if let function = constantMakingActivations.first {
            return "its channels pass through \(function.typeName), which turns a removed channel's 0 into \(function.value(0)), not 0"
        }
        if let convolution = groupedConvolutions.first {
            return "its channels meet the grouped convolution \(convolution), whose channel groups cannot be pruned yet"
        }
        if isResidual && !allowResidual {
            return "it is coupled through a residual sum (\(producers.count) producers: \(producers.prefix(4).joined(separator: ", "))\(producers.count > 4 ? ", …" : ""))"
        }
        return nil
    }

    /// Whether allowing groups coupled through residual sums would make this group prunable.
    public func isBlockedByResidualCoupling(allowResidual: Bool) -> Bool {
        !allowResidual && isResidual && !isInput && !isOutput && !producers.isEmpty && constantMakingActivations.isEmpty
            && groupedConvolutions.isEmpty
    }
}
