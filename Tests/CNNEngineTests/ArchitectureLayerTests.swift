import CNNEngine
import Testing

/// The layers of the architecture graph — BatchNorm, residual blocks, pooling, dropout, convolutions
/// without bias — against finite differences, hand-computed values and each other.
@Suite struct ArchitectureLayerTests {
    /// Checks input and parameter gradients of `layers` (after an identity, so that the input
    /// gradient is computed) on a batch, in inference or training mode.
    func check(_ layers: [any Layer], inputShape: [Int], batch: Int = 3, seed: UInt64, training: Bool, tolerance: Float = 1e-2) throws {
        let architecture = try Sequential(inputShape: inputShape, layers: [Identity()] + layers)
        var generator = SeededGenerator(seed: seed)
        var network = Network(architecture: architecture, generator: &generator)
        // Non-trivial BatchNorm affine parameters and running statistics.
        for entry in architecture.parameterEntries where entry.initializer != .uniformFanIn {
            for i in entry.offset..<(entry.offset + entry.count) { network.parameters[i] = generator.uniform(bound: 1) + (entry.initializer == .ones ? 1 : 0) }
        }
        for entry in architecture.stateEntries where !entry.isInteger {
            for i in entry.offset..<(entry.offset + entry.count) { network.state[i] = generator.uniform(bound: 0.5) + (entry.initializer == .ones ? 1 : 0) }
        }
        var input = TestSupport.random([batch] + inputShape, seed: seed &+ 1)
        input.scalars = (0..<input.count).map { Float(($0 * 7919) % input.count) / Float(input.count) * 4 - 2 + 0.013 }
        let weights = TestSupport.random([batch] + architecture.outputShape, seed: seed &+ 2)
        let analytic = TestSupport.analyticGradients(network, input: input, weights: weights, training: training)
        // Several steps: a difference straddling a ReLU kink is wrong at one step, not at all.
        let steps: [Float] = [1e-2, 3e-3, 1e-3]
        let numericInputs = steps.map { TestSupport.numericInputGradients(network, input: input, weights: weights, step: $0, training: training) }
        let inputError = bestScaledError(analytic.input, numericInputs)
        #expect(inputError < tolerance, "input gradient, scaled error \(inputError)")
        let numericParameters = steps.map { TestSupport.numericParameterGradients(network, input: input, weights: weights, step: $0, training: training) }
        for entry in architecture.parameterEntries {
            let range = entry.offset..<(entry.offset + entry.count)
            let error = bestScaledError(Array(analytic.parameters[range]), numericParameters.map { Array($0[range]) })
            #expect(error < tolerance, "\(entry.name): scaled error \(error)")
        }
    }

    /// The largest error, per element the best over several numeric estimates, relative to the largest gradient.
    func bestScaledError(_ analytic: [Float], _ numerics: [[Float]]) -> Float {
        let scale = numerics[0].map(abs).max() ?? 0
        precondition(scale > 1e-6, "all reference gradients are zero: the check would prove nothing")
        return analytic.indices.map { i in numerics.map { abs(analytic[i] - $0[i]) }.min()! }.max()! / scale
    }

    @Test func batchNormTrainingGradients() throws {
        try check([BatchNorm2D(name: "bn")], inputShape: [3, 4, 4], seed: 21, training: true)
    }

    @Test func batchNormInferenceGradients() throws {
        try check([BatchNorm2D(name: "bn")], inputShape: [3, 4, 4], seed: 22, training: false)
    }

    @Test func convolutionWithoutBiasStrideTwoAndPointwise() throws {
        try check([Conv2D(name: "a", inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, bias: false),
                   Conv2D(name: "b", inputChannels: 3, outputChannels: 4, kernelSize: 1, bias: false)],
                  inputShape: [2, 6, 6], seed: 23, training: false)
    }

    @Test func poolingGradients() throws {
        try check([AvgPool2D(kernelSize: 2)], inputShape: [2, 6, 4], seed: 24, training: false)
        try check([AvgPool2D(kernelSize: 3, stride: 2)], inputShape: [2, 7, 7], seed: 25, training: false)
        try check([GlobalAvgPool2D()], inputShape: [3, 3, 5], seed: 26, training: false)
    }

