import CNNEngine
import Foundation
import Testing

/// End-to-end training on a small synthetic task, and determinism.
@Suite struct TrainingTests {
    /// Four classes of 3×8×8 images: class k has a bright 4×4 quadrant k (in channel k % 3) on noise.
    static func quadrants(count: Int, seed: UInt64) -> TensorImages {
        var generator = SeededGenerator(seed: seed)
        var images = Tensor(shape: [count, 3, 8, 8])
        var labels: [Int] = []
        for n in 0..<count {
            let label = Int(generator.next() % 4)
            labels.append(label)
            for c in 0..<3 { for y in 0..<8 { for x in 0..<8 {
                var value = generator.uniform(bound: 0.5)
                if c == label % 3 && (y / 4) == label / 2 && (x / 4) == label % 2 { value += 1.5 }
                images[n, c, y, x] = value
            } } }
        }
        return TensorImages(images: images, labels: labels, classNames: ["a", "b", "c", "d"])
    }

    static let model = SimpleCNN(inputChannels: 3, imageSize: 8, conv1: 4, conv2: 8, fc1: 16, classes: 4)

    func train(threads: Int, epochs: Int, seed: UInt64 = 7) throws -> (Network, [Double]) {
        let data = TrainingTests.quadrants(count: 512, seed: 1)
        var generator = SeededGenerator(seed: seed)
        let network = Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
        let trainer = Trainer(network: network, optimizer: Adam(parameterCount: network.parameters.count, learningRate: 0.01),
                              batchSize: 32, threads: threads)
        var losses: [Double] = []
        for _ in 0..<epochs { losses.append(try trainer.trainEpoch(on: data, generator: &generator).trainLoss) }
        return (trainer.network, losses)
    }

    @Test func learnsASyntheticTaskFarAboveChance() throws {
        let (network, losses) = try train(threads: 2, epochs: 8)
        #expect(losses.last! < losses.first! * 0.5)
        let test = TrainingTests.quadrants(count: 400, seed: 99)
        let evaluation = Evaluator(threads: 2, batchSize: 64).evaluate(network, on: test)
        #expect(evaluation.accuracy > 90, "accuracy \(evaluation.accuracy)% (chance is 25%)")
        #expect(evaluation.perClassTotal.reduce(0, +) == 400)
    }

    @Test func sameSeedAndThreadsGiveTheSameRun() throws {
        let (a, lossesA) = try train(threads: 2, epochs: 2)
        let (b, lossesB) = try train(threads: 2, epochs: 2)
        #expect(a.parameters == b.parameters)
        #expect(lossesA == lossesB)
        let (c, _) = try train(threads: 2, epochs: 2, seed: 8)
        #expect(a.parameters != c.parameters)
    }

    @Test func threadCountChangesOnlyRounding() throws {
        let (one, _) = try train(threads: 1, epochs: 1)
        let (two, _) = try train(threads: 2, epochs: 1)
        #expect(TestSupport.maxRelativeError(one.parameters, two.parameters) < 1e-3)
    }

    @Test func divergingLossIsReported() throws {
        let data = TrainingTests.quadrants(count: 64, seed: 1)
        var generator = SeededGenerator(seed: 1)
        var network = Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
        network.parameters[0] = .infinity
        let trainer = Trainer(network: network, optimizer: Adam(parameterCount: network.parameters.count), batchSize: 16, threads: 1)
        #expect(throws: NonFiniteLossError.self) { _ = try trainer.trainEpoch(on: data, generator: &generator) }
    }
}

/// Checkpoint and resume: the same run, interrupted, gives the same parameters bit for bit.
@Suite struct ResumeTests {
    func run(threads: Int) throws -> TrainingRun {
        var generator = SeededGenerator(seed: 5)
        let network = Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
        return TrainingRun(network: network, learningRate: 0.01, batchSize: 24, threads: threads, seed: 5)
    }

