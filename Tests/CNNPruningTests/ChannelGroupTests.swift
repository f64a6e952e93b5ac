import CNNEngine
import CNNPruning
import Testing

/// Channel groups derived from the graph, masking whole groups, and removal against masking
/// for every zoo architecture.
@Suite struct ChannelGroupTests {
    func network(_ name: String, width: Double = 0.125, classes: Int = 4, seed: UInt64 = 50) throws -> Network {
        let graph = try ModelZoo.graph(named: name, classes: classes, inputShape: [3, 32, 32], widthMultiplier: width)
        var generator = SeededGenerator(seed: seed)
        var network = Network(architecture: try graph.sequential(), generator: &generator)
        // Non-trivial BatchNorm parameters and running statistics, so that masking must zero them.
        for entry in network.architecture.parameterEntries where entry.initializer != .uniformFanIn {
            for i in entry.offset..<(entry.offset + entry.count) { network.parameters[i] = generator.uniform(bound: 0.5) + 1 }
        }
        for entry in network.architecture.stateEntries where !entry.isInteger {
            for i in entry.offset..<(entry.offset + entry.count) { network.state[i] = generator.uniform(bound: 0.4) + (entry.initializer == .ones ? 1 : 0) }
        }
        return network
    }

    @Test func simpleCNNGroupsAreItsPrunableLayers() throws {
        let groups = try ChannelGroups(try SimpleCNN().architecture())
        #expect(groups.groups.map(\.name) == ["conv1", "conv2", "fc1", "fc2"])
        #expect(groups.prunable(allowResidual: false).map(\.name) == ["conv1", "conv2", "fc1"])
        let conv2 = try #require(groups.group(named: "conv2"))
        #expect(conv2.units == 32)
        #expect(conv2.members == [
            GroupMember(tensor: "conv2.weight", dimension: 0, role: .producer),
            GroupMember(tensor: "conv2.bias", dimension: 0, role: .producer),
            GroupMember(tensor: "fc1.weight", dimension: 1, block: 64, role: .consumer),
        ])
        #expect(groups.group(named: "fc2")?.whyNotPrunable(allowResidual: true)?.contains("output layer") == true)
    }

    @Test func resnetGroupsCoupleEveryBranchOfAResidualSum() throws {
        let architecture = try ModelZoo.graph(named: "resnet20").sequential()
        let groups = try ChannelGroups(architecture)
        // Stage 1: the stem and every block's conv2 meet at identity sums.
        let stage1 = try #require(groups.group(named: "conv1"))
        #expect(stage1.producers == ["conv1", "layer1.0.conv2", "layer1.1.conv2", "layer1.2.conv2"])
        #expect(stage1.isResidual && !stage1.isPrunable(allowResidual: false) && stage1.isPrunable(allowResidual: true))
        #expect(stage1.normalizations == ["bn1", "layer1.0.bn2", "layer1.1.bn2", "layer1.2.bn2"])
        // Its consumers: every block's conv1 of stage 1, layer2.0's conv1 and its projection.
        let consumers = stage1.members.filter { $0.role == .consumer }.map(\.tensor)
        #expect(consumers == ["layer1.0.conv1.weight", "layer1.1.conv1.weight", "layer1.2.conv1.weight",
                              "layer2.0.conv1.weight", "layer2.0.downsample.0.weight"])
        // Stage 2 starts at the projection: layer2.0.conv2 and downsample.0 are coupled.
        let stage2 = try #require(groups.group(named: "layer2.0.conv2"))
        #expect(stage2.producers == ["layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2", "layer2.2.conv2"])
        #expect(stage2.members.contains(GroupMember(tensor: "layer2.0.downsample.1.running_var", dimension: 0, role: .normalization)))
        // Inside blocks: conv1 with bn1 and conv2's input, prunable by default.
        let inner = try #require(groups.group(named: "layer3.1.conv1"))
        #expect(!inner.isResidual && inner.isPrunable(allowResidual: false) && inner.units == 64)
        #expect(inner.members.map(\.tensor) == ["layer3.1.conv1.weight", "layer3.1.bn1.weight", "layer3.1.bn1.bias",
                                               "layer3.1.bn1.running_mean", "layer3.1.bn1.running_var", "layer3.1.conv2.weight"])
        #expect(groups.prunable(allowResidual: false).count == 9)
        #expect(groups.prunable(allowResidual: true).count == 12)
        // The last stage's group feeds fc through global pooling and flatten: one feature per channel.
        let stage3 = try #require(groups.group(named: "layer3.0.conv2"))
        #expect(stage3.members.last == GroupMember(tensor: "fc.weight", dimension: 1, block: 1, role: .consumer))
        #expect(groups.group(named: "fc")?.isOutput == true)
    }

    @Test func vggGroupsFollowFlattenAndBatchNorm() throws {
        let groups = try ChannelGroups(try ModelZoo.graph(named: "vgg11-bn").sequential())
        #expect(groups.prunable(allowResidual: false).count == 8)
        let last = try #require(groups.group(named: "features.25"))
        #expect(last.normalizations == ["features.26"])
        #expect(last.members.last == GroupMember(tensor: "classifier.weight", dimension: 1, block: 1, role: .consumer))
        #expect(last.members.contains(GroupMember(tensor: "features.25.bias", dimension: 0, role: .producer)))
    }

    /// Removing channels gives the logits of masking them, for every zoo architecture and every
    /// prunable group (residual ones included).
    @Test(arguments: ModelZoo.names)
    func removalEqualsMasking(_ name: String) throws {
        let network = try network(name)
        let groups = try ChannelGroups(network.architecture)
        let input = Tensor(shape: [3, 3, 32, 32], scalars: (0..<(3 * 3072)).map { Float(($0 * 7919) % 3072) / 1536 - 1 })
        var changed = 0
        let prunable = groups.prunable(allowResidual: true)
        for group in prunable {
            let units = stride(from: 0, to: group.units, by: 2).map { $0 }.prefix(max(1, group.units - 1))
            let masked = try network.masking(units, of: group)
            let removal = try GroupRemoval(removing: units, of: group, from: network)
            #expect(removal.network.architecture.parameterCount < network.architecture.parameterCount)
            let a = masked(input).scalars, b = removal.network(input).scalars
            let scale = max(a.map(abs).max()!, 1e-6)
            let error = zip(a, b).map { abs($0 - $1) }.max()! / scale
            #expect(error < 1e-5, "\(name) \(group.name): removed vs masked logits, scaled error \(error)")
            // The masking matters: the unmasked network gives other logits (except where a
            // narrow random network's masked channels happen to be dead for these inputs).
            if zip(network(input).scalars, a).contains(where: { abs($0 - $1) > 1e-5 }) { changed += 1 }
            // The smaller network is an ordinary one: its own groups have the kept width.
            let smaller = try ChannelGroups(removal.network.architecture)
            #expect(smaller.group(named: group.name)?.units == group.units - units.count)
        }
        #expect(2 * changed >= prunable.count, "\(name): masking changed the logits for only \(changed) of \(prunable.count) groups")
    }

    /// Activations with `f(0) = 0` pass channels through as ReLU does, and removal equals
    /// masking through them; a sigmoid (`f(0) = 0.5`) makes a masked channel a constant, so its
    /// group is refused with the reason.
    @Test func activationsPassChannelsAndSigmoidRefusesItsGroup() throws {
        let specs: [LayerSpec] = [
            .convolution(name: "conv1", outputChannels: 6, kernelSize: 3, stride: 1, padding: 1, bias: true), .batchNorm(name: "bn1"),
            .activation(.hardswish),
            .convolution(name: "conv2", outputChannels: 5, kernelSize: 3, stride: 1, padding: 1, bias: true), .activation(.leakyReLU(slope: 0.1)),
            .activation(.silu), .activation(.relu6),
            .convolution(name: "conv3", outputChannels: 4, kernelSize: 3, stride: 2, padding: 1, bias: true), .activation(.sigmoid),
            .flatten, .linear(name: "fc", outputFeatures: 3),
        ]
        let graph = ModelGraph(inputShape: [2, 8, 8], layers: specs)
        var generator = SeededGenerator(seed: 7)
        let network = Network(architecture: try graph.sequential(), generator: &generator)
        let groups = try ChannelGroups(network.architecture)
        #expect(groups.prunable(allowResidual: false).map(\.name) == ["conv1", "conv2"])
        let refused = try #require(groups.group(named: "conv3"))
        #expect(refused.whyNotPrunable(allowResidual: true) == "its channels pass through sigmoid, which turns a removed channel's 0 into 0.5, not 0")
        let input = Tensor(shape: [2, 2, 8, 8], scalars: (0..<256).map { Float(($0 * 7919) % 256) / 64 - 2 })
        for group in groups.prunable(allowResidual: false) {
            let masked = try network.masking([0, 2], of: group)
            let removal = try GroupRemoval(removing: [0, 2], of: group, from: network)
            let a = masked(input).scalars, b = removal.network(input).scalars
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 }, "\(group.name): removed vs masked")
            #expect(zip(network(input).scalars, a).contains { abs($0 - $1) > 1e-5 }, "\(group.name): masking changed nothing")
        }
    }

    /// A grouped convolution refuses the groups it reads and produces, with the reason; a
    /// depthwise one passes its channels through (its filters join the group it reads, and
    /// removal narrows it and its groups alike); dense convolutions with rectangular, dilated,
    /// strided-per-axis or unevenly padded kernels prune like any other. Removed equals masked
    /// for every prunable group. MACs count `in / groups` inputs per output.
    @Test func generalConvolutionsInGroups() throws {
        let specs: [LayerSpec] = [
            .convolution(name: "stem", outputChannels: 6, kernelSize: 3, stride: 1, padding: 1, bias: true), .relu,
            .convolution(name: "dw", outputChannels: 6, geometry: .init(kernel: 3, stride: 2, padding: 1), groups: 6, bias: false), .batchNorm(name: "dw_bn"),
            .activation(.relu6),
            .convolution(name: "row", outputChannels: 6, geometry: .init(kernelHeight: 1, kernelWidth: 3, strideX: 2, padLeft: 1, padRight: 1), groups: 1, bias: true),
            .relu,
            .convolution(name: "grouped", outputChannels: 4, geometry: .init(kernel: 1), groups: 2, bias: true), .relu,
            .convolution(name: "dilated", outputChannels: 4,
                         geometry: .init(kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 2, padBottom: 2, padRight: 1, dilationY: 2, dilationX: 1), groups: 1, bias: true),
            .relu, .flatten, .linear(name: "fc", outputFeatures: 3),
        ]
        let graph = ModelGraph(inputShape: [2, 8, 8], layers: specs)
        var generator = SeededGenerator(seed: 9)
        var network = Network(architecture: try graph.sequential(), generator: &generator)
        for i in network.state.indices { network.state[i] = 0.5 + Float(i % 5) / 10 }
        let groups = try ChannelGroups(network.architecture)
        #expect(groups.prunable(allowResidual: false).map(\.name) == ["stem", "dilated"])
        let stem = try #require(groups.group(named: "stem"))
        #expect(stem.depthwiseLayers == ["dw"])
        #expect(stem.normalizations == ["dw_bn"])
        #expect(stem.members.contains(GroupMember(tensor: "dw.weight", dimension: 0, role: .depthwise)))
        for name in ["row", "grouped"] {
            let refused = try #require(groups.group(named: name))
            #expect(refused.whyNotPrunable(allowResidual: true) == "its channels meet the grouped convolution grouped, whose channel groups cannot be pruned yet")
        }
        let input = Tensor(shape: [2, 2, 8, 8], scalars: (0..<256).map { Float(($0 * 7919) % 256) / 64 - 2 })
        for group in groups.prunable(allowResidual: false) {
            let units = Array(0..<(group.units - 1))
            let masked = try network.masking(units, of: group)
            let removal = try GroupRemoval(removing: units, of: group, from: network)
            let a = masked(input).scalars, b = removal.network(input).scalars
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 }, "\(group.name): removed vs masked")
            #expect(zip(network(input).scalars, a).contains { abs($0 - $1) > 1e-5 }, "\(group.name): masking changed nothing")
        }
        let narrowed = try GroupRemoval(removing: [0, 5], of: stem, from: network).network.architecture
        let dw = try #require(narrowed.layers[2] as? Conv2D)
        #expect(dw.inputChannels == 4 && dw.outputChannels == 4 && dw.groups == 4)
        // stem 6·8·8·(2·9), dw 6·4·4·9, row 6·4·2·(6·3), grouped 4·4·2·3, dilated 4·3·3·(4·9)
        // (a 5-row span over 4 + 1 + 2 padded rows, 3 columns over 2 + 2 + 1), fc 3·36.
        let cost = ArchitectureCost(network.architecture)
        #expect(cost.multiplyAccumulatesByLayer["dw"] == 6 * 4 * 4 * 9)
        #expect(cost.multiplyAccumulatesByLayer["grouped"] == 4 * 8 * 3)
        #expect(cost.multiplyAccumulates == 6 * 64 * 18 + 6 * 16 * 9 + 6 * 8 * 18 + 4 * 8 * 3 + 4 * 9 * 36 + 3 * 36)
    }

    @Test func removalKeepsRunningStatisticsOfTheKeptChannels() throws {
        let network = try network("resnet20")
        let group = try #require(try ChannelGroups(network.architecture).group(named: "layer2.1.conv1"))
        let removal = try GroupRemoval(removing: [0, 3], of: group, from: network)
        let before = try network.tensor(named: "layer2.1.bn1.running_var").scalars
        let after = try removal.network.tensor(named: "layer2.1.bn1.running_var").scalars
        #expect(after == removal.kept.map { before[$0] })
        #expect(try removal.network.tensor(named: "layer2.1.conv2.weight").shape == [4, 2, 3, 3])
        #expect(throws: RemovalError.self) { try GroupRemoval(removing: 0..<group.units, of: group, from: network) }
        #expect(throws: RemovalError.self) { try GroupRemoval(removing: [99], of: group, from: network) }
    }

    @Test func groupCriteriaByHand() throws {
        // A conv 1→3 with BatchNorm, then conv 3→2: one prunable group of 3 channels.
        let graph = ModelGraph(inputShape: [1, 2, 2], layers: [
            .convolution(name: "a", outputChannels: 3, kernelSize: 1, stride: 1, padding: 0, bias: false),
            .batchNorm(name: "bn"), .relu,
            .convolution(name: "b", outputChannels: 2, kernelSize: 1, stride: 1, padding: 0, bias: false),
            .flatten, .linear(name: "fc", outputFeatures: 2)])
        let architecture = try graph.sequential()
        var network = Network(architecture: architecture, parameters: [Float](repeating: 1, count: architecture.parameterCount))
        try network.setTensor(Tensor(shape: [3, 1, 1, 1], scalars: [1, -3, 2]), named: "a.weight")
        try network.setTensor(Tensor(shape: [3], scalars: [0.5, -0.1, 2]), named: "bn.weight")
        let group = try #require(try ChannelGroups(architecture).group(named: "a"))
        // L1: |w| = 1, 3, 2, divided by their mean 2.
        #expect(try L1Norm().scores(for: group, in: network) == [0.5, 1.5, 1])
        // bn-scale: |γ| = 0.5, 0.1, 2 over their mean 13/15.
        let bn = try BNScale().scores(for: group, in: network)
        #expect(zip(bn, [0.5, 0.1, 2].map { $0 / (2.6 / 3) }).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(BNScale().ranking(of: bn) == [1, 0, 2])
        // FPGM: summed distances 4+1, 4+5, 1+5 = 5, 9, 6 over their mean 20/3.
        let fpgm = try FPGM().scores(for: group, in: network)
        #expect(zip(fpgm, [5.0, 9, 6].map { $0 * 3 / 20 }).allSatisfy { abs($0 - $1) < 1e-9 })
        let b = try #require(try ChannelGroups(architecture).group(named: "b"))
        #expect(throws: PruningError.self) { try BNScale().scores(for: b, in: network) }
    }
}