    func basicBlock(_ name: String, input: Int, output: Int, stride: Int) -> Residual {
        Residual(name: name) {
            Conv2D(name: "conv1", inputChannels: input, outputChannels: output, kernelSize: 3, stride: stride, padding: 1, bias: false)
            BatchNorm2D(name: "bn1")
            ReLU()
            Conv2D(name: "conv2", inputChannels: output, outputChannels: output, kernelSize: 3, stride: 1, padding: 1, bias: false)
            BatchNorm2D(name: "bn2")
        } shortcut: {
            if stride != 1 || input != output {
                Conv2D(name: "downsample.0", inputChannels: input, outputChannels: output, kernelSize: 1, stride: stride, bias: false)
                BatchNorm2D(name: "downsample.1")
            }
        }
    }

    @Test func residualIdentityBlockGradients() throws {
        try check([basicBlock("block", input: 2, output: 2, stride: 1)], inputShape: [2, 4, 4], seed: 27, training: true)
        try check([basicBlock("block", input: 2, output: 2, stride: 1)], inputShape: [2, 4, 4], seed: 28, training: false)
    }

    /// The block runs its rectifier in place and writes its main branch's last output into the
    /// block's output (summed there): the result must equal the branch run as a plain chain of
    /// layers, each with its own buffers, plus the input, rectified — in training and inference.
    @Test func residualInPlaceLayoutMatchesPlainChain() throws {
        let block = basicBlock("block", input: 3, output: 3, stride: 1)
        let blockArchitecture = try Sequential(inputShape: [3, 5, 5], layers: [block])
        let chain = try Sequential(inputShape: [3, 5, 5], layers: block.main)
        var generator = SeededGenerator(seed: 41)
        let blockNetwork = Network(architecture: blockArchitecture, generator: &generator)
        let chainNetwork = Network(architecture: chain, parameters: blockNetwork.parameters)
        let input = TestSupport.random([4, 3, 5, 5], seed: 42)
        for training in [true, false] {
            let branch = chainNetwork(input, training: training)
            let expected = zip(branch.scalars, input.scalars).map { max($0 + $1, 0) }
            #expect(blockNetwork(input, training: training).scalars == expected, "training: \(training)")
        }
    }

    @Test func residualProjectionBlockGradients() throws {
        try check([basicBlock("block", input: 2, output: 3, stride: 2)], inputShape: [2, 6, 6], seed: 29, training: true)
    }

