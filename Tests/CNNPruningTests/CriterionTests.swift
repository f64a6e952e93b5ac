import CNNEngine
import CNNPruning
import Foundation
import Testing

/// Every criterion against numbers worked out by hand on `Fixtures.handNetwork()`, whose conv1
/// pre-activations on the two images are (channel: image 1 | image 2):
///
///     0:  x       →  1  2  3  4 | −1    0    0    1
///     1:  1 − x   →  0 −1 −2 −3 |  2    1    1    0
///     2:  x/2 − 1 → −½  0  ½  1 | −1½  −1   −1   −½
///     3:  3 − 2x  →  1 −1 −3 −5 |  5    3    3    1
@Suite struct CriterionTests {
    let network: Network
    let conv1: PrunableLayer
    let fc1: PrunableLayer
    let statistics: UnitStatistics

    init() throws {
        network = try Fixtures.handNetwork()
        conv1 = try PrunableLayer(named: "conv1", in: network.architecture)
        fc1 = try PrunableLayer(named: "fc1", in: network.architecture)
        statistics = GroupCalibration.statistics(of: [conv1], in: network, on: Fixtures.handImages(), threads: 1)[0]
    }

    @Test func statisticsCountEveryImageAndPosition() throws {
        #expect(statistics.samples == 2)
        #expect(statistics.positionsPerUnit == 4)
        #expect(statistics.sum == [10, -2, -3, 4])
        #expect(statistics.rectifiedSum == [11, 4, 1.5, 13])
        #expect(statistics.zeroCount == [3, 5, 6, 3])
        // Two workers (one image each) give the same sums.
        let split = GroupCalibration.statistics(of: [conv1], in: network, on: Fixtures.handImages(), threads: 2)[0]
        #expect(split == statistics)
    }

    @Test func meanActivationIsThePreReLUMean() throws {
        let criterion = MeanActivation()
        let scores = try criterion.scores(for: conv1, in: network, statistics: statistics)
        #expect(scores == [1.25, -0.25, -0.375, 0.5])
        #expect(criterion.ranking(of: scores) == [2, 1, 3, 0])
    }

    @Test func meanActivationAfterReLU() throws {
        let criterion = MeanActivationReLU()
        let scores = try criterion.scores(for: conv1, in: network, statistics: statistics)
        #expect(scores == [1.375, 0.5, 0.1875, 1.625])
        #expect(criterion.ranking(of: scores) == [2, 1, 0, 3])
    }

    @Test func apozPrunesTheMostlyZeroFirstAndBreaksTiesByIndex() throws {
        let criterion = APoZ()
        let scores = try criterion.scores(for: conv1, in: network, statistics: statistics)
        let expected: [Double] = [0.375, 0.625, 0.75, 0.375]
        #expect(scores == expected)
        // Channels 0 and 3 tie at 3/8: the lower index comes first.
        #expect(criterion.ranking(of: scores) == [2, 1, 0, 3])
    }

    @Test func normsOfConvolutionFilters() throws {
        #expect(try L1Norm().scores(for: conv1, in: network, statistics: nil) == [1, 1, 0.5, 2])
        #expect(try L2Norm().scores(for: conv1, in: network, statistics: nil) == [1, 1, 0.5, 2])
        #expect(L1Norm().ranking(of: [1, 1, 0.5, 2]) == [2, 0, 1, 3])
    }

    @Test func normsOfLinearRows() throws {
        // fc1 rows: [3, −4, 0, …] and [1, 1, 1, 1, 0, …].
        #expect(try L1Norm().scores(for: fc1, in: network, statistics: nil) == [7, 4])
        #expect(try L2Norm().scores(for: fc1, in: network, statistics: nil) == [5, 2])
        #expect(L2Norm().ranking(of: [5, 2]) == [1, 0])
    }

