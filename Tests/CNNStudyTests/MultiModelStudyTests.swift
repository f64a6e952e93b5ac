import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation
import Testing

/// The study on two models: model 0 gets every part, both get the criteria sweeps and the
/// sensitivity, summarised over the models.
@Suite struct MultiModelStudyTests {
    @Test func twoModelsGiveIntervalsOverTheirOwnAccuracies() throws {
        let networks = [try StudyFixtures.trainedNetwork(seed: 3), try StudyFixtures.trainedNetwork(seed: 4)]
        let models = networks.enumerated().map { index, network in
            StudyModel(network: network, widths: StudyFixtures.widths, origin: .loaded(path: "model\(index).safetensors"))
        }
        let report = try ExperimentStudy(configuration: StudyFixtures.configuration())
            .run(models: models, train: StudyFixtures.train, test: StudyFixtures.test)
        let seeds = try #require(report.seedStudy)
        #expect(seeds.modelCount == 2)
        #expect(seeds.runs.map(\.seed) == [5, 6])
        #expect(seeds.runs.map(\.path) == ["model0.safetensors", "model1.safetensors"])
        let accuracies = networks.map { Evaluator(threads: 1).evaluate($0, on: StudyFixtures.test).accuracy }
        #expect(seeds.runs.map(\.accuracy) == accuracies)
        #expect(abs(seeds.accuracy.mean - (accuracies[0] + accuracies[1]) / 2) < 1e-9)
        // Model 1's sweeps start at its own accuracy, and model 0's are the report's own.
        #expect(seeds.runs[1].criteria.allSatisfy { $0.points[0].accuracy == accuracies[1] })
        #expect(seeds.runs[0].criteria.map(\.ranking) == report.criteria.map(\.ranking))
        #expect(seeds.sweep.curves.map(\.name) == report.criteria.map(\.request.criterion.name))

        let markdown = report.markdown(totalSeconds: 1)
        #expect(markdown.contains("## Across 2 models"))
        #expect(markdown.contains("Sections 1 to 4 show **model 0 only** (seed 5)"))
        #expect(!markdown.contains("Every figure here comes from **one trained model**"))

        let directory = try StudyFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try report.write(to: directory, totalSeconds: 1).map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(Set(["seeds.json", "seeds.csv", "seeds.svg", "seeds.png"]).isSubset(of: Set(files)))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("seeds.json"))) as? [String: Any])
        let listed = try #require(document["models"] as? [[String: Any]])
        #expect(listed.map { $0["seed"] as? Int } == [5, 6])
        #expect((document["criteria"] as? [[String: Any]])?.count == ImportanceCriteria.layerStudyNames.count)
    }

    @Test func withFineTuningEveryModelsRecoveryIsPairedWithItsControl() throws {
        let networks = [try StudyFixtures.trainedNetwork(seed: 3), try StudyFixtures.trainedNetwork(seed: 4)]
        let models = networks.enumerated().map { index, network in
            StudyModel(network: network, widths: StudyFixtures.widths, origin: .loaded(path: "model\(index).safetensors"))
        }
        let configuration = StudyFixtures.configuration(fineTuningEpochs: 1)
        let report = try ExperimentStudy(configuration: configuration).run(models: models, train: StudyFixtures.train, test: StudyFixtures.test)
        let recovery = try #require(report.seedStudy?.recovery)
        #expect(recovery.k == 4 && recovery.units == 8 && recovery.epochs == 1 && recovery.layer == "conv2")
        #expect(recovery.pairs.map(\.seed) == [5, 6])
        // Model 0's pruned accuracy is the removal table's fine-tuned row.
        #expect(recovery.pairs[0].pruned == report.removal?.fineTuned?.measurement.accuracy)
        // Each control is that model, unpruned, fine-tuned with the same recipe and its own seed.
        for (index, network) in networks.enumerated() {
            var recipe = try #require(configuration.fineTuning)
            recipe.seed = configuration.seed + UInt64(index)
            let tuned = try recipe.train(network, model: StudyFixtures.widths, on: StudyFixtures.train, threads: 1) { _ in }.network
            #expect(recovery.pairs[index].control == Evaluator(threads: 1).evaluate(tuned, on: StudyFixtures.test).accuracy)
        }
        #expect(report.markdown(totalSeconds: 1).contains("Fine-tuning recovery: on every model, conv2 with its 4 lowest-ranked of 8 channels (50 %) removed"))
    }

    @Test func fineTuningAddsARowTrainedForItsEpochs() throws {
        let network = try StudyFixtures.trainedNetwork(seed: 3)
        let model = StudyModel(network: network, widths: StudyFixtures.widths, origin: .loaded(path: "small.safetensors"))
        let report = try ExperimentStudy(configuration: StudyFixtures.configuration(fineTuningEpochs: 1))
            .run(models: [model], train: StudyFixtures.train, test: StudyFixtures.test)
        let removal = try #require(report.removal)
        let tuned = try #require(removal.fineTuned)
        #expect(tuned.k == 4 && tuned.epochs == 1)
        #expect(removal.trainLosses.count == 1 && removal.trainLosses[0].isFinite)
        #expect(removal.rows.map(\.name).last == "pruned K = 4 + fine-tuned 1 epoch")
        let markdown = report.markdown(totalSeconds: 1)
        #expect(markdown.contains("| pruned K = 4 + fine-tuned 1 epoch | 4 |"))
        #expect(!markdown.contains("No fine-tuning in this run"))
        #expect(report.summaryDocument(totalSeconds: 1).removal?.finetuneEpochs == 1)
    }

    @Test func progressHearsEveryPhase() throws {
        final class Recorder: StudyProgress {
            var phases: [String] = []
            var batches = 0
            func show(_ phase: String) { phases.append(phase) }
            func clear() {}
            func note(_ text: String) { phases.append(text) }
            func fineTuning(_ what: String, batch: BatchProgress, epochs: Int, fraction: Double) { batches += 1 }
        }
        let recorder = Recorder()
        let model = StudyModel(network: try StudyFixtures.trainedNetwork(seed: 3), widths: StudyFixtures.widths, origin: .loaded(path: "m"))
        var configuration = StudyFixtures.configuration(fineTuningEpochs: 1)
        configuration.calibration = .trainingSubset(1000)
        _ = try ExperimentStudy(configuration: configuration).run(models: [model], train: StudyFixtures.train, test: StudyFixtures.test, progress: recorder)
        #expect(recorder.phases.first == "evaluating on 90 test images")
        #expect(recorder.phases.contains { $0.hasPrefix("pruning conv2: 10 sweeps × 8 values of K") })
        #expect(recorder.phases.contains("note: calibration set train:1000 is larger than the 240 training images; using all of them"))
        #expect(recorder.batches == 240 / 16)
    }

    @Test func errorsAreTyped() throws {
        let network = try StudyFixtures.trainedNetwork(seed: 3)
        let study = ExperimentStudy(configuration: StudyFixtures.configuration())
        let none = #expect(throws: StudyError.self) {
            try study.run(models: [], train: StudyFixtures.train, test: StudyFixtures.test)
        }
        if case .noModels = none {} else { Issue.record("no models: \(String(describing: none))") }
        let narrower = SimpleCNN(inputChannels: 3, imageSize: 8, conv1: 4, conv2: 6, fc1: 12, classes: 3)
        var generator = SeededGenerator(seed: 1)
        let other = StudyModel(network: Network(architecture: try narrower.architecture(), generator: &generator), widths: narrower, origin: .loaded(path: "b"))
        let mixed = #expect(throws: StudyError.self) {
            try study.run(models: [StudyModel(network: network, widths: StudyFixtures.widths, origin: .loaded(path: "a")), other],
                          train: StudyFixtures.train, test: StudyFixtures.test)
        }
        if case .differentWidths(let model, let first) = mixed { #expect(model == "b" && first == "a") } else { Issue.record("mixed widths: \(String(describing: mixed))") }
        // A network without conv2: the pruning step's own error, wrapped.
        let architecture = try Sequential(inputShape: [3, 8, 8]) {
            Conv2D(name: "conv1", inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1)
            ReLU()
            Flatten()
            Linear(name: "fc1", inputFeatures: 256, outputFeatures: 3)
        }
        let flat = StudyModel(network: Network(architecture: architecture, generator: &generator), widths: StudyFixtures.widths, origin: .loaded(path: "c"))
        let noConv2 = #expect(throws: StudyError.self) {
            try study.run(models: [flat], train: StudyFixtures.train, test: StudyFixtures.test)
        }
        if case .pruning(let cause) = noConv2 {
            #expect(noConv2?.description == cause.description && cause.description.contains("conv2"))
        } else {
            Issue.record("no conv2: \(String(describing: noConv2))")
        }
    }
}
