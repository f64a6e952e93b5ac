import CNNEngine

/// A layer whose output units — the output channels of a `Conv2D`, the output features of a
/// `Linear` — can be switched off, together with everything pruning needs to know about where
/// those units go.
///
/// A unit is prunable when the layer's output reaches the next weighted layer (the *consumer*)
/// only through `ReLU`, `MaxPool2D` and `Flatten`: then a unit whose weights are zeroed emits a
/// constant (its bias, rectified), and the consumer sees that constant in the unit's slice of
/// its input. In the SimpleCNN these are `conv1` (consumer `conv2`), `conv2` (consumer `fc1`,
/// 8 × 8 = 64 input features per channel, in PyTorch's flatten order) and `fc1` (consumer
/// `fc2`); `fc2` is the output layer, its units are the classes.
public struct PrunableLayer: Sendable, Equatable {
    /// What kind of units the layer has.
    public enum Kind: Sendable, Equatable {
        /// Output channels of a convolution.
        case convolution
        /// Output features (neurons) of a fully connected layer.
        case linear
    }

    /// The layer's name, e.g. `conv2`.
    public let name: String
    /// The layer's channel group: its one producer is the layer.
    public let group: ChannelGroup
    /// What kind of units the layer has.
    public let kind: Kind
    /// The layer's index in the `Sequential`.
    public let layerIndex: Int
    /// Output channels or features.
    public let unitCount: Int
    /// Positions of one unit in the layer's output, per sample (`H × W` for a convolution, 1 for
    /// a `Linear`).
    public let positionsPerUnit: Int
    /// The layer's weight tensor, `[units, …]`: unit `u`'s filter is its `u`-th slice.
    public let weight: ParameterEntry
    /// The layer's bias, `[units]`.
    public let bias: ParameterEntry
    /// Whether a `ReLU` lies between the layer and its consumer.
    public let isRectified: Bool
    /// The index of the next weighted layer, which reads the units (through pooling, flatten).
    public let consumerIndex: Int
    /// The consumer's name, e.g. `fc1`.
    public let consumerName: String
    /// Elements of the consumer's per-sample input that come from one unit: a contiguous block
    /// (one channel plane, or `C·H·W` flattened channel-major as PyTorch's `view`).
    public let consumerFeaturesPerUnit: Int

    /// The activation index holding the layer's output before any ReLU (the layer's
    /// pre-activation): `layerIndex + 1`.
    public var outputActivation: Int { layerIndex + 1 }

    /// `channel` or `neuron`, for messages and reports.
    public var unitName: String { kind == .convolution ? "channel" : "neuron" }

    /// Finds and checks the layer called `name` in `architecture`: the layer's channel group
    /// (`ChannelGroups`), which must have it as its one producer, resumed at its consumer
    /// (`GroupResumePoint`) — what the SimpleCNN study needs of a layer is what the channel
    /// groups say of it.
    /// - Throws: `PruningError.unknownLayer` (listing the prunable layers) or
    ///   `PruningError.notPrunable` when the layer's units cannot be masked.
    public init(named name: String, in architecture: Sequential) throws {
        guard let index = architecture.layerIndex(named: name) else {
            throw PruningError.unknownLayer(name, valid: PrunableLayer.all(in: architecture).map(\.name))
        }
        let layer = architecture.layers[index]
        guard layer is Conv2D || layer is Linear else {
            throw PruningError.notPrunable(name, reason: "only Conv2D and Linear layers have prunable units")
        }
        let notReaching = "its output does not reach the next weighted layer through ReLU, MaxPool2D and Flatten only"
        guard let group = try? ChannelGroups(architecture).group(named: name), group.producers == [name] else {
            throw PruningError.notPrunable(name, reason: notReaching)
        }
        if group.isOutput { throw PruningError.notPrunable(name, reason: "it is the output layer (its units are the classes)") }
        guard group.normalizations.isEmpty, let point = GroupResumePoint(group: group, in: architecture),
              case .activation(let consumer) = point.place, let reader = point.consumer else {
            throw PruningError.notPrunable(name, reason: notReaching)
        }
        guard let weight = architecture.parameterEntries.first(where: { $0.name == "\(name).weight" }),
              let bias = architecture.parameterEntries.first(where: { $0.name == "\(name).bias" }) else {
            throw PruningError.notPrunable(name, reason: "it has no weight and bias")
        }
        self.name = name
        self.group = group
        self.kind = layer is Conv2D ? .convolution : .linear
        self.layerIndex = index
        self.unitCount = group.units
        self.positionsPerUnit = architecture.shapes[index + 1].reduce(1, *) / group.units
        self.weight = weight
        self.bias = bias
        self.isRectified = point.isRectified
        self.consumerIndex = consumer
        self.consumerName = reader.layer.name
        self.consumerFeaturesPerUnit = point.plane
    }

    /// Every prunable layer of `architecture`, in order (for the SimpleCNN: conv1, conv2, fc1).
    public static func all(in architecture: Sequential) -> [PrunableLayer] {
        architecture.layers.compactMap { layer in
            layer.name.isEmpty ? nil : try? PrunableLayer(named: layer.name, in: architecture)
        }
    }

    /// The layer's channels as a criterion scores them (a SimpleCNN layer has no BatchNorm).
    public var producer: ProducerChannels { ProducerChannels(name: name, units: unitCount, weight: weight) }

    /// Checks a number of units to prune against the layer's size.
    /// - Throws: `PruningError.countOutOfRange` unless `0 ≤ k ≤ unitCount`.
    public func validate(count k: Int) throws {
        guard (0...unitCount).contains(k) else {
            throw PruningError.countOutOfRange(k, layer: name, units: unitCount, unitName: unitName)
        }
    }

    /// The constant that a masked unit feeds its consumer at every position: its bias passed
    /// through the ReLU when the bias is kept, else 0.
    public func maskedOutput(bias value: Float, keepBias: Bool) -> Float {
        guard keepBias else { return 0 }
        return isRectified ? max(value, 0) : value
    }
}

extension ImportanceCriterion {
    /// One score per unit of `layer` in `network` (`scores(of:in:statistics:)` of its channels).
    /// - Throws: `PruningError.notPrunable` when the criterion lacks the statistics it needs.
    public func scores(for layer: PrunableLayer, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        try scores(of: layer.producer, in: network, statistics: statistics)
    }
}

extension SimpleCNN {
    /// The number of output units of the prunable layer called `name` (`conv1`, `conv2`, `fc1`).
    /// - Parameter name: the layer's name.
    /// - Throws: `PruningError.unknownLayer` for any other name.
    public func width(ofLayer name: String) throws -> Int {
        switch name {
        case "conv1": return conv1
        case "conv2": return conv2
        case "fc1": return fc1
        default: throw PruningError.unknownLayer(name, valid: SimpleCNN.prunableLayers)
        }
    }
}
