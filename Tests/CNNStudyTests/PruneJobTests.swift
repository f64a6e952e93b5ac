import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation
import Testing

/// `prune` as library jobs: the SimpleCNN layer job and the channel-group job save what they
/// report, the several-model list is parsed and checked, and their errors carry no flag names.
@Suite struct PruneJobTests {
    @Test func theLayerJobSavesThePrunedModelWithItsHistory() throws {
        let directory = try StudyFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("pruned.safetensors").path
        let network = try StudyFixtures.trainedNetwork(seed: 3)
        let study = LayerRemovalStudy(layer: "conv2", count: 3, steps: 3, criterion: try ImportanceCriteria.named("l1", seed: 0),
                                      calibrationLabel: "train:60", finetuneEpochs: 1, threads: 1, timingRuns: 1)
        let job = LayerPruneJob(study: study, calibration: .trainingSubset(60), source: "in/model.safetensors", output: output)
        #expect(try job.check(StudyFixtures.widths) == 8)
        var lines: [String] = [], tuned: [Int] = []
        let images = CalibrationImages(test: StudyFixtures.test, seed: 5, threads: 1, train: StudyFixtures.train)
        let result = try job.run(network: network, model: StudyFixtures.widths, metadata: ["keep": "me"], test: StudyFixtures.test,
                                 images: images, extraMetadata: ["x": "1"], fineTune: { net, step in tuned.append(step); return net },
                                 say: { lines.append($0) })
        #expect(tuned == [1, 2, 3])
        #expect(lines.first == "Pruning conv2 of in/model.safetensors (\(StudyFixtures.widths.widthsDescription)): removing 3 of 8 channels in 3 steps, ranked by l1 (weights only)")
        #expect(lines.filter { $0.hasPrefix("step ") && $0.contains("removed channels") }.count == 3)
        let saved = try Checkpoint.load(from: URL(fileURLWithPath: output))
        #expect(saved.model.conv2 == 5)
        #expect(saved.metadata["x"] == "1")
        let history = try JSONDecoder().decode([PruningRecord].self, from: Data(try #require(saved.metadata[PruningRecord.metadataKey]).utf8))
        #expect(history.map(\.source) == ["model.safetensors"] && history[0].k == 3 && history[0].steps == 3 && history[0].finetuneEpochs == 1)
        #expect(result.fineTuned != nil && result.parameterRatio < 1 && result.text.hasSuffix("Saved \(output) (\(saved.model.widthsDescription))"))
        // A count the layer cannot lose fails before any data is read.
        var tooMany = job
        tooMany.study.count = 8
        #expect(throws: StudyError.self) { try tooMany.check(StudyFixtures.widths) }
    }

    @Test func theGroupJobTrainsWithTheCallersRecipeAndSavesItsMetadata() throws {
        let directory = try StudyFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("pruned.safetensors").path
        let graph = try ModelZoo.graph(named: "resnet20", classes: 3, inputShape: [3, 8, 8], widthMultiplier: 0.25)
        var generator = SeededGenerator(seed: 9)
        let network = Network(architecture: try graph.sequential(), generator: &generator)
        let input = directory.appendingPathComponent("in.safetensors")
        try Checkpoint.save(network, to: input, metadata: [Checkpoint.epochsTrainedKey: "4"])
        let loaded = try ModelFile.load(input.path)
        let job = GroupPruneJob(source: "r20.safetensors", output: output,
                                removal: GroupRemovalStudy(target: .globalRatio(0.5), steps: 2, seed: 7, threads: 1, timingRuns: 1),
                                targetDescription: "half", recipe: TrainingRecipe(epochs: 9, batchSize: 16, learningRate: 0.001, seed: 7),
                                finetuneEpochs: 2, scratchControl: .asPruned)
        #expect(job.trains)
        var recipes: [(epochs: Int, seed: UInt64)] = [], lines: [String] = []
        let report = try job.run(loaded, test: StudyFixtures.test, images: CalibrationImages(test: StudyFixtures.test, seed: 5, threads: 1),
                                 train: { recipe, network in recipes.append((recipe.epochs, recipe.seed)); return network }, say: { lines.append($0) })
        // Two steps fine-tuned two epochs each (seeded SEED + step − 1), then the scratch control
        // as long as the pruned model trained: 4 recorded + 2·2 fine-tuning.
        #expect(recipes.map(\.epochs) == [2, 2, 8] && recipes.map(\.seed) == [7, 8, 7])
        #expect(lines.first == "Pruning r20.safetensors (\(loaded.graph.name ?? "custom architecture")): half in 2 steps, ranked by l1")
        #expect(report.target == "half" && report.scratchEpochs == 8 && report.fineTuned != nil && report.scratch != nil)
        let saved = try ModelFile.load(output)
        #expect(saved.metadata[Checkpoint.epochsTrainedKey] == "8")
        #expect(saved.network.architecture.parameterCount == report.fineTuned?.parameters)
        // Without a recorded epoch count the scratch control's length must be given.
        try Checkpoint.save(network, to: input, metadata: [:])
        let unrecorded = try ModelFile.load(input.path)
        #expect(throws: GroupPruneJob.Problem.epochsNotRecorded(model: "r20.safetensors")) {
            try job.run(unrecorded, test: StudyFixtures.test, images: CalibrationImages(test: StudyFixtures.test, seed: 5, threads: 1),
                        train: { $1 })
        }
    }

    @Test func modelListsAreParsedAndChecked() throws {
        #expect(ModelList.files("a.safetensors") == ["a.safetensors"])
        #expect(ModelList.files("a.safetensors, b.safetensors") == ["a.safetensors", "b.safetensors"])
        #expect(ModelList.files("a,,b") == ["a", "", "b"])
        #expect(ModelList.output("/x/pruned.safetensors", index: 1) == "/x/pruned-1.safetensors")
        #expect(ModelList.output("/x/pruned", index: 0) == "/x/pruned-0")
        #expect(ModelList.directory("/runs", index: 2).path == "/runs/model-2")
        let small = try ModelZoo.graph(named: "resnet20", classes: 3, inputShape: [3, 8, 8], widthMultiplier: 0.25)
        let wide = try ModelZoo.graph(named: "resnet20", classes: 3, inputShape: [3, 8, 8], widthMultiplier: 0.5)
        let graphs = ["a": small, "b": small, "c": wide]
        try ModelList.check(["a", "b"]) { graphs[$0]! }
        #expect(throws: ModelList.Problem.emptyEntry) { try ModelList.check(["a", ""]) { graphs[$0]! } }
        #expect(throws: ModelList.Problem.duplicate) { try ModelList.check(["a", "a"]) { graphs[$0]! } }
        #expect(throws: ModelList.Problem.differentArchitectures(path: "c", name: wide.name ?? "custom architecture",
                                                                 reference: "a", referenceName: small.name ?? "custom architecture")) {
            try ModelList.check(["a", "b", "c"]) { graphs[$0]! }
        }
        #expect(!ModelList.Problem.emptyEntry.description.contains("--"))
    }

    @Test func severalResultsAreSummarisedInOrder() {
        let results = [(70.0, 60.0), (72.0, 61.0)].map { PruneRunResult(report: [1], text: "", before: $0.0, pruned: $0.1, fineTuned: nil, parameterRatio: 0.5, macsRatio: 0.5) }
        let summary = MultiModelPruneSummary(results: results)
        #expect(summary.before == [70, 72] && summary.pruned == [60, 61] && summary.fineTuned == nil)
    }
}
