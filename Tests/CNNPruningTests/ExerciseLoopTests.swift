import CNNEngine
import CNNPruning
import Testing

/// `--seed-compatible` against a direct re-implementation of the exercise's loop:
///
///     for K in counts:
///         order = argsort(mean conv2 pre-activation of the current model on the test images)
///         for i in range(K): model.conv2.weight[order[i]] = 0
///         accuracy(model)
@Suite struct ExerciseLoopTests {
    /// The small CNN with conv2's biases set to −0.01 and its first four filters signed so that
    /// their mean output on `images` is negative: once zeroed, such a channel's mean (its bias)
    /// rises above the other negative channels and leaves the bottom K, so the loop zeroes
    /// more than K channels, as it does on the real model.
    func network(for images: Tensor) throws -> Network {
        var network = try Fixtures.smallCNN(seed: 5)
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        try network.setTensor(Tensor(shape: [6], repeating: -0.01), named: "conv2.bias")
        let data = TensorImages(images: images, labels: [Int](repeating: 0, count: images.shape[0]), classNames: ["a", "b", "c"])
        let means = GroupCalibration.statistics(of: [layer], in: network, on: data, threads: 1)[0].mean
        var weight = try network.tensor(named: "conv2.weight")
        let filter = weight.count / 6
        for c in 0..<4 where means[c] > 0 {
            for i in 0..<filter { weight.scalars[c * filter + i] *= -1 }
        }
        try network.setTensor(weight, named: "conv2.weight")
        return network
    }

    func fixture() throws -> (Network, TensorImages) {
        let images = Fixtures.randomInputs(for: try Fixtures.smallCNN(seed: 5), count: 300, seed: 9)
        let network = try network(for: images)
        let labelled = Fixtures.teacherImages(for: network, count: 300, seed: 9)
        #expect(labelled.images == images)
        return (network, labelled)
    }

    func directLoop(_ start: Network, data: TensorImages, counts: [Int]) throws -> (zeroed: [[Int]], correct: [Int]) {
        var model = start
        let conv2 = SimpleCNN.LayerIndex.conv2
        let workspace = Workspace(architecture: model.architecture, batchCapacity: data.count, training: false)
        data.images.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: data.images.count) }
        var zeroed: [[Int]] = []
        var correct: [Int] = []
        for k in counts {
            model.forward(workspace, batch: data.count, layers: 0..<(conv2 + 1))
            let channels = 6, plane = workspace.activationCounts[conv2 + 1] / channels
            let z = workspace.activation(conv2 + 1)
            var means = [Double](repeating: 0, count: channels)
            for n in 0..<data.count {
                for c in 0..<channels {
                    for p in 0..<plane { means[c] += Double(z[(n * channels + c) * plane + p]) }
                }
            }
            let order = means.indices.sorted { means[$0] != means[$1] ? means[$0] < means[$1] : $0 < $1 }
            var weight = try model.tensor(named: "conv2.weight")
            let filter = weight.count / channels
            for c in order.prefix(k) {
                for i in 0..<filter { weight.scalars[c * filter + i] = 0 }
            }
            try model.setTensor(weight, named: "conv2.weight")
            zeroed.append((0..<channels).filter { c in (0..<filter).allSatisfy { weight.scalars[c * filter + $0] == 0 } })
            correct.append(Evaluator(threads: 1).evaluate(model, on: data).correct)
        }
        return (zeroed, correct)
    }

    @Test func seedCompatibleSweepEqualsTheExercisesLoop() throws {
        let (network, data) = try fixture()
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        let counts = [0, 1, 2, 3, 4]
        let direct = try directLoop(network, data: data, counts: counts)
        let request = SweepRequest(criterion: MeanActivation(), method: .exerciseLoop)
        #expect(request.calibration == .test)
        let sweep = try Sweep.run(network: network, layer: layer, requests: [request], counts: counts, evaluationData: data,
                                       threads: 2, statistics: Fixtures.noCalibration).sweeps[0]
        #expect(sweep.points.map(\.masked) == direct.zeroed)
        #expect(sweep.points.map(\.correct) == direct.correct)
        // The loop's signature: more channels zeroed than K, unlike a rank-once sweep.
        #expect(sweep.points.contains { $0.masked.count > $0.k })
    }

    @Test func zeroedUnitsRankByTheirBias() throws {
        let (network, data) = try fixture()
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        let statistics = GroupCalibration.statistics(of: [layer], in: network, on: data, threads: 1)[0]
        let loop = try ExerciseLoop.run(network: network, layer: layer, criterion: MeanActivation(), counts: [0, 2, 4], statistics: statistics)
        // After K = 2 the two zeroed channels score exactly their bias.
        for c in loop.masks[1] {
            #expect(abs(loop.scores[2][c] - Double(network.bias(c, of: layer))) < 1e-12)
        }
        #expect(loop.rankings[0] == MeanActivation().ranking(of: loop.scores[0]))
    }
}
