import CNNEngine
import CNNPruning
import Foundation
import Testing

/// `GroupRemoval` of SimpleCNN layers (groups with one producer): shapes, the exact slices kept
/// (PyTorch's flatten order), equivalence with masking weights and bias, chained removals, saving
/// and loading, and the errors.
@Suite struct RemovalTests {
    /// Removes `units` of the SimpleCNN layer called `layer` from `network`: its channel group.
    static func remove(_ units: some Sequence<Int>, of layer: String, from network: Network) throws -> GroupRemoval {
        try GroupRemoval(removing: units, of: try PrunableLayer(named: layer, in: network.architecture).group, from: network)
    }

    /// Units removed in the equivalence tests: scattered, first and last included.
    static let removals: [(layer: String, units: [Int])] = [
        ("conv1", [0, 3, 4, 9, 15]),
        ("conv2", [0, 1, 5, 6, 7, 12, 18, 19, 20, 23, 24, 25, 27, 28, 30, 31]),
        ("fc1", Array(stride(from: 0, to: 256, by: 3)) + [255]),
    ]

    @Test func newWidthsShapesAndCounts() throws {
        let model = SimpleCNN()
        let network = try RemovalFixtures.network(seed: 1)
        for (layer, units) in Self.removals {
            let removal = try Self.remove(units, of: layer, from: network)
            let width = try model.width(ofLayer: layer) - Set(units).count
            #expect(try removal.simpleCNN.width(ofLayer: layer) == width)
            #expect(removal.network.architecture.parameterCount == (try removal.simpleCNN.architecture().parameterCount))
            #expect(removal.removed == Set(units).sorted())
            #expect(removal.kept.count == width && Set(removal.kept).isDisjoint(with: units))
            #expect(try PrunableLayer(named: layer, in: removal.network.architecture).unitCount == width)
        }
        // conv2 halved: conv2 loses 16·16·9 + 16 weights and biases, fc1 16·64·256 weights.
        let half = try Self.remove(0..<16, of: "conv2", from: network)
        #expect(network.parameters.count - half.network.parameters.count == 16 * 16 * 9 + 16 + 16 * 64 * 256)
        #expect(try half.network.tensor(named: "conv2.weight").shape == [16, 16, 3, 3])
        #expect(try half.network.tensor(named: "fc1.weight").shape == [256, 16 * 64])
        #expect(ArchitectureCost(half.network.architecture).multiplyAccumulates < ArchitectureCost(network.architecture).multiplyAccumulates)
    }

    /// The SimpleCNN's cost by hand: conv1 16·3·9·32², conv2 32·16·9·16², fc1 256·2048, fc2 10·256.
    @Test func architectureCostOfTheSimpleCNNByHand() throws {
        let cost = ArchitectureCost(try SimpleCNN().architecture())
        #expect(cost.multiplyAccumulatesByLayer == ["conv1": 442_368, "conv2": 1_179_648, "fc1": 524_288, "fc2": 2_560])
        #expect(cost.multiplyAccumulates == 442_368 + 1_179_648 + 524_288 + 2_560)
        #expect(cost.parameters == 532_202)
    }

