import CNNEngine

/// The channel groups of an architecture, derived from its layers: what must be pruned together.
///
/// The derivation follows the channels of each activation through the graph. A `Conv2D` or
/// `Linear` starts a new group for its outputs (weight rows, bias) and adds its weight's input
/// slice to the group of what it reads, except a depthwise convolution with one output per
/// channel, whose filters join the group it reads (the channels pass through it); a
/// `BatchNorm2D` joins the group it normalises; ReLU and
/// the other activations, pooling, dropout and flatten pass channels through (flatten turns each channel into `H·W`
/// consecutive features); a residual block's branches start from the group of its input, and
/// the sum merges the groups of the branches' outputs — for an identity shortcut, with the
/// input's own group.
public struct ChannelGroups: Sendable {
    /// Every group, in the order the graph first produces it; the input's group is left out.
    public let groups: [ChannelGroup]

    /// - Throws: `PruningError.notPrunable` for a layer whose channel mapping is unknown (a
    ///   custom Swift layer).
    public init(_ architecture: Sequential) throws {
        var builder = Builder()
        let input = builder.newGroup(units: architecture.inputShape[0], isInput: true)
        var current = input
        var shape = architecture.inputShape
        for (index, layer) in architecture.layers.enumerated() {
            current = try builder.walk(layer, prefix: "", input: current, shape: shape)
            shape = architecture.shapes[index + 1]
        }
        builder.markOutput(current)
        groups = builder.finish(excluding: input)
    }

    /// The group called `name`.
    public func group(named name: String) -> ChannelGroup? { groups.first { $0.name == name } }

    /// The groups that may be pruned.
    public func prunable(allowResidual: Bool) -> [ChannelGroup] { groups.filter { $0.isPrunable(allowResidual: allowResidual) } }

    private struct Builder {
        struct Draft {
            var units: Int
            var members: [GroupMember] = []
            var producers: [String] = []
            var normalizations: [String] = []
            var isInput = false, isOutput = false, merged = false
            var unitName = "channel"
            var constantMakingActivations: [ActivationFunction] = []
            var groupedConvolutions: [String] = []
        }
        var drafts: [Draft] = []
        var parent: [Int] = []

        mutating func newGroup(units: Int, isInput: Bool = false) -> Int {
            drafts.append(Draft(units: units, isInput: isInput))
            parent.append(parent.count)
            return parent.count - 1
        }

        mutating func find(_ id: Int) -> Int {
            var root = id
            while parent[root] != root { root = parent[root] }
            var node = id
            while parent[node] != root { (node, parent[node]) = (parent[node], root) }
            return root
        }

        mutating func union(_ a: Int, _ b: Int) -> Int {
            let (ra, rb) = (find(a), find(b))
            guard ra != rb else { return ra }
            let (keep, drop) = ra < rb ? (ra, rb) : (rb, ra)
            parent[drop] = keep
            drafts[keep].members += drafts[drop].members
            drafts[keep].producers += drafts[drop].producers
            drafts[keep].normalizations += drafts[drop].normalizations
            drafts[keep].constantMakingActivations += drafts[drop].constantMakingActivations
            drafts[keep].groupedConvolutions += drafts[drop].groupedConvolutions
            drafts[keep].isInput = drafts[keep].isInput || drafts[drop].isInput
            drafts[keep].isOutput = drafts[keep].isOutput || drafts[drop].isOutput
            drafts[keep].merged = true
            return keep
        }

        mutating func add(_ member: GroupMember, to id: Int) { drafts[find(id)].members.append(member) }

        mutating func markOutput(_ id: Int) { drafts[find(id)].isOutput = true }

