import CNNEngine
import Testing

/// End-to-end training on a small synthetic task, and determinism.
@Suite struct TrainingTests {
    /// Four classes of 3×8×8 images: class k has a bright 4×4 quadrant k (in channel k % 3) on noise.
    static func quadrants(count: Int, seed: UInt64) -> TensorImages {
        var generator = SeededGenerator(seed: seed)
        var images = Tensor(shape: [count, 3, 8, 8])
        var labels: [Int] = []
        for n in 0..<count {
            let label = Int(generator.next() % 4)
            labels.append(label)
            for c in 0..<3 { for y in 0..<8 { for x in 0..<8 {
                var value = generator.uniform(bound: 0.5)
                if c == label % 3 && (y / 4) == label / 2 && (x / 4) == label % 2 { value += 1.5 }
                images[n, c, y, x] = value
            } } }
        }
        return TensorImages(images: images, labels: labels, classNames: ["a", "b", "c", "d"])
    }

    static let model = SimpleCNN(inputChannels: 3, imageSize: 8, conv1: 4, conv2: 8, fc1: 16, classes: 4)

    func train(threads: Int, epochs: Int, seed: UInt64 = 7) throws -> (Network, [Double]) {
        let data = TrainingTests.quadrants(count: 512, seed: 1)
        var generator = SeededGenerator(seed: seed)
        let network = Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
        let trainer = Trainer(network: network, optimizer: Adam(parameterCount: network.parameters.count, learningRate: 0.01),
                              batchSize: 32, threads: threads)
        var losses: [Double] = []
        for _ in 0..<epochs { losses.append(try trainer.trainEpoch(on: data, generator: &generator).trainLoss) }
        return (trainer.network, losses)
    }

    @Test func learnsASyntheticTaskFarAboveChance() throws {
        let (network, losses) = try train(threads: 2, epochs: 8)
        #expect(losses.last! < losses.first! * 0.5)
        let test = TrainingTests.quadrants(count: 400, seed: 99)
        let evaluation = Evaluator(threads: 2, batchSize: 64).evaluate(network, on: test)
        #expect(evaluation.accuracy > 90, "accuracy \(evaluation.accuracy)% (chance is 25%)")
        #expect(evaluation.perClassTotal.reduce(0, +) == 400)
    }

    @Test func sameSeedAndThreadsGiveTheSameRun() throws {
        let (a, lossesA) = try train(threads: 2, epochs: 2)
        let (b, lossesB) = try train(threads: 2, epochs: 2)
        #expect(a.parameters == b.parameters)
        #expect(lossesA == lossesB)
        let (c, _) = try train(threads: 2, epochs: 2, seed: 8)
        #expect(a.parameters != c.parameters)
    }

    @Test func threadCountChangesOnlyRounding() throws {
        let (one, _) = try train(threads: 1, epochs: 1)
        let (two, _) = try train(threads: 2, epochs: 1)
        #expect(TestSupport.maxRelativeError(one.parameters, two.parameters) < 1e-3)
    }

    @Test func divergingLossIsReported() throws {
        let data = TrainingTests.quadrants(count: 64, seed: 1)
        var generator = SeededGenerator(seed: 1)
        var network = Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
        network.parameters[0] = .infinity
        let trainer = Trainer(network: network, optimizer: Adam(parameterCount: network.parameters.count), batchSize: 16, threads: 1)
        #expect(throws: NonFiniteLossError.self) { _ = try trainer.trainEpoch(on: data, generator: &generator) }
    }
}
