import CNNEngine
import Foundation
import Testing

/// `TrainingSession`, `ResumeConflict`, `TrainingContext`, `TrainingTrace`, `TrainingReport` and
/// `InteropProbe`: what a training job does around the recipe, in the library's terms.
@Suite struct TrainingSessionTests {
    static let data = TrainingTests.quadrants(count: 48, seed: 3)
    static let test = TrainingTests.quadrants(count: 16, seed: 4)

    /// A run of `recipe` from a fresh network, recording `context`.
    static func run(_ recipe: TrainingRecipe, context: TrainingContext = TrainingContext(dataset: "quadrants", subset: 48)) throws -> TrainingRun {
        try TrainingSession(start: .fresh(try TrainingRecipeTests.network()), recipe: recipe, threads: 1, context: context).makeRun()
    }

    @Test func contextRoundTripsThroughItsValues() {
        let context = TrainingContext(dataset: "{\"name\":\"x\"}", subset: 500)
        #expect(context.values == ["dataset": "{\"name\":\"x\"}", "subset": "500"])
        #expect(TrainingContext(recorded: context.values) == context)
        #expect(TrainingContext(dataset: "d", subset: nil).values == ["dataset": "d"])
        #expect(TrainingContext(recorded: [:]) == TrainingContext(dataset: nil, subset: nil))
    }

    @Test func checkpointPathReplacesTheExtension() {
        #expect(TrainingSession.checkpointURL(forModel: URL(fileURLWithPath: "/r/model.safetensors")).path == "/r/model.checkpoint.safetensors")
        #expect(TrainingSession.checkpointURL(forModel: URL(fileURLWithPath: "/r/m")).path == "/r/m.checkpoint.safetensors")
    }

    @Test func resumeConflictsNameTheSettingAndBothValues() throws {
        let recipe = TrainingRecipe(epochs: 2, batchSize: 8, learningRate: 0.01, seed: 1)
        let run = try Self.run(recipe)
        let context = TrainingContext(dataset: "quadrants", subset: 48)
        // Settings equal to the recorded ones, or not given, are no conflict.
        try run.checkResumable(with: ExplicitTrainingSettings(), context: context)
        try run.checkResumable(with: ExplicitTrainingSettings(subset: 48, seed: 1, batchSize: 8, learningRate: 0.01, optimizer: OptimizerSettings(),
                                                              schedule: LearningRateSchedule.constant(0.5, epochs: 9)), context: context)
        func conflict(_ settings: ExplicitTrainingSettings, _ context: TrainingContext = context) -> ResumeConflict? {
            do { try run.checkResumable(with: settings, context: context); return nil } catch { return error as? ResumeConflict }
        }
        #expect(conflict(ExplicitTrainingSettings(seed: 3))?.description == "seed 3 contradicts the recorded seed 1")
        #expect(conflict(ExplicitTrainingSettings(subset: 20)) == ResumeConflict(setting: .subset, value: "20", recorded: "a subset of 48 images"))
        #expect(conflict(ExplicitTrainingSettings(batchSize: 4)) == ResumeConflict(setting: .batchSize, value: "4", recorded: "batch size 8"))
        #expect(conflict(ExplicitTrainingSettings(learningRate: 0.1)) == ResumeConflict(setting: .learningRate, value: "0.1", recorded: "learning rate 0.01"))
        #expect(conflict(ExplicitTrainingSettings(optimizer: OptimizerSettings(kind: .sgd)))?.setting == .optimizer)
        let cosine = TrainingRecipe(scheduleShape: .cosine).schedule
        #expect(conflict(ExplicitTrainingSettings(schedule: cosine)) == ResumeConflict(setting: .schedule, value: "cosine", recorded: "schedule constant with 0 warm-up epochs"))
        #expect(conflict(ExplicitTrainingSettings(augmentation: true))?.description == "augmentation contradicts the recorded no augmentation")
        #expect(conflict(ExplicitTrainingSettings(), TrainingContext(dataset: "other", subset: 48)) == ResumeConflict(setting: .data, value: "other", recorded: "quadrants"))
        // The first conflict in the documented order wins.
        #expect(conflict(ExplicitTrainingSettings(subset: 20, seed: 3))?.setting == .subset)
        // A run that recorded no context accepts any subset.
        let bare = try Self.run(recipe, context: TrainingContext(dataset: nil, subset: nil))
        bare.context = [:]
        try bare.checkResumable(with: ExplicitTrainingSettings(subset: 20), context: context)
    }

