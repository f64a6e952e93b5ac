import CNNEngine

/// The physical removal of output units from one layer of a SimpleCNN: the result is a smaller
/// dense network — new widths, fewer parameters, fewer multiply-accumulates — that saves, loads,
/// evaluates, trains and prunes again like any other.
///
/// It is the removal of the layer's channel group (`GroupRemoval`: a SimpleCNN layer is a
/// group with one producer), with the SimpleCNN's widths read back from the smaller network.
/// Like Torch-Pruning's `prune_conv_out_channels` and its dependency graph, the producer and its
/// consumer change together:
/// - the layer's `weight` `[units, …]` and `bias` `[units]` lose the removed units' slices;
/// - the consumer's `weight` loses the matching input slices: for `conv1` the input channels of
///   `conv2` (`[out, units, 3, 3]`), for `conv2` the 8 × 8 = 64 input features per channel of
///   `fc1` (`[out, units · 64]`, PyTorch's flatten order `c·64 + y·8 + x`), for `fc1` the input
///   features of `fc2` (`[out, units]`). The consumer's bias is unchanged.
///
/// Removing a unit gives exactly the logits of masking it with its bias zeroed
/// (`Network.masking(_:of:keepBias: false)`): a zeroed unit emits 0, the ReLU and max-pooling
/// keep it 0, and a 0 input adds nothing to the consumer. (With the bias kept it emits a constant
/// instead, and removal is not the same network.)
///
/// ```swift
/// let removal = try ChannelRemoval(removing: ranking.prefix(16), of: "conv2", from: network, model: model)
/// try Checkpoint.save(removal.network, model: removal.model, to: url)
/// ```
public struct ChannelRemoval: Sendable {
    /// The smaller network.
    public let network: Network
    /// Its widths (the input widths with the layer narrowed).
    public let model: SimpleCNN
    /// The layer the units were removed from, as it was before the removal.
    public let layer: PrunableLayer
    /// The removed units, ascending, as indices of the input network's layer.
    public let removed: [Int]
    /// The surviving units, ascending, as indices of the input network's layer: unit `i` of the
    /// smaller network is unit `kept[i]` of the input network.
    public let kept: [Int]

    /// Removes `units` of the layer called `layerName` (`conv1`, `conv2` or `fc1`) from `network`.
    ///
    /// - Parameters:
    ///   - units: unit indices in `0..<layer.unitCount`, in any order; repeats count once. An
    ///     empty sequence gives a copy of the network.
    ///   - layerName: the prunable layer.
    ///   - network: the network to shrink; not changed (it is a value).
    ///   - model: `network`'s widths.
    /// - Throws: `PruningError.unknownLayer` / `.notPrunable` for a layer that cannot be pruned
    ///   (e.g. `fc2`, whose units are the classes); `RemovalError.unitOutOfRange`,
    ///   `.noUnitsLeft` or `.widthsMismatch`.
    public init(removing units: some Sequence<Int>, of layerName: String, from network: Network, model: SimpleCNN) throws {
        let expected: Sequential
        do {
            expected = try model.architecture()
        } catch {
            throw RemovalError.widthsMismatch("the widths \(model.widthsDescription) are invalid: \(error)")
        }
        guard expected.shapes == network.architecture.shapes,
              expected.parameterEntries == network.architecture.parameterEntries else {
            throw RemovalError.widthsMismatch("the network does not have the widths \(model.widthsDescription)")
        }
        let layer = try PrunableLayer(named: layerName, in: network.architecture)
        guard let group = try ChannelGroups(network.architecture).group(named: layer.name) else {
            throw PruningError.unknownLayer(layer.name, valid: SimpleCNN.prunableLayers)
        }
        // The group checks the units (`RemovalError.unitOutOfRange`, `.noUnitsLeft`, naming a
        // linear layer's units neurons).
        let removal = try GroupRemoval(removing: units, of: group, from: network)
        guard let graph = removal.network.architecture.graph, let smaller = SimpleCNN(graph: graph),
              smaller.inputChannels == model.inputChannels, smaller.classes == model.classes else {
            throw RemovalError.widthsMismatch("removing units of \(layer.name) did not leave a SimpleCNN")
        }
        self.network = removal.network
        self.model = smaller
        self.layer = layer
        self.removed = removal.removed
        self.kept = removal.kept
    }

    /// The layer called `name` as it is in the smaller network.
    public var prunedLayer: PrunableLayer {
        // The layer exists and is prunable in the smaller network, as it was in the input one.
        try! PrunableLayer(named: layer.name, in: network.architecture)
    }
}

extension SimpleCNN {
    /// The number of output units of the prunable layer called `name` (`conv1`, `conv2`, `fc1`).
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

/// Why units cannot be removed, as one line a person can act on.
public enum RemovalError: Error, CustomStringConvertible, Equatable {
    /// A unit index outside the layer.
    case unitOutOfRange(Int, layer: String, units: Int, unitName: String)
    /// Removing every unit of the layer: the network would be cut in two.
    case noUnitsLeft(layer: String, units: Int, unitName: String)
    /// The network and the widths given with it do not agree.
    case widthsMismatch(String)
    /// A removal count that is negative or leaves no unit.
    case countOutOfRange(Int, layer: String, units: Int, unitName: String)
    /// An iterative schedule that cannot reach K in that many steps.
    case invalidSteps(Int, count: Int)
    /// A data-driven criterion asked to rank without calibration images.
    case calibrationNeeded(criterion: String)

    public var description: String {
        switch self {
        case .unitOutOfRange(let unit, let layer, let units, let unitName):
            return "\(unitName) \(unit) does not exist: \(layer) has \(units) \(unitName)s, numbered 0…\(units - 1)"
        case .noUnitsLeft(let layer, let units, let unitName):
            return "removing all \(units) \(unitName)s of \(layer) would leave none; at least one must stay (remove at most \(units - 1))"
        case .widthsMismatch(let why):
            return why
        case .countOutOfRange(let k, let layer, let units, let unitName):
            return "cannot remove K = \(k) \(unitName)s: \(layer) has \(units), so K must be 1…\(units - 1) (at least one must stay)"
        case .invalidSteps(let steps, let count):
            return "cannot remove K = \(count) in \(steps) steps: each step must remove at least one unit, so the steps must be 1…\(max(count, 1))"
        case .calibrationNeeded(let criterion):
            return "criterion '\(criterion)' ranks units by their activations and needs calibration images"
        }
    }
}
