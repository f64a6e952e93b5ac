import CNNEngine
import CNNPruning
import Testing

@Suite struct MaskingTests {
    /// Zeroes `units` of `layer` through the public tensor API, as a person would by hand.
    func zeroedByHand(_ network: Network, layer: String, units: [Int], keepBias: Bool) throws -> Network {
        var copy = network
        var weight = try copy.tensor(named: "\(layer).weight")
        let filter = weight.count / weight.shape[0]
        for unit in units {
            for i in 0..<filter { weight.scalars[unit * filter + i] = 0 }
        }
        try copy.setTensor(weight, named: "\(layer).weight")
        if !keepBias {
            var bias = try copy.tensor(named: "\(layer).bias")
            for unit in units { bias.scalars[unit] = 0 }
            try copy.setTensor(bias, named: "\(layer).bias")
        }
        return copy
    }

    @Test(arguments: [("conv1", [0, 3]), ("conv2", [1, 4, 5]), ("fc1", [0, 2, 7])])
    func maskedLogitsEqualHandZeroedLogits(layer name: String, units: [Int]) throws {
        let network = try Fixtures.smallCNN()
        let layer = try PrunableLayer(named: name, in: network.architecture)
        let inputs = Fixtures.randomInputs(for: network, count: 6, seed: 3)
        for keepBias in [false, true] {
            let masked = network.masking(units, of: layer, keepBias: keepBias)
            let byHand = try zeroedByHand(network, layer: name, units: units, keepBias: keepBias)
            #expect(masked.parameters == byHand.parameters)
            #expect(masked(inputs) == byHand(inputs))
            #expect(masked(inputs) != network(inputs))
        }
    }

    @Test func keptBiasLeavesAConstantChannelAndZeroedBiasLeavesNothing() throws {
        let network = try Fixtures.smallCNN()
        let conv2 = try PrunableLayer(named: "conv2", in: network.architecture)
        let inputs = Fixtures.randomInputs(for: network, count: 2, seed: 4)
        for keepBias in [false, true] {
            let masked = network.masking([2], of: conv2, keepBias: keepBias)
            let workspace = Workspace(architecture: masked.architecture, batchCapacity: 2, training: false)
            inputs.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: inputs.count) }
            masked.forward(workspace, batch: 2)
            let plane = workspace.activationCounts[conv2.outputActivation] / conv2.unitCount
            let expected = keepBias ? network.bias(2, of: conv2) : 0
            for n in 0..<2 {
                let start = workspace.activation(conv2.outputActivation) + (n * conv2.unitCount + 2) * plane
                #expect((0..<plane).allSatisfy { start[$0] == expected })
            }
            #expect(conv2.maskedOutput(bias: network.bias(2, of: conv2), keepBias: keepBias) == (keepBias ? max(expected, 0) : 0))
        }
    }

    @Test func prunableLayersOfTheSimpleCNN() throws {
        let architecture = try SimpleCNN().architecture()
        let layers = PrunableLayer.all(in: architecture)
        #expect(layers.map(\.name) == SimpleCNN.prunableLayers)
        let conv2 = layers[1]
        #expect(conv2.layerIndex == SimpleCNN.LayerIndex.conv2)
        #expect(conv2.unitCount == 32 && conv2.positionsPerUnit == 16 * 16)
        #expect(conv2.consumerName == "fc1" && conv2.consumerFeaturesPerUnit == 64)
        #expect(layers[0].consumerName == "conv2" && layers[0].consumerFeaturesPerUnit == 16 * 16)
        #expect(layers[2].consumerName == "fc2" && layers[2].consumerFeaturesPerUnit == 1 && layers[2].unitName == "neuron")
        #expect(throws: PruningError.unknownLayer("conv3", valid: ["conv1", "conv2", "fc1"])) {
            try PrunableLayer(named: "conv3", in: architecture)
        }
        #expect(throws: PruningError.notPrunable("fc2", reason: "it is the output layer (its units are the classes)")) {
            try PrunableLayer(named: "fc2", in: architecture)
        }
    }
}
