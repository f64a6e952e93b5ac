import CNNEngine
import Testing

/// BatchNorm folded into the convolution before it: by hand, on every zoo network with
/// non-trivial running statistics, and for masked channels.
@Suite struct BatchNormFoldingTests {
    /// A network of `graph` with random weights and random BatchNorm parameters and running
    /// statistics, so that every BatchNorm is far from the identity.
    static func network(_ graph: ModelGraph, seed: UInt64) throws -> Network {
        var generator = SeededGenerator(seed: seed)
        var network = Network(architecture: try graph.sequential(), generator: &generator)
        for entry in network.architecture.parameterEntries where entry.initializer != .uniformFanIn {
            for i in entry.offset..<(entry.offset + entry.count) {
                // γ in [0.5, 1.5], β in [−0.5, 0.5].
                network.parameters[i] = entry.initializer == .ones ? 1 + generator.uniform(bound: 0.5) : generator.uniform(bound: 0.5)
            }
        }
        for entry in network.architecture.stateEntries where !entry.isInteger {
            for i in entry.offset..<(entry.offset + entry.count) {
                // running_var in [0.25, 2.25], running_mean in [−0.5, 0.5].
                network.state[i] = entry.name.hasSuffix("running_var") ? 1.25 + generator.uniform(bound: 1) : generator.uniform(bound: 0.5)
            }
        }
        return network
    }

