import CNNEngine
import CNNPruning
import Foundation
import Testing

/// `GroupScoring.producer`: a SimpleCNN layer pruned by `GroupPruner` as a group with one
/// producer, ranked by the producer's scores as they are — the same accuracy by removal as by
/// masking and as the sweep, and the seeding and scale of the SimpleCNN study.
@Suite struct ProducerScoringTests {
    /// For each criterion and K: removing the K least important units and evaluating gives the
    /// same predictions as masking them (weights and bias) and evaluating, and the same accuracy
    /// as the sweep (`Sweep`, the fast masked evaluation), which ranks as the pruner does.
    @Test(arguments: ["l1", "mean-activation", "apoz"])
    func removalGivesTheMaskedAndSweptAccuracy(_ criterionName: String) throws {
        let network = try RemovalFixtures.network(seed: 3)
        let data = RemovalFixtures.selfLabelled(300, by: network, seed: 4)
        let box = UncheckedData(data)
        let criterion = try ImportanceCriteria.named(criterionName)
        let pruner = GroupPruner(criterion: criterion, statistics: { network, groups in
            try GroupCalibration.statistics(of: groups, in: network, on: box.data, gradients: false, threads: 2)
        }, scoring: .producer)
        let evaluator = Evaluator(threads: 2)
        for (layerName, counts) in [("conv2", [4, 8, 16, 24]), ("conv1", [8]), ("fc1", [128])] {
            let layer = try PrunableLayer(named: layerName, in: network.architecture)
            let sweep = try Sweep.run(
                network: network, layer: layer, requests: [SweepRequest(criterion: criterion, calibration: .test)],
                counts: counts, evaluationData: data, threads: 2
            ) { network, _, gradients in
                GroupCalibration.statistics(of: [layer], in: network, on: data, gradients: gradients, threads: 2)[0]
            }.sweeps[0]
            for (index, k) in counts.enumerated() {
                let planned = try #require(try pruner.plan(network, target: .count(k, group: layerName))[layerName])
                #expect(planned == Array(sweep.ranking.prefix(k)), "\(criterionName) \(layerName): the sweep ranks as the pruner does")
                let removal = try pruner.prune(network, to: .count(k, group: layerName))
                #expect(removal.removed[layerName] == sweep.ranking.prefix(k).sorted())
                let removed = evaluator.evaluate(removal.network, on: data)
                let masked = evaluator.evaluate(network.masking(sweep.ranking.prefix(k), of: layer), on: data)
                #expect(removed.predictions == masked.predictions, "\(criterionName) \(layerName) K=\(k)")
                #expect(removed.correct == sweep.points[index].correct,
                        "\(criterionName) \(layerName) K=\(k): removal \(removed.accuracy) %, sweep \(sweep.points[index].accuracy) %")
                #expect(removed.accuracy < 100, "pruning \(k) units changes some predictions")
            }
        }
    }

    /// `random` on a layer draws from the seed alone (the SimpleCNN study's seeding), on a group
    /// from the seed mixed with the group's name.
    @Test func randomScoresOfAProducerDrawFromTheSeedAlone() throws {
        let network = try RemovalFixtures.network(seed: 11)
        let group = try PrunableLayer(named: "conv2", in: network.architecture).group
        var generator = SeededGenerator(seed: 7)
        let drawn = (0..<group.units).map { _ in Double(generator.next() >> 11) / Double(1 << 53) }
        let criterion = RandomImportance(seed: 7)
        #expect(try GroupScoring.producer.scores(of: group, by: criterion, in: network, statistics: nil) == drawn)
        #expect(try GroupScoring.group.scores(of: group, by: criterion, in: network, statistics: nil) != drawn)
        let ranking = criterion.ranking(of: drawn)
        let pruned = try GroupPruner(criterion: criterion, scoring: .producer).prune(network, to: .count(5, group: "conv2"))
        #expect(pruned.removed["conv2"] == ranking.prefix(5).sorted())
    }

    /// The producer's L1 norms are not normalised: they are the sums of the filters' magnitudes.
    @Test func producerScoresAreTheCriterionsOwn() throws {
        let network = try RemovalFixtures.network(seed: 12)
        let layer = try PrunableLayer(named: "conv1", in: network.architecture)
        let filter = layer.weight.count / layer.unitCount
        let norms = (0..<layer.unitCount).map { unit in
            network.parameters[(layer.weight.offset + unit * filter)..<(layer.weight.offset + (unit + 1) * filter)]
                .reduce(0.0) { $0 + Double(abs($1)) }
        }
        let scores = try GroupScoring.producer.scores(of: layer.group, by: L1Norm(), in: network, statistics: nil)
        #expect(zip(scores, norms).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
        let mean = norms.reduce(0, +) / Double(norms.count)
        let grouped = try GroupScoring.group.scores(of: layer.group, by: L1Norm(), in: network, statistics: nil)
        #expect(zip(grouped, norms).allSatisfy { abs($0 - $1 / mean) <= 1e-6 })
    }
}