    @Test(arguments: [1, 2])
    func fourEpochsEqualTwoPlusResumePlusTwo(threads: Int) throws {
        let data = TrainingTests.quadrants(count: 200, seed: 3)
        let straight = try run(threads: threads)
        for _ in 0..<4 { _ = try straight.runEpoch(on: data) }

        let first = try run(threads: threads)
        for _ in 0..<2 { _ = try first.runEpoch(on: data) }
        let saved = try SafeTensors(data: first.checkpoint().encoded())  // through the bytes of a file
        let resumed = try TrainingRun(resuming: saved, threads: threads)
        #expect(resumed.epochsCompleted == 2)
        for _ in 0..<2 { _ = try resumed.runEpoch(on: data) }

        #expect(resumed.network.parameters == straight.network.parameters)
        #expect(resumed.epochsCompleted == 4)
        // Without the optimizer state the run would differ: a fresh Adam does not reproduce it.
        let (network, model) = try Checkpoint.network(from: saved)
        let restarted = TrainingRun(network: network, learningRate: 0.01, batchSize: 24, threads: threads, seed: 5)
        for _ in 0..<2 { _ = try restarted.runEpoch(on: data) }
        #expect(restarted.network.parameters != straight.network.parameters)
    }

    /// The zoo's recipe (SGD with Nesterov momentum and weight decay, cosine with warm-up,
    /// crop + flip), and AdamW with a step schedule: interrupted and resumed, still bit for bit.
    static let recipes: [(OptimizerSettings, LearningRateSchedule, Augmentation?)] = [
        (OptimizerSettings(kind: .sgd, momentum: 0.9, nesterov: true, weightDecay: 5e-4),
         LearningRateSchedule(shape: .cosine, baseLearningRate: 0.05, epochs: 4, warmupEpochs: 1),
         Augmentation(seed: 5, padding: 2, paddingInput: -1)),
        (OptimizerSettings(kind: .adamw),
         LearningRateSchedule(shape: .step, baseLearningRate: 0.01, epochs: 4, milestones: [3], gamma: 0.5),
         nil),
    ]

    func run(threads: Int, recipe: Int) throws -> TrainingRun {
        var generator = SeededGenerator(seed: 5)
        let network = Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
        let (optimizer, schedule, augmentation) = ResumeTests.recipes[recipe]
        return TrainingRun(network: network, optimizer: optimizer, schedule: schedule,
                           augmentation: augmentation, batchSize: 24, threads: threads, seed: 5)
    }

    @Test(arguments: [1, 2], [0, 1])
    func recipesResumeBitForBit(threads: Int, recipe: Int) throws {
        let data = TrainingTests.quadrants(count: 200, seed: 3)
        let straight = try run(threads: threads, recipe: recipe)
        var losses: [Double] = []
        for _ in 0..<4 { losses.append(try straight.runEpoch(on: data).trainLoss) }
        #expect(losses.allSatisfy(\.isFinite) && losses.last! < losses.first!)

        let first = try run(threads: threads, recipe: recipe)
        for _ in 0..<2 { _ = try first.runEpoch(on: data) }
        let saved = try SafeTensors(data: first.checkpoint().encoded())
        let progress = try JSONDecoder().decode(TrainingProgress.self, from: Data(saved.metadata[TrainingRun.progressKey]!.utf8))
        let (optimizer, schedule, augmentation) = ResumeTests.recipes[recipe]
        #expect(progress.optimizer == optimizer && progress.schedule == schedule && progress.augmentation == augmentation)
        #expect(progress.learningRate == schedule.baseLearningRate)
        #expect((saved.tensors[OptimizerSettings.momentumBufferName] != nil) == (optimizer.kind == .sgd))
        let resumed = try TrainingRun(resuming: saved, threads: threads)
        #expect(resumed.optimizerSettings == optimizer && resumed.schedule == schedule && resumed.augmentation == augmentation)
        for _ in 0..<2 { _ = try resumed.runEpoch(on: data) }
        #expect(resumed.network.parameters == straight.network.parameters)

        // Each part of the state matters: the optimizer's, and (for the first recipe) the augmentation's epoch.
        let (network, model) = try Checkpoint.network(from: saved)
        let restarted = TrainingRun(network: network, optimizer: optimizer, schedule: schedule,
                                    augmentation: augmentation, batchSize: 24, threads: threads, seed: 5)
        for _ in 0..<2 { _ = try restarted.runEpoch(on: data) }
        #expect(restarted.network.parameters != straight.network.parameters)
    }