    @Test func convolutionAndBatchNormByHand() throws {
        // y = BN(2x) with γ 3, β 1, mean 0.5, var 4 − ε: (2x − 0.5)·3/2 + 1 = 3x + 0.25.
        let architecture = try Sequential(inputShape: [1, 2, 2]) {
            Conv2D(name: "c", inputChannels: 1, outputChannels: 1, kernelSize: 1, bias: false)
            BatchNorm2D(name: "n")
        }
        var network = Network(architecture: architecture, parameters: [2, 3, 1])
        try network.setTensor(Tensor(shape: [1], scalars: [0.5]), named: "n.running_mean")
        try network.setTensor(Tensor(shape: [1], scalars: [4 - 1e-5]), named: "n.running_var")
        let folding = BatchNormFolding(network)
        #expect(folding.foldedBatchNorms == ["n"])
        #expect(folding.network.architecture.layers.count == 1)
        func close(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) } }
        #expect(close(try folding.network.tensor(named: "c.weight").scalars, [3]))
        #expect(close(try folding.network.tensor(named: "c.bias").scalars, [0.25]))
        let output = folding.network(Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, -2, 4]))
        #expect(close(output.scalars, [0.25, 3.25, -5.75, 12.25]))
    }

    /// The convolutions that pool their output (`Conv2D.poolsOutput`) and the max-pools of `layers`.
    static func pooling(_ layers: [any Layer]) -> (pooling: Int, pools: Int) {
        (layers.filter { ($0 as? Conv2D)?.poolsOutput == true }.count, layers.filter { $0 is MaxPool2D }.count)
    }

    /// The convolutions followed (after a BatchNorm and a ReLU, if any) by a 2×2 max-pool that
    /// they can run in their own pass (`Conv2D.canPoolOutput`).
    static func poolable(_ layers: [any Layer]) -> Int {
        layers.indices.filter { index in
            guard let convolution = layers[index] as? Conv2D, convolution.canPoolOutput else { return false }
            let rest = layers[(index + 1)...].drop { $0 is BatchNorm2D || $0 is ReLU }
            return (rest.first as? MaxPool2D).map { $0.kernelSize == 2 && $0.stride == 2 } ?? false
        }.count
    }

    /// The convolutions (at the top level and in residual blocks) and ReLUs of `layers`.
    static func census(_ layers: [any Layer]) -> (rectifying: Int, relus: Int) {
        layers.reduce(into: (0, 0)) { total, layer in
            if let block = layer as? Residual {
                let inner = census(block.main + block.shortcut)
                total.0 += inner.rectifying
                total.1 += inner.relus
            }
            if let convolution = layer as? Conv2D, convolution.rectifiesOutput { total.0 += 1 }
            if layer is ReLU { total.1 += 1 }
        }
    }

    /// A ReLU after a folded convolution is fused into it; one before a max-pool is not (it
    /// runs with the pool).
    @Test func rectifierAfterAConvolutionIsFusedByHand() throws {
        func network(poolAfter: Bool) throws -> Network {
            let architecture = try Sequential(inputShape: [1, 2, 2], layers: [
                Conv2D(name: "c", inputChannels: 1, outputChannels: 1, kernelSize: 1, bias: false), BatchNorm2D(name: "n"), ReLU(),
            ] + (poolAfter ? [MaxPool2D(kernelSize: 2)] : []))
            var network = Network(architecture: architecture, parameters: [2, 3, 1])
            try network.setTensor(Tensor(shape: [1], scalars: [0.5]), named: "n.running_mean")
            try network.setTensor(Tensor(shape: [1], scalars: [4 - 1e-5]), named: "n.running_var")
            return network
        }
        let folded = try network(poolAfter: false).foldingBatchNorm
        #expect(folded.architecture.layers.count == 1 && BatchNormFoldingTests.census(folded.architecture.layers) == (1, 0))
        // 3x + 0.25 through the ReLU.
        let output = folded(Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, -2, 4]))
        #expect(zip(output.scalars, [0.25, 3.25, 0, 12.25]).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
        let pooled = try network(poolAfter: true).foldingBatchNorm
        #expect(pooled.architecture.layers.count == 3 && BatchNormFoldingTests.census(pooled.architecture.layers) == (0, 1))
        #expect(abs(pooled(Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, -2, 4])).scalars[0] - 12.25) <= 1e-5)
    }

    /// Every zoo network, folded for inference, gives the logits of the unfolded one (grouped
    /// and depthwise convolutions, ReLU6, sums without a ReLU, padded max-pools included).
    @Test(arguments: ModelZoo.names)
    func everyFoldedZooNetworkGivesTheSameLogits(name: String) throws {
        let graph = try ModelZoo.graph(named: name, classes: 5, widthMultiplier: 0.125)
        let network = try BatchNormFoldingTests.network(graph, seed: 23)
        let input = TestSupport.random([3, 3, 32, 32], seed: 6)
        let plain = network(input), folded = network.foldingBatchNorm(input)
        let scale = max(plain.scalars.map(abs).max()!, 1e-6)
        let worst = zip(plain.scalars, folded.scalars).map { abs($0 - $1) }.max()! / scale
        #expect(worst < 1e-4, "\(name): scaled error \(worst)")
    }

    @Test(arguments: ["vgg11-bn", "resnet20"])
    func foldedZooNetworksGiveTheSameLogits(name: String) throws {
        let graph = try ModelZoo.graph(named: name, classes: 5, widthMultiplier: 0.25)
        let network = try BatchNormFoldingTests.network(graph, seed: 17)
        let folding = BatchNormFolding(network)
        let batchNorms = network.architecture.stateEntries.filter { $0.name.hasSuffix("running_mean") }.count
        // VGG-11-BN: 8; ResNet-20: the stem, 2 per block, 2 projection shortcuts — 21.
        #expect(batchNorms == (name == "resnet20" ? 21 : 8))
        #expect(folding.foldedBatchNorms.count == batchNorms)
        #expect(folding.network.architecture.stateCount == 0)
        // ReLUs fused into the convolution before them: ResNet-20's stem and each block's
        // first convolution (all 10 ReLU layers; the ReLUs after the residual sums are the
        // blocks' own); VGG-11-BN's three convolutions followed by another convolution, and
        // those followed by a max-pool they can run (the first on 32×32 with the direct kernel,
        // where there is AVX2; Winograd's on 16×16 and 8×8), with their max-pools. The other
        // ReLUs run with their max-pools.
        let before = BatchNormFoldingTests.census(network.architecture.layers)
        let after = BatchNormFoldingTests.census(folding.network.architecture.layers)
        let pooled = BatchNormFoldingTests.poolable(network.architecture.layers)
        #expect(name == "resnet20" ? pooled == 0 : pooled == (KernelBuild.usesAVX2 ? 3 : 2))
        let fused = (name == "resnet20" ? 10 : 3) + pooled
        #expect(after.rectifying == fused && after.relus == before.relus - fused)
        let pools = BatchNormFoldingTests.pooling(network.architecture.layers).pools
        #expect(BatchNormFoldingTests.pooling(folding.network.architecture.layers) == (pooled, pools - pooled))
        #expect(folding.network.parameters.count < network.parameters.count)
        let input = TestSupport.random([6, 3, 32, 32], seed: 5)
        let plain = network(input), folded = folding.network(input)
        let scale = plain.scalars.map(abs).max()!
        #expect(scale > 1e-3)
        let worst = zip(plain.scalars, folded.scalars).map { abs($0 - $1) }.max()! / scale
        #expect(worst < 1e-5, "largest difference \(worst) of the largest logit")
        // The checkpoint stays the unfolded one: nothing about the input network changed.
        #expect(network.architecture.stateCount > 0)
        // The folded network's recorded graph is the function it computes (fused ReLUs and
        // max-pools included): a network rebuilt from it with the folded tensors gives its logits.
        let recorded = try #require(folding.network.architecture.graph)
        let architecture = try recorded.sequential()
        var parameters = [Float](repeating: 0, count: architecture.parameterCount)
        for entry in architecture.parameterEntries {
            parameters.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: try folding.network.tensor(named: entry.name).scalars)
        }
        #expect(architecture.stateCount == 0)
        let again = Network(architecture: architecture, parameters: parameters)(input)
        #expect(zip(folded.scalars, again.scalars).map { abs($0 - $1) }.max()! <= 1e-6 * scale, "\(name): graph of the folded network")
    }

    /// A convolution fused with its ReLU and max-pool describes itself as the three layers, and
    /// as no single layer (`Layer.spec` cannot say it).
    @Test func fusedConvolutionDescribesEveryLayerItStandsFor() {
        var conv = Conv2D(name: "conv", inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1)
        #expect(conv.specs == [conv.spec!])
        conv.rectifiesOutput = true
        conv.poolsOutput = true
        #expect(conv.spec == nil)
        #expect(conv.specs == [.convolution(name: "conv", outputChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: true),
                               .relu, .maxPool(kernel: 2, stride: 2)])
    }

    @Test func maskedChannelsStayExactlyZero() throws {
        let architecture = try Sequential(inputShape: [2, 4, 4]) {
            Conv2D(name: "c", inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, bias: true)
            BatchNorm2D(name: "n")
        }
        var generator = SeededGenerator(seed: 3)
        var network = Network(architecture: architecture, generator: &generator)
        try network.setTensor(Tensor(shape: [3], scalars: [0.3, -0.2, 0.7]), named: "n.running_mean")
        // Channel 1 masked as group masking does: filter, bias, γ and β zero.
        var weight = try network.tensor(named: "c.weight")
        for i in 18..<36 { weight.scalars[i] = 0 }
        try network.setTensor(weight, named: "c.weight")
        try network.setTensor(Tensor(shape: [3], scalars: [0.1, 0, -0.1]), named: "c.bias")
        try network.setTensor(Tensor(shape: [3], scalars: [1.2, 0, 0.8]), named: "n.weight")
        try network.setTensor(Tensor(shape: [3], scalars: [0.1, 0, -0.3]), named: "n.bias")
        let folded = network.foldingBatchNorm
        #expect(try folded.tensor(named: "c.bias").scalars[1] == 0)
        let output = folded(TestSupport.random([2, 2, 4, 4], seed: 8))
        for n in 0..<2 { for i in 0..<16 { #expect(output.scalars[(n * 3 + 1) * 16 + i] == 0) } }
    }

    /// Without BatchNorms the parameters stay as they are; the SimpleCNN's ReLUs and max-pools
    /// are fused into its convolutions (conv1's where there is AVX2, its direct kernel), with
    /// the same logits.
    @Test func networksWithoutBatchNormKeepTheirParameters() throws {
        var generator = SeededGenerator(seed: 1)
        let network = Network(architecture: try ModelZoo.graph(named: "simplecnn").sequential(), generator: &generator)
        let folding = BatchNormFolding(network)
        #expect(folding.foldedBatchNorms.isEmpty)
        #expect(folding.network.parameters == network.parameters)
        let pooled = KernelBuild.usesAVX2 ? 2 : 1
        #expect(BatchNormFoldingTests.pooling(folding.network.architecture.layers) == (pooled, 2 - pooled))
        let input = TestSupport.random([3, 3, 32, 32], seed: 2)
        #expect(TestSupport.maxRelativeError(folding.network(input).scalars, network(input).scalars) < 1e-5)
        // A BatchNorm with no convolution before it stays.
        let alone = try Sequential(inputShape: [2, 3, 3]) { BatchNorm2D(name: "n"); ReLU() }
        #expect(BatchNormFolding(Network(architecture: alone, generator: &generator)).foldedBatchNorms.isEmpty)
    }

    /// A max-pool fuses into the convolution before it, with or without a ReLU between them,
    /// only where that convolution can pool in its own pass (the direct kernel of an RGB layer
    /// where there is AVX2, Winograd's layers with even planes); the logits stay the same.
    @Test func maxPoolsFuseIntoTheConvolutionsThatCanRunThem() throws {
        let architecture = try Sequential(inputShape: [3, 20, 20]) {
            Conv2D(name: "a", inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1)
            ReLU()
            MaxPool2D(kernelSize: 2)
            Conv2D(name: "b", inputChannels: 8, outputChannels: 9, kernelSize: 3, padding: 1)
            MaxPool2D(kernelSize: 2)
            Conv2D(name: "c", inputChannels: 9, outputChannels: 4, kernelSize: 3, padding: 1)
            ReLU()
            MaxPool2D(kernelSize: 2)
            Flatten()
            Linear(name: "fc", inputFeatures: 16, outputFeatures: 3)
        }
        var generator = SeededGenerator(seed: 21)
        let network = Network(architecture: architecture, generator: &generator)
        let folded = network.foldingBatchNorm
        let layers = folded.architecture.layers
        let a = architecture.layers[0] as! Conv2D, b = architecture.layers[3] as! Conv2D, c = architecture.layers[5] as! Conv2D
        #expect(a.canPoolOutput == KernelBuild.usesAVX2 && b.canPoolOutput == Conv2D.winogradEnabled && !c.canPoolOutput)
        let fused = [a, b].filter(\.canPoolOutput).count
        #expect(BatchNormFoldingTests.pooling(layers) == (fused, 3 - fused))
        // The 5×5 map of `c` cannot be pooled in its pass: its ReLU stays with its max-pool.
        #expect(layers.filter { $0 is ReLU }.count == 1 + (a.canPoolOutput ? 0 : 1))
        let input = TestSupport.random([5, 3, 20, 20], seed: 22)
        #expect(TestSupport.maxRelativeError(folded(input).scalars, network(input).scalars) < 1e-5)
    }
}
