import CNNEngine
import CNNPruning
import Foundation
import Testing

/// `FineTunedSweep` and `FineTuning`: each point is removal, then the recipe, then evaluation;
/// K = 0 is the unpruned network fine-tuned; shared removal sets train once; why removal and
/// not masking.
@Suite struct FineTunedSweepTests {
    static let model = SimpleCNN(inputChannels: 3, imageSize: 8, conv1: 4, conv2: 6, fc1: 8, classes: 3)

    /// The small CNN, 96 training and 48 test images labelled by it.
    func fixture() throws -> (network: Network, train: TensorImages, test: TensorImages) {
        let network = try Fixtures.smallCNN(seed: 5)
        return (network, Fixtures.teacherImages(for: network, count: 96, seed: 6), Fixtures.teacherImages(for: network, count: 48, seed: 7))
    }

    @Test func eachPointIsRemovalThenTheRecipeThenEvaluation() throws {
        let (network, train, test) = try fixture()
        let recipe = FineTuning(epochs: 2, learningRate: 0.01, batchSize: 16, seed: 9)
        let ranking = [4, 1, 5, 0, 3, 2]
        let points = try FineTunedSweep.run(network: network, model: Self.model, layer: "conv2", rankings: [ranking],
                                            counts: [0, 2, 5], fineTuning: recipe, training: train, evaluationData: test, threads: 1)
        #expect(points.count == 1)
        #expect(points[0].map(\.k) == [0, 2, 5])
        for point in points[0] {
            let removal = try RemovalTests.remove(ranking.prefix(point.k), of: "conv2", from: network)
            let tuned = try recipe.train(removal.network, model: try removal.simpleCNN, on: train, threads: 1)
            let evaluation = Evaluator(threads: 1).evaluate(tuned.network, on: test)
            #expect(point.correct == evaluation.correct, "K = \(point.k)")
            #expect(point.total == 48)
            #expect(point.removed == ranking.prefix(point.k).sorted())
            #expect(point.width == 6 - point.k)
            #expect(point.parameters == removal.network.parameters.count)
            #expect(point.trainLosses == tuned.losses)
            #expect(point.trainLosses.count == 2)
        }
        // K = 0 is the unpruned network fine-tuned with the same recipe.
        let unpruned = try recipe.train(network, model: Self.model, on: train, threads: 1)
        #expect(points[0][0].correct == Evaluator(threads: 1).evaluate(unpruned.network, on: test).correct)
        #expect(unpruned.network.parameters != network.parameters)
    }

    @Test func sharedRemovalSetsAreTrainedOnce() throws {
        let (network, train, test) = try fixture()
        let recipe = FineTuning(epochs: 1, batchSize: 32, seed: 1)
        // The rankings agree on the first two units (in another order), then differ.
        let rankings = [[0, 1, 2, 3, 4, 5], [1, 0, 3, 2, 5, 4]]
        let counts = [0, 2, 3]
        #expect(FineTunedSweep.jobCount(rankings: rankings, counts: counts) == 4)
        var jobs = Set<Int>()
        var finished: [(Int, Int)] = []
        let points = try FineTunedSweep.run(network: network, model: Self.model, layer: "conv2", rankings: rankings, counts: counts,
                                            fineTuning: recipe, training: train, evaluationData: test, threads: 1,
                                            progress: { progress in
                                                #expect(progress.jobs == 4)
                                                #expect((0...1).contains(progress.fraction))
                                                jobs.insert(progress.job)
                                            },
                                            onPoint: { r, point in finished.append((r, point.k)) })
        #expect(jobs == [1, 2, 3, 4])
        #expect(finished.map(\.0) == [0, 0, 0, 1, 1, 1])
        #expect(finished.map(\.1) == [0, 2, 3, 0, 2, 3])
        #expect(points[0][0] == points[1][0])
        #expect(points[0][1] == points[1][1])
        #expect(points[0][2].removed == [0, 1, 2] && points[1][2].removed == [0, 1, 3])
    }

    @Test func refusesToRemoveEveryUnitBeforeTraining() throws {
        let (network, train, test) = try fixture()
        var trained = false
        #expect(throws: RemovalError.noUnitsLeft(layer: "conv2", units: 6, unitName: "channel")) {
            try FineTunedSweep.run(network: network, model: Self.model, layer: "conv2", rankings: [Array(0..<6)], counts: [0, 6],
                                   fineTuning: FineTuning(epochs: 1), training: train, evaluationData: test, threads: 1,
                                   progress: { _ in trained = true })
        }
        #expect(!trained)
    }

    @Test func sameRecipeAndThreadsGiveTheSameNetwork() throws {
        let (network, train, _) = try fixture()
        let recipe = FineTuning(epochs: 1, learningRate: 0.005, batchSize: 10, seed: 3)
        let a = try recipe.train(network, model: Self.model, on: train, threads: 2)
        let b = try recipe.train(network, model: Self.model, on: train, threads: 2)
        #expect(a.network.parameters == b.network.parameters)
        var other = recipe
        other.seed = 4
        #expect(try other.train(network, model: Self.model, on: train, threads: 2).network.parameters != a.network.parameters)
    }

    /// Fine-tuning a network masked with the bias zeroed keeps the masked filters at exactly
    /// zero (their output is 0 before the ReLU, whose gradient there is 0, and Adam moves no
    /// weight whose gradient is always 0), so it trains the same network as fine-tuning the
    /// removed one, slower. With the bias kept, a channel with a positive bias stays active and
    /// its filter grows back — which is why the sweep refuses `--keep-bias` with fine-tuning.
    @Test func maskedFiltersStayZeroWithTheBiasZeroedAndGrowBackWithItKept() throws {
        let (network, train, _) = try fixture()
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        let units = (0..<6).filter { network.bias($0, of: layer) > 0 }.prefix(2)
        try #require(!units.isEmpty, "the fixture needs a conv2 channel with a positive bias")
        let weight = try network.entry(named: "conv2.weight")
        let perChannel = weight.count / 6
        let filtersAreZero = { (n: Network) in
            units.allSatisfy { c in n.parameters[(weight.offset + c * perChannel)..<(weight.offset + (c + 1) * perChannel)].allSatisfy { $0 == 0 } }
        }
        let recipe = FineTuning(epochs: 2, learningRate: 0.01, batchSize: 16)

        let zeroed = try recipe.train(network.masking(units, of: layer), model: Self.model, on: train, threads: 1).network
        #expect(filtersAreZero(zeroed))
        let removal = try RemovalTests.remove(units, of: "conv2", from: network)
        let removedThenTuned = try recipe.train(removal.network, model: try removal.simpleCNN, on: train, threads: 1).network
        let tunedThenRemoved = try RemovalTests.remove(units, of: "conv2", from: zeroed).network
        let difference = zip(removedThenTuned.parameters, tunedThenRemoved.parameters).map { abs($0 - $1) }.max() ?? 0
        #expect(difference < 1e-4, "largest parameter difference \(difference)")

        let kept = try recipe.train(network.masking(units, of: layer, keepBias: true), model: Self.model, on: train, threads: 1).network
        #expect(!filtersAreZero(kept))
    }
}