    /// A checkpoint written before recipes existed (no optimizer, schedule or augmentation in its
    /// metadata) resumes as the exercise's recipe, bit for bit; impossible recipes are errors.
    @Test func olderAndHostileProgressMetadata() throws {
        let data = TrainingTests.quadrants(count: 200, seed: 3)
        let straight = try run(threads: 1)
        for _ in 0..<3 { _ = try straight.runEpoch(on: data) }
        let first = try run(threads: 1)
        _ = try first.runEpoch(on: data)
        var saved = try SafeTensors(data: first.checkpoint().encoded())
        var progress = try #require(try JSONSerialization.jsonObject(with: Data(saved.metadata[TrainingRun.progressKey]!.utf8)) as? [String: Any])
        #expect(Set(progress.keys).isSuperset(of: ["epoch", "optimizer_step", "shuffle_state", "seed", "batch_size", "learning_rate"]))
        for key in ["optimizer", "schedule", "augmentation"] { progress[key] = nil }
        saved.metadata[TrainingRun.progressKey] = String(decoding: try JSONSerialization.data(withJSONObject: progress), as: UTF8.self)
        let resumed = try TrainingRun(resuming: saved, threads: 1)
        #expect(resumed.optimizerSettings == OptimizerSettings() && resumed.schedule.shape == .constant && resumed.augmentation == nil)
        for _ in 0..<2 { _ = try resumed.runEpoch(on: data) }
        #expect(resumed.network.parameters == straight.network.parameters)

        for (key, value) in [("optimizer", ["name": "sgd", "momentum": 0, "nesterov": true, "weight_decay": 0] as [String: Any]),
                             ("optimizer", ["name": "sgd", "momentum": 1.5, "nesterov": false, "weight_decay": 0]),
                             ("augmentation", ["seed": 1, "padding": -3, "horizontal_flip": true, "padding_input": -1]),
                             ("schedule", ["shape": "cosine", "base_learning_rate": 0.1, "epochs": 0, "milestones": [], "gamma": 0.1, "warmup_epochs": 0])] {
            var hostile = progress
            hostile[key] = value
            var file = saved
            file.metadata[TrainingRun.progressKey] = String(decoding: try JSONSerialization.data(withJSONObject: hostile), as: UTF8.self)
            // Refused by the recipe's validation, not by the JSON decoder.
            let error = #expect(throws: TrainingCheckpointError.self, "\(key): \(value)") { _ = try TrainingRun(resuming: file, threads: 1) }
            #expect(error?.description.contains("not a training checkpoint") == false, "\(error?.description ?? "")")
        }
    }

    /// What resuming would allocate or compute from is checked first: a batch size beyond the
    /// stated limit, optimizer state relabelled as integers, moments no optimizer can have.
    @Test func refusesImpossibleBatchSizesAndOptimizerState() throws {
        let first = try run(threads: 1)
        _ = try first.runEpoch(on: TrainingTests.quadrants(count: 48, seed: 3))
        let saved = first.checkpoint()
        #expect(throws: Never.self) { _ = try TrainingRun(resuming: SafeTensors(data: saved.encoded()), threads: 1) }
        func refusal(_ file: SafeTensors) -> String? {
            let error = #expect(throws: TrainingCheckpointError.self) { _ = try TrainingRun(resuming: SafeTensors(data: file.encoded()), threads: 1) }
            return error?.description
        }

        var progress = try #require(try JSONSerialization.jsonObject(with: Data(saved.metadata[TrainingRun.progressKey]!.utf8)) as? [String: Any])
        progress["batch_size"] = TrainingLimits.maximumBatchSize + 1
        var huge = saved
        huge.metadata[TrainingRun.progressKey] = String(decoding: try JSONSerialization.data(withJSONObject: progress), as: UTF8.self)
        #expect(refusal(huge)?.contains("batch size 65537 (at most 65536)") == true, "\(refusal(huge) ?? "")")

        var integers = saved
        integers.integerTensors.insert(TrainingRun.firstMomentName)
        #expect(refusal(integers) == "tensor 'optimizer.exp_avg' is stored as I64, but the optimizer's state is floating-point")

        var negative = saved
        negative.tensors[TrainingRun.secondMomentName]!.scalars[3] = -1
        #expect(refusal(negative) == "optimizer tensor 'optimizer.exp_avg_sq' holds negative values (a mean of squares cannot)")
        var infinite = saved
        infinite.tensors[TrainingRun.firstMomentName]!.scalars[0] = .infinity
        #expect(refusal(infinite) == "optimizer tensor 'optimizer.exp_avg' holds NaN or infinite values")
    }