    @Test func keepsExactlyTheSurvivingSlices() throws {
        let model = SimpleCNN()
        let network = try RemovalFixtures.network(seed: 2)
        let before = Dictionary(uniqueKeysWithValues: network.namedTensors.map { ($0.name, $0.tensor) })

        // conv2: its filters and biases, and fc1's 64 features per channel in order c·64 + y·8 + x.
        let conv2 = try Self.remove([3, 17, 31], of: "conv2", from: network)
        let w2 = try conv2.network.tensor(named: "conv2.weight"), b2 = try conv2.network.tensor(named: "conv2.bias")
        let fc1 = try conv2.network.tensor(named: "fc1.weight")
        for (new, old) in conv2.kept.enumerated() {
            #expect(b2[new] == before["conv2.bias"]![old])
            for i in 0..<16 { for y in 0..<3 { for x in 0..<3 {
                #expect(w2[new, i, y, x] == before["conv2.weight"]![old, i, y, x])
            } } }
            for o in [0, 77, 255] { for y in 0..<8 { for x in 0..<8 {
                #expect(fc1[o, new * 64 + y * 8 + x] == before["fc1.weight"]![o, old * 64 + y * 8 + x])
            } } }
        }
        #expect(try conv2.network.tensor(named: "fc1.bias") == before["fc1.bias"]!)
        #expect(try conv2.network.tensor(named: "conv1.weight") == before["conv1.weight"]!)

        // conv1: conv2's input channels.
        let conv1 = try Self.remove([0, 8], of: "conv1", from: network)
        let w = try conv1.network.tensor(named: "conv2.weight")
        #expect(w.shape == [32, 14, 3, 3])
        for o in [0, 31] { for (new, old) in conv1.kept.enumerated() { for k in 0..<3 {
            #expect(w[o, new, k, 2 - k] == before["conv2.weight"]![o, old, k, 2 - k])
        } } }

        // fc1: fc2's input features.
        let fc = try Self.remove([1, 2, 200], of: "fc1", from: network)
        let fc2 = try fc.network.tensor(named: "fc2.weight")
        #expect(fc2.shape == [10, 253])
        for o in 0..<10 { for (new, old) in fc.kept.enumerated() { #expect(fc2[o, new] == before["fc2.weight"]![o, old]) } }
        #expect(try fc.network.tensor(named: "fc2.bias") == before["fc2.bias"]!)
    }

    /// The removed model's logits equal those of the model with the same units' weights and bias
    /// zeroed (the other engineer's `masking`), within 1e-4, for each prunable layer.
    @Test(arguments: [0, 1, 2])
    func removalEqualsMaskingWeightsAndBias(_ which: Int) throws {
        let (layerName, units) = Self.removals[which]
        let model = SimpleCNN()
        let network = try RemovalFixtures.network(seed: 3)
        let layer = try PrunableLayer(named: layerName, in: network.architecture)
        let inputs = RemovalFixtures.inputs(16, seed: 4)
        let masked = network.masking(units, of: layer)(inputs)
        let removed = try Self.remove(units, of: layerName, from: network).network(inputs)
        #expect(removed.shape == [16, 10])
        let difference = RemovalFixtures.maxDifference(removed, masked)
        #expect(difference <= 1e-4, "\(layerName): max |removed − masked| = \(difference)")
        // The check has teeth: pruning changes the logits, and keeping the bias is not removal.
        #expect(RemovalFixtures.maxDifference(network(inputs), masked) > 1e-3)
        let keptBias = network.masking(units, of: layer, keepBias: true)(inputs)
        #expect(RemovalFixtures.maxDifference(removed, keptBias) > 1e-3, "\(layerName): a kept bias must show")
    }

    /// The same on real CIFAR-10 test images, when `CIFAR10_DIR` is set.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CIFAR10_DIR"] != nil))
    func removalEqualsMaskingOnRealImages() throws {
        let test = try #require(try RemovalFixtures.cifarTest())
        let inputs = RemovalFixtures.tensor(of: test, count: 64)
        let model = SimpleCNN()
        let network = try RemovalFixtures.network(seed: 5)
        for (layerName, units) in Self.removals {
            let layer = try PrunableLayer(named: layerName, in: network.architecture)
            let masked = network.masking(units, of: layer)(inputs)
            let removed = try Self.remove(units, of: layerName, from: network).network(inputs)
            let difference = RemovalFixtures.maxDifference(removed, masked)
            #expect(difference <= 1e-4, "\(layerName) on real images: max |removed − masked| = \(difference)")
        }
    }

    /// Pruned models prune again: conv2, then conv1, fc1 and conv2 once more equal masking all
    /// those units (as indices of the original model) at once.
    @Test func chainedRemovalsComposeAndMatchMasking() throws {
        let model = SimpleCNN()
        let network = try RemovalFixtures.network(seed: 6)
        let first = try Self.remove([2, 4, 6, 8], of: "conv2", from: network)
        let second = try Self.remove([1, 15], of: "conv1", from: first.network)
        let third = try Self.remove(Array(0..<100), of: "fc1", from: second.network)
        let fourth = try Self.remove([0, 27], of: "conv2", from: third.network)
        #expect(try fourth.simpleCNN == SimpleCNN(conv1: 14, conv2: 26, fc1: 156))

        let conv2Original = [2, 4, 6, 8] + [0, 27].map { first.kept[$0] }
        var masked = network
        masked.mask(conv2Original, of: try PrunableLayer(named: "conv2", in: network.architecture))
        masked.mask([1, 15], of: try PrunableLayer(named: "conv1", in: network.architecture))
        masked.mask(0..<100, of: try PrunableLayer(named: "fc1", in: network.architecture))
        let inputs = RemovalFixtures.inputs(8, seed: 7)
        #expect(RemovalFixtures.maxDifference(fourth.network(inputs), masked(inputs)) <= 1e-4)
    }

    @Test func savesAndLoadsWithTheNewWidths() throws {
        let model = SimpleCNN()
        let network = try RemovalFixtures.network(seed: 8)
        let removal = try Self.remove([5, 6, 7], of: "conv2", from: network)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-removal-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("pruned.safetensors")
        try Checkpoint.save(removal.network, model: try removal.simpleCNN, to: url)
        let loaded = try Checkpoint.load(from: url)
        #expect(loaded.model == SimpleCNN(conv1: 16, conv2: 29, fc1: 256))
        #expect(loaded.network.parameters == removal.network.parameters)
        // …and prunes again.
        let again = try Self.remove([0], of: "conv2", from: loaded.network)
        #expect(try again.simpleCNN.conv2 == 28)
        // The file size `ModelMeasurement` reports is the file's.
        let data = RemovalFixtures.selfLabelled(4, by: removal.network, seed: 11)
        let measured = ModelMeasurement.measure([(removal.network, try removal.simpleCNN)], on: data, threads: 1, timingRuns: 0)[0]
        let bytes = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        #expect(measured.fileBytes == bytes)
        #expect(measured.parameters == removal.network.parameters.count)
        #expect(measured.multiplyAccumulates == ArchitectureCost(try removal.simpleCNN.architecture()).multiplyAccumulates)
        #expect(measured.accuracy == 100 && measured.imagesPerSecond == nil)
    }

    @Test func emptyRemovalIsACopy() throws {
        let network = try RemovalFixtures.network(SimpleCNN(conv1: 4, conv2: 6, fc1: 8), seed: 9)
        let removal = try Self.remove([], of: "conv2", from: network)
        #expect(removal.network.parameters == network.parameters)
        #expect(removal.kept == Array(0..<6) && removal.removed.isEmpty)
    }

    @Test func clearErrors() throws {
        let model = SimpleCNN(conv1: 4, conv2: 6, fc1: 8)
        let network = try RemovalFixtures.network(model, seed: 10)
        #expect(throws: RemovalError.noUnitsLeft(layer: "conv2", units: 6, unitName: "channel")) {
            try Self.remove(0..<6, of: "conv2", from: network)
        }
        #expect(throws: RemovalError.unitOutOfRange(8, layer: "fc1", units: 8, unitName: "neuron")) {
            try Self.remove([1, 8], of: "fc1", from: network)
        }
        #expect(throws: RemovalError.unitOutOfRange(-1, layer: "conv1", units: 4, unitName: "channel")) {
            try Self.remove([-1], of: "conv1", from: network)
        }
        #expect(throws: PruningError.self) { try Self.remove([0], of: "fc2", from: network) }
        #expect(throws: PruningError.self) { try Self.remove([0], of: "conv3", from: network) }
        // A group of another network is no SimpleCNN layer: its removal reads back no SimpleCNN.
        let other = try Sequential(inputShape: [1, 4, 4]) {
            Conv2D(name: "c", inputChannels: 1, outputChannels: 3, kernelSize: 3, padding: 1)
            ReLU()
            GlobalAvgPool2D()
            Flatten()
            Linear(name: "fc", inputFeatures: 3, outputFeatures: 2)
        }
        var generator = SeededGenerator(seed: 1)
        let otherNetwork = Network(architecture: other, generator: &generator)
        let group = try #require(try ChannelGroups(other).group(named: "c"))
        let removal = try GroupRemoval(removing: [1], of: group, from: otherNetwork)
        #expect(removal.kept == [0, 2])
        #expect(throws: RemovalError.self) { try removal.simpleCNN }
        // Messages say what to do.
        #expect(RemovalError.noUnitsLeft(layer: "conv2", units: 32, unitName: "channel").description.contains("at most 31"))
        #expect(RemovalError.countOutOfRange(40, layer: "conv2", units: 32, unitName: "channel").description.contains("1…31"))
    }
}
