import CNNEngine

/// The physical removal of channels of one group from a network of any architecture: every
/// member tensor loses the removed channels' slices (producers' filters and biases, BatchNorm
/// parameters and running statistics, consumers' input slices), and the producers' widths in
/// the architecture shrink. The result is an ordinary network of a smaller architecture that
/// saves, loads, trains and prunes again like any other — and gives the logits of
/// `Network.masking(_:of:)` with the same channels.
///
/// A SimpleCNN layer is a group with one producer (`PrunableLayer.group`): the layer's `weight`
/// `[units, …]` and `bias` `[units]` lose the removed units' slices, and so does its consumer's
/// `weight` — for `conv1` the input channels of `conv2` (`[out, units, 3, 3]`), for `conv2` the
/// 8 × 8 = 64 input features per channel of `fc1` (`[out, units · 64]`, PyTorch's flatten order
/// `c·64 + y·8 + x`), for `fc1` the input features of `fc2` (`[out, units]`); the consumer's bias
/// is unchanged. The smaller network is a SimpleCNN again, whose widths `simpleCNN` reads back.
///
/// ```swift
/// let layer = try PrunableLayer(named: "conv2", in: network.architecture)
/// let removal = try GroupRemoval(removing: ranking.prefix(16), of: layer.group, from: network)
/// try Checkpoint.save(removal.network, model: try removal.simpleCNN, to: url)
/// ```
public struct GroupRemoval: Sendable {
    /// The smaller network.
    public let network: Network
    /// The removed units, ascending.
    public let removed: [Int]
    /// The surviving units, ascending: unit `i` of the smaller network is unit `kept[i]` of the input.
    public let kept: [Int]

    /// The smaller network's widths, when it is a SimpleCNN (the input was one, and the group
    /// one of its layers).
    /// - Throws: `RemovalError.widthsMismatch` when the smaller network is not a SimpleCNN.
    public var simpleCNN: SimpleCNN {
        get throws {
            guard let graph = network.architecture.graph, let model = SimpleCNN(graph: graph) else {
                throw RemovalError.widthsMismatch("the network left by the removal is not a SimpleCNN")
            }
            return model
        }
    }

    /// - Throws: `RemovalError.unitOutOfRange` / `.noUnitsLeft`, or `PruningError.notPrunable`
    ///   when the network's architecture is not described by a graph.
    public init(removing units: some Sequence<Int>, of group: ChannelGroup, from network: Network) throws {
        guard let graph = network.architecture.graph else {
            throw PruningError.notPrunable(group.name, reason: "the network's architecture is not described by a graph")
        }
        var removedSet = Set<Int>()
        for unit in units {
            guard (0..<group.units).contains(unit) else {
                throw RemovalError.unitOutOfRange(unit, layer: group.name, units: group.units, unitName: group.unitName)
            }
            removedSet.insert(unit)
        }
        guard removedSet.count < group.units else {
            throw RemovalError.noUnitsLeft(layer: group.name, units: group.units, unitName: group.unitName)
        }
        let kept = (0..<group.units).filter { !removedSet.contains($0) }
        let widths = Dictionary(uniqueKeysWithValues: (group.producers + group.depthwiseLayers).map { ($0, kept.count) })
        var smallerGraph = graph
        smallerGraph.layers = GroupRemoval.settingWidths(graph.layers, widths, prefix: "")
        let architecture = try smallerGraph.sequential()
        let members = Dictionary(group.members.map { ($0.tensor + "#\($0.dimension)", $0) }, uniquingKeysWith: { a, _ in a })
        var parameters = [Float](repeating: 0, count: architecture.parameterCount)
        var state = [Float](repeating: 0, count: architecture.stateCount)
        func fill(_ entries: [ParameterEntry], into storage: inout [Float]) throws {
            for entry in entries {
                let source = try network.tensor(named: entry.name)
                var values = source.scalars, shape = source.shape
                for dimension in 0..<shape.count {
                    guard let member = members[entry.name + "#\(dimension)"] else { continue }
                    values = GroupRemoval.gather(values, shape: shape, dimension: dimension, block: member.block, units: group.units, kept: kept)
                    shape[dimension] = shape[dimension] / group.units * kept.count
                }
                precondition(shape == entry.shape, "\(entry.name): \(shape) after removal, the architecture has \(entry.shape)")
                storage.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: values)
            }
        }
        try fill(architecture.parameterEntries, into: &parameters)
        try fill(architecture.stateEntries, into: &state)
        self.network = Network(architecture: architecture, parameters: parameters, state: state)
        self.removed = removedSet.sorted()
        self.kept = kept
    }

    /// The layers with the output widths of the named layers (full names, `block.layer`) replaced.
    static func settingWidths(_ layers: [LayerSpec], _ widths: [String: Int], prefix: String) -> [LayerSpec] {
        layers.map { spec in
            switch spec {
            case .convolution(let name, let out, let geometry, let groups, let bias):
                let width = widths[prefix + name] ?? out
                // A depthwise convolution keeps one group per channel.
                return .convolution(name: name, outputChannels: width, geometry: geometry, groups: groups > 1 && groups == out ? width : groups, bias: bias)
            case .linear(let name, let out):
                return .linear(name: name, outputFeatures: widths[prefix + name] ?? out)
            case .residual(let name, let main, let shortcut, let relu):
                let inner = prefix + name + "."
                return .residual(name: name, main: settingWidths(main, widths, prefix: inner), shortcut: settingWidths(shortcut, widths, prefix: inner), rectifiesOutput: relu)
            default:
                return spec
            }
        }
    }

    /// Reads `values` (of `shape`) as `[outer, units, block · inner]` along `dimension` and keeps `kept`.
    static func gather(_ values: [Float], shape: [Int], dimension: Int, block: Int, units: Int, kept: [Int]) -> [Float] {
        let outer = shape[..<dimension].reduce(1, *)
        let inner = shape[(dimension + 1)...].reduce(1, *) * block
        precondition(shape[dimension] == units * block, "dimension \(dimension) of \(shape) is not \(units) × \(block)")
        var out: [Float] = []
        out.reserveCapacity(outer * kept.count * inner)
        for o in 0..<outer {
            for unit in kept {
                let start = (o * units + unit) * inner
                out.append(contentsOf: values[start..<(start + inner)])
            }
        }
        return out
    }
}