    @Test func augmentationAndScheduleChangeTheRun() throws {
        let data = TrainingTests.quadrants(count: 96, seed: 3)
        func parameters(_ optimizer: OptimizerSettings, _ schedule: LearningRateSchedule, _ augmentation: Augmentation?) throws -> [Float] {
            var generator = SeededGenerator(seed: 5)
            let network = Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
            let run = TrainingRun(network: network, optimizer: optimizer, schedule: schedule,
                                  augmentation: augmentation, batchSize: 24, threads: 1, seed: 5)
            _ = try run.runEpoch(on: data)
            return run.network.parameters
        }
        let sgd = OptimizerSettings(kind: .sgd, momentum: 0.9)
        let constant = LearningRateSchedule.constant(0.05)
        let base = try parameters(sgd, constant, nil)
        #expect(try parameters(sgd, constant, nil) == base)
        #expect(try parameters(sgd, constant, Augmentation(seed: 1, padding: 2, paddingInput: 0)) != base)
        #expect(try parameters(sgd, LearningRateSchedule(shape: .cosine, baseLearningRate: 0.05, epochs: 1), nil) != base)
        // The default recipe is the exercise's: Adam at a constant rate, as the convenience initialiser.
        var generator = SeededGenerator(seed: 5)
        let network = Network(architecture: try TrainingTests.model.architecture(), generator: &generator)
        let adam = TrainingRun(network: network, learningRate: 0.01, batchSize: 24, threads: 1, seed: 5)
        _ = try adam.runEpoch(on: data)
        #expect(try parameters(OptimizerSettings(), .constant(0.01), nil) == adam.network.parameters)
    }

    /// The caller's context (data set, subset) is saved and restored; positions and sizes
    /// beyond the stated limits are refused before anything is allocated or counted.
    @Test func contextIsKeptAndLimitsAreEnforced() throws {
        let data = TrainingTests.quadrants(count: 48, seed: 3)
        let first = try run(threads: 1)
        first.context = ["subset": "48", "dataset": "{\"dataset\":\"quadrants\"}"]
        _ = try first.runEpoch(on: data)
        let saved = try SafeTensors(data: first.checkpoint().encoded())
        #expect(try TrainingRun(resuming: saved, threads: 1).context == first.context)
        let progress = try #require(try JSONSerialization.jsonObject(with: Data(saved.metadata[TrainingRun.progressKey]!.utf8)) as? [String: Any])
        for (key, value) in [("batch_size", TrainingLimits.maximumBatchSize + 1), ("batch_size", Int.max),
                             ("optimizer_step", Int.max), ("epoch", TrainingLimits.maximumEpochs + 1)] {
            var hostile = progress
            hostile[key] = value
            var file = saved
            file.metadata[TrainingRun.progressKey] = String(decoding: try JSONSerialization.data(withJSONObject: hostile), as: UTF8.self)
            #expect(throws: TrainingCheckpointError.self, "\(key) \(value)") { _ = try TrainingRun(resuming: file, threads: 1) }
        }
    }

    @Test func aTrainingCheckpointAlsoLoadsAsAModelAndAModelIsNotResumable() throws {
        let training = try run(threads: 1).checkpoint()
        let (network, _) = try Checkpoint.network(from: training)
        #expect(try network.parameters.count == TrainingTests.model.architecture().parameterCount)
        var modelOnly = training
        modelOnly.metadata[TrainingRun.progressKey] = nil
        modelOnly.tensors = modelOnly.tensors.filter { !$0.key.hasPrefix("optimizer.") }
        #expect(throws: TrainingCheckpointError.self) { _ = try TrainingRun(resuming: modelOnly, threads: 1) }
    }
}
