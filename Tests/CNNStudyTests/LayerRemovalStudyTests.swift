import CNNEngine
import CNNPruning
import CNNStudy
import Foundation
import Testing

/// `prune`'s SimpleCNN study as a library value: the removal, the history it records and the
/// report it prints.
@Suite struct LayerRemovalStudyTests {
    @Test func removesRecordsTheHistoryAndReports() throws {
        let network = try StudyFixtures.trainedNetwork(seed: 3)
        let study = LayerRemovalStudy(layer: "conv2", count: 3, steps: 1, criterion: try ImportanceCriteria.named("l1", seed: 0),
                                      calibrationLabel: "none", threads: 1, timingRuns: 1)
        var removals: [PruningStep] = []
        let result = try study.run(network: network, model: StudyFixtures.widths, calibration: nil, test: StudyFixtures.test,
                                   onRemoval: { removals.append($0) })
        #expect(result.model.conv2 == 5)
        #expect(removals.map(\.removed) == [result.outcome.removed])
        #expect(result.outcome.removed.count == 3)

        // The history appends to the input's.
        let first = try study.metadata(for: result.outcome, source: "/some/dir/model.safetensors", inputMetadata: [:], extra: ["x": "1"])
        #expect(first["x"] == "1")
        let again = try study.metadata(for: result.outcome, source: "pruned.safetensors", inputMetadata: first)
        let history = try JSONDecoder().decode([PruningRecord].self, from: Data(try #require(again[PruningRecord.metadataKey]).utf8))
        #expect(history.map(\.source) == ["model.safetensors", "pruned.safetensors"])
        #expect(history[0].k == 3 && history[0].layer == "conv2" && history[0].removed == result.outcome.removed)

        let report = study.report(result.outcome, model: "model.safetensors", output: "pruned.safetensors")
        let table = report.table(timingRuns: 1, threads: 1)
        #expect(table.split(separator: "\n")[1].hasPrefix("conv2 width"))
        #expect(table.contains("threads: 1; images/s are whole evaluation passes over the 90 test images"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        #expect(json["k"] as? Int == 3 && json["layer"] as? String == "conv2" && json["steps"] as? Int == 1)
        #expect(json["removed"] as? [Int] == result.outcome.removed)
    }

    @Test func aCountThatLeavesNoUnitIsAStudyError() throws {
        let network = try StudyFixtures.trainedNetwork(seed: 3)
        let study = LayerRemovalStudy(layer: "conv2", count: 8, criterion: try ImportanceCriteria.named("l1", seed: 0),
                                      calibrationLabel: "none", threads: 1)
        #expect(throws: StudyError.self) {
            try study.run(network: network, model: StudyFixtures.widths, calibration: nil, test: StudyFixtures.test)
        }
    }

    @Test func scheduleReachesKInEqualSteps() {
        #expect(LayerRemovalStudy.schedule(count: 16, steps: 1) == [16])
        #expect(LayerRemovalStudy.schedule(count: 16, steps: 3) == [5, 10, 16])
        #expect(LayerRemovalStudy.schedule(count: 16, steps: 4) == [4, 8, 12, 16])
        #expect(LayerRemovalStudy.schedule(count: 4, steps: 4) == [1, 2, 3, 4])
    }

    @Test func rejectsCountsAndStepsThatCannotWork() throws {
        #expect(throws: RemovalError.countOutOfRange(0, layer: "conv2", units: 32, unitName: "channel")) {
            try LayerRemovalStudy.validate(count: 0, steps: 1, units: 32, layer: "conv2")
        }
        #expect(throws: RemovalError.countOutOfRange(32, layer: "fc1", units: 32, unitName: "neuron")) {
            try LayerRemovalStudy.validate(count: 32, steps: 1, units: 32, layer: "fc1")
        }
        #expect(throws: RemovalError.invalidSteps(5, count: 4)) {
            try LayerRemovalStudy.validate(count: 4, steps: 5, units: 32, layer: "conv2")
        }
        let model = SimpleCNN(conv1: 4, conv2: 6, fc1: 8)
        let network = try LayerFixtures.network(model, seed: 1)
        let data = LayerFixtures.selfLabelled(8, by: network, model: model, seed: 2)
        let study = LayerRemovalStudy(layer: "conv2", count: 2, criterion: MeanActivation(), calibrationLabel: "test", threads: 1, timingRuns: 0)
        do {
            _ = try study.run(network: network, model: model, calibration: nil, test: data)
            Issue.record("a data-driven criterion without calibration images must fail")
        } catch StudyError.removal(let error) {
            #expect(error == .calibrationNeeded(criterion: "mean-activation"))
        }
    }

    /// Without fine-tuning, re-ranking by the weights' L1 norm each step finds the same units as
    /// ranking once, so an iterative run removes what a one-shot run does.
    @Test func iterativeWithoutFineTuningMatchesOneShotForL1() throws {
        let model = SimpleCNN()
        let network = try LayerFixtures.network(seed: 5)
        let data = LayerFixtures.selfLabelled(64, by: network, seed: 6)
        func study(steps: Int) -> LayerRemovalStudy {
            LayerRemovalStudy(layer: "conv2", count: 16, steps: steps, criterion: L1Norm(), calibrationLabel: "x", threads: 2, timingRuns: 0)
        }
        let oneShot = try study(steps: 1).run(network: network, model: model, calibration: nil, test: data)
        let iterative = try study(steps: 3).run(network: network, model: model, calibration: nil, test: data)
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
        // The one-shot removal is the 16 lowest L1 norms of conv2's filters.
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        let norms = layer.producer.filters(in: network).map { $0.reduce(0.0) { $0 + Double(abs($1)) } }
        let lowest = norms.indices.sorted { norms[$0] != norms[$1] ? norms[$0] < norms[$1] : $0 < $1 }.prefix(16).sorted()
        #expect(oneShot.outcome.removed == lowest)
    }

    /// Fine-tuning runs after every step on the current (smaller) model, re-ranking sees its
    /// result, and the outcome reports the pruned and the fine-tuned model.
    @Test func iterativeFineTunesBetweenSteps() throws {
        let model = SimpleCNN(imageSize: 8, conv1: 4, conv2: 8, fc1: 16)
        let network = try LayerFixtures.network(model, seed: 7)
        let data = LayerFixtures.selfLabelled(256, by: network, model: model, seed: 8)
        let study = LayerRemovalStudy(layer: "conv2", count: 4, steps: 2, criterion: MeanActivationReLU(), calibrationLabel: "synthetic",
                                      threads: 2, timingRuns: 2)
        var calls: [(step: Int, width: Int)] = []
        var reported: [Int] = []
        var removals: [(step: Int, beforeFineTuning: Bool)] = []
        let result = try study.run(
            network: network, model: model, calibration: data, test: data,
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
        let network = try LayerFixtures.network(model, seed: 9)
        let data = LayerFixtures.selfLabelled(32, by: network, model: model, seed: 10)
        let result = try LayerRemovalStudy(layer: "fc1", count: 8, criterion: L2Norm(), calibrationLabel: "x", threads: 1, timingRuns: 1)
            .run(network: network, model: model, calibration: nil, test: data)
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

/// Seeded SimpleCNNs and self-labelled images for the layer removal tests.
enum LayerFixtures {
    /// A SimpleCNN of `model`'s widths with PyTorch's default initialisation (non-zero biases).
    static func network(_ model: SimpleCNN = SimpleCNN(), seed: UInt64) throws -> Network {
        var generator = SeededGenerator(seed: seed)
        return Network(architecture: try model.architecture(), generator: &generator)
    }

    /// `count` random images in [-1, 1] labelled with `network`'s own predictions, so that the
    /// unpruned network scores 100 % and every pruned one something in between.
    static func selfLabelled(_ count: Int, by network: Network, model: SimpleCNN = SimpleCNN(), seed: UInt64) -> TensorImages {
        var generator = SeededGenerator(seed: seed)
        let shape = [count, model.inputChannels, model.imageSize, model.imageSize]
        let images = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.uniform(bound: 1) })
        let names = (0..<model.classes).map { "class \($0)" }
        let unlabelled = TensorImages(images: images, labels: [Int](repeating: 0, count: count), classNames: names)
        let predictions = Evaluator(threads: 1).evaluate(network, on: unlabelled).predictions
        return TensorImages(images: images, labels: predictions.map(Int.init), classNames: names)
    }
}
