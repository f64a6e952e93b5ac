import CNNEngine
import CNNPruning
import Foundation
import Testing

/// `ChannelPruner` and `ModelMeasurement`: the same K and criterion give the same accuracy by
/// removal as by masking and as the sweep; iterative schedules; fine-tuning hooks; measurements.
@Suite struct RemovalPrunerTests {
    @Test func scheduleReachesKInEqualSteps() {
        #expect(ChannelPruner.schedule(count: 16, steps: 1) == [16])
        #expect(ChannelPruner.schedule(count: 16, steps: 3) == [5, 10, 16])
        #expect(ChannelPruner.schedule(count: 16, steps: 4) == [4, 8, 12, 16])
        #expect(ChannelPruner.schedule(count: 4, steps: 4) == [1, 2, 3, 4])
    }

    @Test func rejectsCountsAndStepsThatCannotWork() throws {
        #expect(throws: RemovalError.countOutOfRange(0, layer: "conv2", units: 32, unitName: "channel")) {
            try ChannelPruner.validate(count: 0, steps: 1, units: 32, layer: "conv2")
        }
        #expect(throws: RemovalError.countOutOfRange(32, layer: "conv2", units: 32, unitName: "channel")) {
            try ChannelPruner.validate(count: 32, steps: 1, units: 32, layer: "conv2")
        }
        #expect(throws: RemovalError.invalidSteps(5, count: 4)) {
            try ChannelPruner.validate(count: 4, steps: 5, units: 32, layer: "conv2")
        }
        let model = SimpleCNN(conv1: 4, conv2: 6, fc1: 8)
        let network = try RemovalFixtures.network(model, seed: 1)
        let data = RemovalFixtures.selfLabelled(8, by: network, model: model, seed: 2)
        let pruner = ChannelPruner(layer: "conv2", criterion: MeanActivation(), threads: 1)
        #expect(throws: RemovalError.calibrationNeeded(criterion: "mean-activation")) {
            try pruner.prune(2, from: network, model: model, calibration: nil, test: data, timingRuns: 0)
        }
    }

    /// For each criterion and K: removing the K least important units and evaluating gives the
    /// same predictions as masking them (weights and bias) and evaluating, and the same accuracy
    /// as the sweep (`Sweep`, the fast masked evaluation).
    @Test(arguments: ["l1", "mean-activation", "apoz"])
    func removalGivesTheMaskedAndSweptAccuracy(_ criterionName: String) throws {
        let model = SimpleCNN()
        let network = try RemovalFixtures.network(seed: 3)
        let data = RemovalFixtures.selfLabelled(300, by: network, seed: 4)
        let criterion = try ImportanceCriteria.named(criterionName)
        let evaluator = Evaluator(threads: 2)
        for (layerName, counts) in [("conv2", [4, 8, 16, 24]), ("conv1", [8]), ("fc1", [128])] {
            let layer = try PrunableLayer(named: layerName, in: network.architecture)
            let pruner = ChannelPruner(layer: layerName, criterion: criterion, threads: 2)
            let (_, ranking) = try pruner.rank(network, calibration: data)
            let sweep = try Sweep.run(
                network: network, layer: layer, requests: [SweepRequest(criterion: criterion, calibration: .test)],
                counts: counts, evaluationData: data, threads: 2
            ) { network, _, gradients in
                Calibration.statistics(of: [layer], in: network, on: data, gradients: gradients, threads: 2)[0]
            }.sweeps[0]
            #expect(sweep.ranking == ranking, "\(criterionName) \(layerName): the sweep ranks as the pruner does")
            for (index, k) in counts.enumerated() {
                let removal = try pruner.removing(k, from: network, model: model, calibration: data)
                #expect(removal.removed == ranking.prefix(k).sorted())
                let removed = evaluator.evaluate(removal.network, on: data)
                let masked = evaluator.evaluate(network.masking(ranking.prefix(k), of: layer), on: data)
                #expect(removed.predictions == masked.predictions, "\(criterionName) \(layerName) K=\(k)")
                #expect(removed.correct == sweep.points[index].correct,
                        "\(criterionName) \(layerName) K=\(k): removal \(removed.accuracy) %, sweep \(sweep.points[index].accuracy) %")
                #expect(removed.accuracy < 100, "pruning \(k) units changes some predictions")
            }
        }
    }

    /// Without fine-tuning, re-ranking by the weights' L1 norm each step finds the same units as
    /// ranking once, so an iterative run removes what a one-shot run does.
    @Test func iterativeWithoutFineTuningMatchesOneShotForL1() throws {
        let model = SimpleCNN()
        let network = try RemovalFixtures.network(seed: 5)
        let data = RemovalFixtures.selfLabelled(64, by: network, seed: 6)
        let pruner = ChannelPruner(layer: "conv2", criterion: L1Norm(), threads: 2)
        let oneShot = try pruner.prune(16, from: network, model: model, calibration: nil, test: data, timingRuns: 0)
        let iterative = try pruner.prune(16, steps: 3, from: network, model: model, calibration: nil, test: data, timingRuns: 0)
        #expect(oneShot.outcome.removed == iterative.outcome.removed)
        #expect(oneShot.network.parameters == iterative.network.parameters)
        #expect(iterative.outcome.steps.map(\.totalRemoved) == [5, 10, 16])
        #expect(iterative.outcome.steps.map(\.width) == [27, 22, 16])
        let perStep = iterative.outcome.steps.map(\.removed)
        #expect(perStep.map(\.count) == [5, 5, 6])
        #expect(Set(perStep.joined()).count == 16 && Set(perStep.joined()) == Set(iterative.outcome.removed))
        #expect(iterative.outcome.fineTuned == nil && iterative.outcome.calibration == "none")
        #expect(iterative.outcome.pruned.accuracy == iterative.outcome.steps.last!.accuracy)
        #expect(iterative.outcome.before.accuracy == 100)
        #expect(iterative.model.conv2 == 16)
    }

    /// Fine-tuning runs after every step on the current (smaller) model, re-ranking sees its
    /// result, and the outcome reports the pruned and the fine-tuned model.
    @Test func iterativeFineTunesBetweenSteps() throws {
        let model = SimpleCNN(imageSize: 8, conv1: 4, conv2: 8, fc1: 16)
        let network = try RemovalFixtures.network(model, seed: 7)
        let data = RemovalFixtures.selfLabelled(256, by: network, model: model, seed: 8)
        let pruner = ChannelPruner(layer: "conv2", criterion: MeanActivationReLU(), threads: 2)
        var calls: [(step: Int, width: Int)] = []
        var reported: [Int] = []
        var removals: [(step: Int, beforeFineTuning: Bool)] = []
        let result = try pruner.prune(
            4, steps: 2, from: network, model: model, calibration: data, calibrationLabel: "synthetic", test: data, timingRuns: 2,
            fineTune: { network, model, step in
                calls.append((step, model.conv2))
                let run = TrainingRun(model: model, network: network, learningRate: 0.003, batchSize: 32, threads: 2, seed: UInt64(step))
                _ = try run.runEpoch(on: data)
                _ = try run.runEpoch(on: data)
                return run.network
            },
            onRemoval: { removals.append(($0.step, $0.fineTunedAccuracy == nil && calls.count == $0.step - 1)) },
            onStep: { reported.append($0.step) })
        #expect(calls.map(\.step) == [1, 2] && calls.map(\.width) == [6, 4])
        #expect(reported == [1, 2])
        #expect(removals.map(\.step) == [1, 2] && removals.allSatisfy(\.beforeFineTuning))
        #expect(result.model.conv2 == 4)
        let outcome = result.outcome
        #expect(outcome.calibration == "synthetic" && outcome.count == 4 && outcome.removed.count == 4)
        let fineTuned = try #require(outcome.fineTuned)
        #expect(outcome.steps.allSatisfy { $0.fineTunedAccuracy != nil })
        #expect(fineTuned.accuracy == outcome.steps.last!.fineTunedAccuracy)
        #expect(fineTuned.parameters == outcome.pruned.parameters && fineTuned.parameters < outcome.before.parameters)
        #expect(outcome.parameterRatio < 1 && outcome.multiplyAccumulateRatio < 1)
        for measurement in [outcome.before, outcome.pruned, fineTuned] {
            #expect(measurement.imagesPerSecondRuns.count == 2)
            #expect(measurement.imagesPerSecond == measurement.imagesPerSecondRuns.max())
        }
        #expect(outcome.speedUp != nil)
        // The returned network is the fine-tuned one.
        #expect(Evaluator(threads: 1).evaluate(result.network, on: data).accuracy == fineTuned.accuracy)
    }

    @Test func outcomeEncodesAsJSON() throws {
        let model = SimpleCNN(imageSize: 8, conv1: 4, conv2: 8, fc1: 16)
        let network = try RemovalFixtures.network(model, seed: 9)
        let data = RemovalFixtures.selfLabelled(32, by: network, model: model, seed: 10)
        let result = try ChannelPruner(layer: "fc1", criterion: L2Norm(), threads: 1)
            .prune(8, from: network, model: model, calibration: nil, test: data, timingRuns: 1)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result.outcome)) as! [String: Any]
        #expect(json["layer"] as? String == "fc1" && json["count"] as? Int == 8)
        let before = try #require(json["before"] as? [String: Any])
        #expect(before["macs"] as? Int == ArchitectureCost(try model.architecture()).multiplyAccumulates)
        #expect(before["file_bytes"] as? Int != nil && before["images_per_second"] as? Double != nil)
        let decoded = try JSONDecoder().decode(PruningOutcome.self, from: JSONEncoder().encode(result.outcome))
        #expect(decoded == result.outcome)

        // The speed-up pairs the runs: a burst of load on one round does not fake a speed-up.
        var outcome = result.outcome
        outcome.before.imagesPerSecondRuns = [10, 10, 20, 10]
        outcome.pruned.imagesPerSecondRuns = [13, 30, 26, 14]
        #expect(outcome.speedUpByRound == [1.3, 3, 1.3, 1.4])
        #expect(abs(outcome.speedUp! - 1.35) < 1e-12)
        outcome.before.imagesPerSecondRuns = []
        #expect(outcome.speedUp == nil)
    }
}