    @Test func resumingContinuesToTheSessionsEpochsAndRefusesAFinishedRun() throws {
        let recipe = TrainingRecipe(epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1)
        let context = TrainingContext(dataset: "quadrants", subset: 48)
        let first = try Self.run(recipe, context: context)
        try recipe.train(first, on: Self.data, evaluatingOn: Self.test, threads: 1)
        let resumed = try TrainingRun(resuming: first.checkpoint(), threads: 1)
        #expect(resumed.context == context.values)
        var longer = recipe
        longer.epochs = 3
        let finished = TrainingSession(start: .resuming(resumed), recipe: recipe, threads: 1, context: context)
        #expect(throws: TrainingSessionError.alreadyTrained(epochs: 1)) { _ = try finished.makeRun() }
        let session = TrainingSession(start: .resuming(resumed), recipe: longer, threads: 1, context: context)
        let run = try session.makeRun()
        #expect(run.schedule.epochs == 3)
        let epochs = try session.train(run, on: Self.data, evaluatingOn: Self.test)
        #expect(epochs.map(\.epoch) == [2, 3])
        #expect(session.modelMetadata(after: run, epochs: epochs, data: ["d": "1"]) == ["d": "1", Checkpoint.epochsTrainedKey: "3"])
    }

    @Test func checkpointsAreSavedEveryNEpochs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-session-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("m.checkpoint.safetensors")
        let recipe = TrainingRecipe(epochs: 3, batchSize: 8, learningRate: 0.01, seed: 1)
        let session = TrainingSession(start: .fresh(try TrainingRecipeTests.network()), recipe: recipe, threads: 1,
                                      context: TrainingContext(dataset: "quadrants", subset: nil), checkpointEvery: 2, checkpointURL: url)
        let run = try session.makeRun()
        var saved: [Int] = []
        _ = try session.train(run, on: Self.data, evaluatingOn: Self.test, checkpointSaved: { epoch, _ in saved.append(epoch) })
        #expect(saved == [2])
        let restored = try TrainingRun(resuming: SafeTensors(contentsOf: url), threads: 1)
        #expect(restored.epochsCompleted == 2)
        #expect(restored.context == ["dataset": "quadrants"])
    }

    @Test func fineTunedModelsKeepTheirHistoryButNotTheirFileKeys() throws {
        let inherited = ["cnnprune.pruning": "history", Checkpoint.epochsTrainedKey: "5", Checkpoint.graphKey: "g",
                         Checkpoint.architectureKey: "a", TrainingRun.progressKey: "p", "format": "pt", "dataset": "old"]
        let recipe = TrainingRecipe(epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1)
        let session = TrainingSession(start: .fineTuning(try TrainingRecipeTests.network(), metadata: inherited), recipe: recipe, threads: 1,
                                      context: TrainingContext(dataset: nil, subset: nil))
        let run = try session.makeRun()
        let epochs = try session.train(run, on: Self.data, evaluatingOn: Self.test)
        #expect(session.modelMetadata(after: run, epochs: epochs, data: ["dataset": "new"])
                == ["cnnprune.pruning": "history", Checkpoint.epochsTrainedKey: "6", "dataset": "new"])
        let fresh = TrainingSession(start: .fresh(try TrainingRecipeTests.network()), recipe: recipe, threads: 1, context: TrainingContext(dataset: nil, subset: nil))
        #expect(fresh.modelMetadata(after: run, epochs: epochs, data: [:]) == [Checkpoint.epochsTrainedKey: "1"])
    }

    @Test func reportRoundsTheLastAccuracyAndKeepsItsJSONFields() throws {
        let record = EpochRecord(epoch: 1, trainLoss: 1.5, seconds: 2, imagesPerSecond: 3, testAccuracy: 41.2371, evalSeconds: 0.5)
        let report = TrainingReport(epochs: [record])
        #expect(report.testAccuracy == 41.24)
        #expect(report.matrixProducts == BLAS.backend.rawValue)
        let json = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(Set(json.keys) == ["epochs", "test_accuracy", "matrix_products"])
        #expect(TrainingReport(epochs: []).testAccuracy == 0)
    }

    @Test func traceRecordsTheStepsBatchesAndSavedParameters() throws {
        let recipe = TrainingRecipe(epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1)
        let run = try Self.run(recipe)
        let initial = run.network.parameters
        let trace = TrainingTrace.recording(run, steps: 3, savedSteps: [1, 3, 9])
        try recipe.train(run, on: Self.data, evaluatingOn: Self.test, threads: 1)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-trace-\(UInt64.random(in: 0...UInt64.max)).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try trace.write(to: url, batchSize: 8, seed: 1)
        let file = try SafeTensors(contentsOf: url)
        #expect(trace.savedSteps == [1, 3])
        #expect(file.tensors["loss"]?.shape == [3])
        #expect(file.tensors["batch_sizes"]?.scalars == [8, 8, 8])
        #expect(file.tensors["indices"]?.shape == [24])
        #expect(file.tensors["step1.optimizer.exp_avg"] != nil && file.tensors["step9.conv1.weight"] == nil)
        let firstWeights = try #require(file.tensors["initial.conv1.weight"])
        #expect(firstWeights.scalars == Array(initial[0..<firstWeights.scalars.count]))
        let summary = try #require(file.metadata[TrainingTrace.metadataKey])
        #expect(summary.contains("\"saved_steps\":[1,3]") && summary.contains("\"steps\":3"))
    }

    @Test func probeRefusesWhatDoesNotFitAndWritesEveryTensor() throws {
        let network = try TrainingRecipeTests.network()
        let tooMany = InteropProbe(count: 17, batchSize: 4, start: 0, steps: 1, learningRate: 0.01)
        #expect(!tooMany.fits(test: Self.test, train: Self.data))
        #expect(throws: InteropProbeError.self) { _ = try tooMany.tensors(of: network, test: Self.test, train: Self.data, threads: 1) }
        #expect(!InteropProbe(count: 4, batchSize: 4, start: 45, steps: 1, learningRate: 0.01).fits(test: Self.test, train: Self.data))
        let probe = InteropProbe(count: 4, batchSize: 4, start: 44, steps: 0, learningRate: 0.01)
        let logits = network(Tensor(shape: [4, 3, 8, 8], scalars: Array(Self.test.images.scalars[0..<(4 * 192)]))).scalars
        let tensors = try probe.tensors(of: network, test: Self.test, train: Self.data, threads: 1)
        #expect(tensors["logits"]?.shape == [4, 4])
        #expect(tensors["logits"]?.scalars == logits)
        #expect(tensors["loss"]?.shape == [1])
        for (name, tensor) in network.namedTensors { #expect(tensors["after.\(name)"] == tensor, "no steps: parameters unchanged") }
        #expect(network.architecture.parameterEntries.allSatisfy { tensors["grad.\($0.name)"]?.shape == $0.shape })
    }

    @Test func milestonesParseAscendingEpochs() throws {
        #expect(try LearningRateSchedule.milestones(parsing: "100, 150") == [100, 150])
        #expect(throws: MilestonesError.notAnEpoch("0,5")) { try LearningRateSchedule.milestones(parsing: "0,5") }
        #expect(throws: MilestonesError.notAnEpoch("5,")) { try LearningRateSchedule.milestones(parsing: "5,") }
        #expect(throws: MilestonesError.notAscending("5,5")) { try LearningRateSchedule.milestones(parsing: "5,5") }
        #expect(TrainingRecipe(seed: 4).forPruningStep(3).seed == 6)
        #expect(TrainingRecipe(seed: 4).seeded(9) == TrainingRecipe(seed: 9))
    }
}