    @Test func residualBlockNamesItsTensorsLikePyTorch() throws {
        let architecture = try Sequential(inputShape: [2, 6, 6], layers: [basicBlock("layer2.0", input: 2, output: 3, stride: 2)])
        #expect(architecture.parameterEntries.map(\.name) == [
            "layer2.0.conv1.weight", "layer2.0.bn1.weight", "layer2.0.bn1.bias", "layer2.0.conv2.weight",
            "layer2.0.bn2.weight", "layer2.0.bn2.bias", "layer2.0.downsample.0.weight",
            "layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias"])
        #expect(architecture.stateEntries.map(\.name).filter { $0.hasPrefix("layer2.0.bn1") } == [
            "layer2.0.bn1.running_mean", "layer2.0.bn1.running_var", "layer2.0.bn1.num_batches_tracked"])
        #expect(architecture.outputShape == [3, 3, 3])
    }

    @Test func residualShapesMustMatch() {
        let block = Residual(name: "bad", main: [Conv2D(name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1)])
        #expect(throws: EngineError.self) { try Sequential(inputShape: [2, 4, 4], layers: [block]) }
    }

    /// BatchNorm against hand-computed batch statistics, and the running-statistics update
    /// (momentum 0.1, unbiased variance, one more batch tracked).
    @Test func batchNormStatisticsByHand() throws {
        let architecture = try Sequential(inputShape: [1, 1, 2], layers: [BatchNorm2D(name: "bn")])
        var network = Network(architecture: architecture, parameters: [2, 0.5])  // γ = 2, β = 0.5
        // Two samples, one channel, two positions: values 1, 3, 5, 7 → mean 4, biased var 5, unbiased 20/3.
        let input = Tensor(shape: [2, 1, 1, 2], scalars: [1, 3, 5, 7])
        let output = network(input, training: true)
        let inverse = 1 / (5 + 1e-5 as Float).squareRoot()
        for (x, y) in zip(input.scalars, output.scalars) {
            #expect(abs(y - (2 * (x - 4) * inverse + 0.5)) < 1e-5)
        }
        let workspace = Workspace(architecture: architecture, batchCapacity: 2, training: false)
        input.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: 4) }
        network.forward(workspace, batch: 2, context: .training(batch: 2))
        network.updateState(from: workspace, batch: 2)
        #expect(abs(network.state[0] - 0.4) < 1e-6)                       // 0.9·0 + 0.1·4
        #expect(abs(network.state[1] - (0.9 + 0.1 * 20 / 3)) < 1e-6)      // 0.9·1 + 0.1·20/3
        #expect(network.state[2] == 1)                                     // num_batches_tracked
        // Inference uses the running statistics.
        let evaluated = network(input)
        let runningInverse = 1 / (network.state[1] + 1e-5).squareRoot()
        #expect(abs(evaluated.scalars[0] - (2 * (1 - 0.4) * runningInverse + 0.5)) < 1e-5)
    }

    /// A batch split across two workers gives the same step as one worker: BatchNorm sees the
    /// statistics of the whole batch (combined across workers), not of each half.
    @Test func batchNormAcrossWorkersEqualsOneWorker() throws {
        let graph = try ModelZoo.graph(named: "resnet20", classes: 3, inputShape: [2, 8, 8], widthMultiplier: 0.25)
        var generator = SeededGenerator(seed: 30)
        let network = Network(architecture: try graph.sequential(), generator: &generator)
        let images = TestSupport.random([10, 2, 8, 8], seed: 31)
        let data = TensorImages(images: images, labels: (0..<10).map { $0 % 3 }, classNames: ["a", "b", "c"])
        func oneStep(threads: Int) -> Network {
            let trainer = Trainer(network: network, optimizer: SGD(parameterCount: network.parameters.count, learningRate: 0.1), batchSize: 10, threads: threads)
            let indices: [Int32] = Array(0..<10)
            _ = indices.withUnsafeBufferPointer { trainer.step(data: data, indices: $0) }
            return trainer.network
        }
        let single = oneStep(threads: 1), split = oneStep(threads: 2)
        #expect(TestSupport.maxRelativeError(split.parameters, single.parameters) < 1e-5)
        #expect(TestSupport.maxRelativeError(split.state, single.state) < 1e-5)
        #expect(single.state != network.state, "the step must update the running statistics")
        // Halves normalised on their own would differ: the check has teeth.
        let halves = try Sequential(inputShape: [2, 8, 8], layers: [BatchNorm2D(name: "bn")])
        let bn = Network(architecture: halves, parameters: [1, 1, 0, 0])
        let whole = bn(images, training: true)
        let firstHalf = bn(Tensor(shape: [5, 2, 8, 8], scalars: Array(images.scalars[0..<(5 * 128)])), training: true)
        #expect(TestSupport.maxRelativeError(Array(whole.scalars[0..<(5 * 128)]), firstHalf.scalars) > 1e-3)
    }

    @Test func dropoutTrainingOnlyAndReproducible() throws {
        let architecture = try Sequential(inputShape: [1000], layers: [Dropout(probability: 0.3)])
        let network = Network(architecture: architecture, parameters: [])
        let input = Tensor(shape: [2, 1000], repeating: 1)
        #expect(network(input) == input)
        let a = network(input, training: true), b = network(input, training: true)
        #expect(a == b)
        let zeros = a.scalars.filter { $0 == 0 }.count
        #expect((480...720).contains(zeros), "about 30 % of 2,000 zeroed, got \(zeros)")
        #expect(a.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
        // The two samples get different masks.
        #expect(Array(a.scalars[0..<1000]) != Array(a.scalars[1000..<2000]))
    }
}