        /// The group of the layer's output, given the group of its input.
        mutating func walk(_ layer: any Layer, prefix: String, input: Int, shape: [Int]) throws -> Int {
            let name = prefix + layer.name
            switch layer {
            case let conv as Conv2D where conv.isDepthwise && conv.outputChannels == conv.inputChannels:
                // Channel i in, channel i out: the channels pass through, and the filters and
                // biases are the group's (DepGraph couples a depthwise layer's input and output).
                add(GroupMember(tensor: "\(name).weight", dimension: 0, role: .depthwise), to: input)
                if conv.bias { add(GroupMember(tensor: "\(name).bias", dimension: 0, role: .depthwise), to: input) }
                return input
            case let conv as Conv2D:
                add(GroupMember(tensor: "\(name).weight", dimension: 1, role: .consumer), to: input)
                let output = newGroup(units: conv.outputChannels)
                drafts[output].producers.append(name)
                add(GroupMember(tensor: "\(name).weight", dimension: 0, role: .producer), to: output)
                if conv.bias { add(GroupMember(tensor: "\(name).bias", dimension: 0, role: .producer), to: output) }
                if conv.groups > 1 {
                    drafts[find(input)].groupedConvolutions.append(name)
                    drafts[output].groupedConvolutions.append(name)
                }
                return output
            case let linear as Linear:
                // After a flatten, each input channel is a block of H·W features.
                let block = linear.inputFeatures / max(drafts[find(input)].units, 1)
                add(GroupMember(tensor: "\(name).weight", dimension: 1, block: block, role: .consumer), to: input)
                let output = newGroup(units: linear.outputFeatures)
                drafts[output].unitName = "neuron"
                drafts[output].producers.append(name)
                add(GroupMember(tensor: "\(name).weight", dimension: 0, role: .producer), to: output)
                add(GroupMember(tensor: "\(name).bias", dimension: 0, role: .producer), to: output)
                return output
            case is BatchNorm2D:
                drafts[find(input)].normalizations.append(name)
                for tensor in ["weight", "bias", "running_mean", "running_var"] {
                    add(GroupMember(tensor: "\(name).\(tensor)", dimension: 0, role: .normalization), to: input)
                }
                return input
            case is ReLU, is MaxPool2D, is AvgPool2D, is GlobalAvgPool2D, is Dropout, is Flatten:
                return input
            case let activation as Activation:
                if !activation.function.preservesZero { drafts[find(input)].constantMakingActivations.append(activation.function) }
                return input
            case let block as Residual:
                let blockPrefix = name.isEmpty ? "" : "\(name)."
                var main = input
                for (index, inner) in block.main.enumerated() {
                    main = try walk(inner, prefix: blockPrefix, input: main, shape: block.mainShapes[index])
                }
                var shortcut = input
                for (index, inner) in block.shortcut.enumerated() {
                    shortcut = try walk(inner, prefix: blockPrefix, input: shortcut, shape: block.shortcutShapes[index])
                }
                return union(main, shortcut)
            default:
                throw PruningError.notPrunable(name.isEmpty ? "\(type(of: layer))" : name,
                                               reason: "channel groups cannot be traced through a \(type(of: layer)) layer")
            }
        }

        mutating func finish(excluding input: Int) -> [ChannelGroup] {
            var seen = Set<Int>()
            var result: [ChannelGroup] = []
            for id in drafts.indices {
                let root = find(id)
                guard seen.insert(root).inserted, root != find(input) else { continue }
                let draft = drafts[root]
                let ordered = draft.members.filter { $0.role == .producer } + draft.members.filter { $0.role == .normalization }
                    + draft.members.filter { $0.role == .depthwise } + draft.members.filter { $0.role == .consumer }
                result.append(ChannelGroup(name: draft.producers.first ?? "group\(result.count)", units: draft.units, members: ordered,
                                           producers: draft.producers, normalizations: draft.normalizations,
                                           isOutput: draft.isOutput, isResidual: draft.producers.count > 1, isInput: draft.isInput,
                                           unitName: draft.unitName, constantMakingActivations: draft.constantMakingActivations,
                                           groupedConvolutions: draft.groupedConvolutions))
            }
            return result
        }
    }
}