    /// Image 1 (x = 1, label 0): z = [2, 1], logits [2, 1], ∂L/∂z = [−1, 1]/(e + 1).
    /// Image 2 (x = −1, label 1): z = [−2, 5], logits [0, 5], ∂L/∂z = [0 (ReLU off), −1/(1 + e⁵)].
    /// Scores: |Σ z·∂L/∂z| / 2 observations.
    @Test func taylorIsTheAbsoluteMeanOfActivationTimesGradient() throws {
        let network = try Fixtures.taylorNetwork()
        let layer = try PrunableLayer(named: "conv1", in: network.architecture)
        let statistics = GroupCalibration.statistics(of: [layer], in: network, on: Fixtures.taylorImages(), gradients: true, threads: 1)[0]
        let e = exp(1.0)
        let expected = [abs(-2 / (e + 1)) / 2, abs(1 / (e + 1) - 5 / (1 + exp(5.0))) / 2]
        let scores = try Taylor().scores(for: layer, in: network, statistics: statistics)
        #expect(scores.count == 2)
        for (score, value) in zip(scores, expected) { #expect(abs(score - value) < 1e-6) }
        #expect(Taylor().ranking(of: scores) == [1, 0])
    }

    @Test func randomIsSeededUniformDraws() throws {
        let scores = try RandomImportance(seed: 7).scores(for: conv1, in: network, statistics: nil)
        var generator = SeededGenerator(seed: 7)
        let expected = (0..<4).map { _ in Double(generator.next() >> 11) / Double(1 << 53) }
        #expect(scores == expected)
        #expect(scores.allSatisfy { (0..<1).contains($0) })
        #expect(try RandomImportance(seed: 8).scores(for: conv1, in: network, statistics: nil) != scores)
        #expect(RandomImportance(seed: 7).ranking(of: scores).sorted() == [0, 1, 2, 3])
    }

    @Test func rankingPutsNaNFirstAndIsStable() {
        #expect(MeanActivation().ranking(of: [0.5, .nan, 0.5, -1]) == [1, 3, 0, 2])
        #expect(APoZ().ranking(of: [0.5, .nan, 0.5, 1]) == [1, 3, 0, 2])
    }

    @Test func criteriaByName() throws {
        for name in ImportanceCriteria.names {
            #expect(try ImportanceCriteria.named(name).name == name)
        }
        #expect(try ImportanceCriteria.parseList("l1,taylor,random").map(\.name) == ["l1", "taylor", "random"])
        #expect(throws: PruningError.unknownCriterion("l3", valid: ImportanceCriteria.names)) { try ImportanceCriteria.parseList("l1,l3") }
        #expect(throws: PruningError.duplicateCriterion("l1")) { try ImportanceCriteria.parseList("l1,l1") }
        let message = PruningError.unknownCriterion("l3", valid: ImportanceCriteria.names).description
        #expect(message.contains("l1, l2, bn-scale, fpgm, mean-activation, mean-activation-relu, apoz, taylor, random"))
        // One registry: the SimpleCNN study's criteria are some of its names, in the study's order.
        #expect(ImportanceCriteria.layerStudyNames.allSatisfy(ImportanceCriteria.names.contains))
        #expect(ImportanceCriteria.layerStudyNames.first == "mean-activation")
    }

    /// A channel group with one producer and no BatchNorm scores as its layer does, divided by
    /// the scores' mean magnitude — the same ranking on both paths.
    @Test func groupScoresOfOneProducerAreTheLayerScoresNormalised() throws {
        let network = try Fixtures.handNetwork()
        let conv1 = try PrunableLayer(named: "conv1", in: network.architecture)
        let group = try #require(try ChannelGroups(network.architecture).group(named: "conv1"))
        for criterion in [L1Norm(), L2Norm(), FPGM()] as [any ImportanceCriterion] {
            let layer = try criterion.scores(for: conv1, in: network, statistics: nil)
            let mean = layer.reduce(0) { $0 + abs($1) } / Double(layer.count)
            let grouped = try criterion.scores(for: group, in: network, statistics: nil)
            #expect(zip(grouped, layer).allSatisfy { abs($0 - $1 / mean) < 1e-12 }, "\(criterion.name)")
            #expect(criterion.ranking(of: grouped) == criterion.ranking(of: layer), "\(criterion.name)")
        }
        #expect(throws: PruningError.self) { try BNScale().scores(for: conv1, in: network, statistics: nil) }
        #expect(throws: PruningError.self) { try MeanActivation().scores(for: conv1, in: network, statistics: nil) }
    }
}
