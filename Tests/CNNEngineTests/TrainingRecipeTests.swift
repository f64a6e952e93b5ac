import CNNEngine
import Foundation
import Testing

/// `TrainingRecipe`: a run of the recipe is the `TrainingRun` its values describe, copies change
/// only what they change, progress arrives per batch and per epoch, and bad values are refused
/// in the library's own words.
@Suite struct TrainingRecipeTests {
    static let data = TrainingTests.quadrants(count: 96, seed: 3)
    static let test = TrainingTests.quadrants(count: 40, seed: 4)

    static func network(seed: UInt64 = 5) throws -> Network {
        var generator = SeededGenerator(seed: seed)
        return Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
    }

    @Test func defaultsAreTheExercisesRecipe() {
        let recipe = TrainingRecipe()
        #expect(recipe.epochs == 10 && recipe.batchSize == 64 && recipe.learningRate == 0.001 && recipe.seed == 0)
        #expect(recipe.optimizer == OptimizerSettings())
        #expect(recipe.schedule == LearningRateSchedule(shape: .constant, baseLearningRate: 0.001, epochs: 10))
        #expect(recipe.augmentation == nil)
        #expect(recipe.description == "Adam, lr 0.001, batch 64, seed 0")
    }

    @Test func aRunIsTheTrainingRunTheValuesDescribe() throws {
        let recipe = TrainingRecipe(epochs: 2, batchSize: 24, learningRate: 0.05, seed: 5, optimizer: OptimizerSettings(kind: .sgd, momentum: 0.9),
                                    scheduleShape: .cosine, warmupEpochs: 1, augmentation: Augmentation(seed: 999, padding: 2, paddingInput: 0))
        let trained = try recipe.train(try Self.network(), on: Self.data, evaluatingOn: Self.test, threads: 1)

        let run = TrainingRun(network: try Self.network(), optimizer: recipe.optimizer,
                              schedule: LearningRateSchedule(shape: .cosine, baseLearningRate: 0.05, epochs: 2, warmupEpochs: 1),
                              augmentation: Augmentation(seed: 5, padding: 2, paddingInput: 0), batchSize: 24, threads: 1, seed: 5)
        for _ in 0..<2 { _ = try run.runEpoch(on: Self.data) }
        #expect(trained.network.parameters == run.network.parameters)
        #expect(trained.epochs.map(\.epoch) == [1, 2])
        #expect(trained.epochs.last!.testAccuracy == Evaluator(threads: 1).evaluate(run.network, on: Self.test).accuracy)
    }

    @Test func copiesChangeOnlyWhatTheyChange() {
        let recipe = TrainingRecipe(epochs: 30, learningRate: 0.1, seed: 3, scheduleShape: .step, milestones: [10, 20], gamma: 0.5,
                                    augmentation: Augmentation(seed: 0, paddingInput: -1))
        var fineTuning = recipe
        fineTuning.epochs = 2
        fineTuning.seed = 4
        #expect(fineTuning.schedule == LearningRateSchedule(shape: .step, baseLearningRate: 0.1, epochs: 2, milestones: [10, 20], gamma: 0.5))
        #expect(fineTuning.seededAugmentation == Augmentation(seed: 4, paddingInput: -1))
        #expect(recipe.seededAugmentation == Augmentation(seed: 3, paddingInput: -1))
        #expect(fineTuning.optimizer == recipe.optimizer)
        #expect(recipe.description == "Adam, lr 0.1 step at epochs 10, 20 (×0.5), crop+flip augmentation, batch 64, seed 3")
    }

    @Test func progressReportsEveryBatchAndEpochAndAResumedRunContinues() throws {
        let recipe = TrainingRecipe(epochs: 2, batchSize: 32, learningRate: 0.01, seed: 1)
        let run = try recipe.makeRun(network: try Self.network(), threads: 1)
        var batches: [(epoch: Int, batch: Int)] = [], epochs: [Int] = [], afterEpoch: [Int] = []
        let records = try recipe.train(run, on: Self.data, evaluatingOn: Self.test, threads: 1, progress: { event in
            switch event {
            case .batch(let progress, let total): #expect(total == 2); batches.append((progress.epoch, progress.batch))
            case .epoch(let record, let total): #expect(total == 2); epochs.append(record.epoch)
            }
        }, afterEpoch: { afterEpoch.append($0.epochsCompleted) })
        #expect(batches.map(\.epoch) == [1, 1, 1, 2, 2, 2] && batches.map(\.batch) == [1, 2, 3, 1, 2, 3])
        #expect(epochs == [1, 2] && afterEpoch == [1, 2] && records.count == 2)
        // A run already at the recipe's length trains no further; a longer copy continues it.
        #expect(try recipe.train(run, on: Self.data, evaluatingOn: Self.test, threads: 1).isEmpty)
        var longer = recipe
        longer.epochs = 3
        #expect(try longer.train(run, on: Self.data, evaluatingOn: Self.test, threads: 1).map(\.epoch) == [3])
    }

    @Test func invalidValuesAreRefusedInTheLibrarysWords() throws {
        func refusal(_ change: (inout TrainingRecipe) -> Void) -> String? {
            var recipe = TrainingRecipe(epochs: 3)
            change(&recipe)
            do { try recipe.validate(); return nil } catch { return (error as? TrainingRecipeError)?.description }
        }
        #expect(refusal { _ in } == nil)
        #expect(refusal { $0.epochs = 0 } == "the recipe's epochs must be 1…\(TrainingLimits.maximumEpochs), got 0")
        #expect(refusal { $0.batchSize = 0 } == "the batch size must be 1…\(TrainingLimits.maximumBatchSize), got 0")
        #expect(refusal { $0.learningRate = .nan } == "the learning rate must be a positive finite number, got nan")
        #expect(refusal { $0.gamma = 0 } == "the step schedule's gamma must be a positive finite number, got 0.0")
        #expect(refusal { $0.warmupEpochs = 3 } == "the warm-up (3 epochs) must be shorter than the run (3 epochs)")
        #expect(refusal { $0.milestones = [2, 1] } == "the step schedule's milestones must be positive epochs in ascending order, got [2, 1]")
        // makeRun checks the recipe and the memory before allocating anything.
        let wide = try ModelGraph.decode(Data(#"{"input": [3, 256, 256], "layers": [{"type": "conv", "name": "c", "out": 512, "kernel": 3, "padding": 1}]}"#.utf8)).sequential()
        var generator = SeededGenerator(seed: 0)
        let network = Network(architecture: wide, generator: &generator)
        #expect(throws: MemoryBudgetError.self) { _ = try TrainingRecipe(batchSize: TrainingLimits.maximumBatchSize).makeRun(network: network, threads: 2) }
        #expect(throws: TrainingRecipeError.self) { _ = try TrainingRecipe(epochs: 0).makeRun(network: try Self.network(), threads: 1) }
    }
}
