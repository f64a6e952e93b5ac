import Foundation

/// A whole training recipe as one value: how many epochs, the batch size, the peak learning
/// rate, the seed, the optimizer, the learning-rate schedule and the augmentation.
///
/// The defaults are the exercise's recipe (`torch.optim.Adam`, lr 0.001, batches of 64, 10
/// epochs, a constant rate, no augmentation). A recipe is a value: fine-tuning is the same
/// recipe copied with fewer epochs or another seed, and the schedule always follows the copy's
/// `epochs` and `learningRate`.
///
/// ```swift
/// var recipe = TrainingRecipe(epochs: 30, learningRate: 0.1, optimizer: OptimizerSettings(kind: .sgd, momentum: 0.9))
/// recipe.scheduleShape = .cosine
/// let (trained, epochs) = try recipe.train(network, on: train, evaluatingOn: test, threads: 2) { event in
///     if case .epoch(let record, _) = event { print(record.epoch, record.testAccuracy) }
/// }
/// var fineTuning = recipe
/// fineTuning.epochs = 2
/// ```
public struct TrainingRecipe: Equatable, Sendable, CustomStringConvertible {
    /// Epochs to train (the length the schedule spans), at least 1.
    public var epochs: Int
    /// Images per training step.
    public var batchSize: Int
    /// The learning rate: the constant rate, or the schedule's peak.
    public var learningRate: Float
    /// Seeds the shuffling and the augmentation draws (a new network's initialisation is the
    /// caller's, often with the same seed).
    public var seed: UInt64
    /// The optimizer and its hyper-parameters.
    public var optimizer: OptimizerSettings
    /// The schedule's shape: constant, step or cosine.
    public var scheduleShape: LearningRateSchedule.Shape
    /// The step schedule's milestones: the epochs (of the whole run, ascending) at which the rate
    /// is multiplied by `gamma`.
    public var milestones: [Int]
    /// The step schedule's factor at each milestone.
    public var gamma: Float
    /// Epochs of linear per-step warm-up to `learningRate` before the schedule (fewer than `epochs`).
    public var warmupEpochs: Int
    /// Crops and flips of the training images (nil: none). Its draws are seeded by the recipe's
    /// `seed`, whatever `augmentation.seed` holds, so that a copy with another seed draws other
    /// crops (``seededAugmentation``).
    public var augmentation: Augmentation?

    /// A recipe; every default is the exercise's.
    /// - Parameters:
    ///   - epochs: epochs to train.
    ///   - batchSize: images per step.
    ///   - learningRate: the constant rate, or the schedule's peak.
    ///   - seed: seeds the shuffling and the augmentation.
    ///   - optimizer: the optimizer (default: Adam).
    ///   - scheduleShape: constant, step or cosine.
    ///   - milestones: the step schedule's milestone epochs.
    ///   - gamma: the step schedule's factor.
    ///   - warmupEpochs: epochs of linear warm-up.
    ///   - augmentation: crops and flips (seeded by `seed`), or nil.
    public init(epochs: Int = 10, batchSize: Int = 64, learningRate: Float = 0.001, seed: UInt64 = 0,
                optimizer: OptimizerSettings = OptimizerSettings(), scheduleShape: LearningRateSchedule.Shape = .constant,
                milestones: [Int] = [], gamma: Float = 0.1, warmupEpochs: Int = 0, augmentation: Augmentation? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.optimizer = optimizer
        self.scheduleShape = scheduleShape
        self.milestones = milestones
        self.gamma = gamma
        self.warmupEpochs = warmupEpochs
        self.augmentation = augmentation
    }

    /// The learning rate at every step of a run of this recipe: the shape, milestones, gamma and
    /// warm-up over `epochs`, peaking at `learningRate`.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(shape: scheduleShape, baseLearningRate: learningRate, epochs: epochs,
                             milestones: milestones, gamma: gamma, warmupEpochs: warmupEpochs)
    }

    /// `augmentation` seeded by the recipe's `seed`: what a run of this recipe applies.
    public var seededAugmentation: Augmentation? {
        guard var augmentation else { return nil }
        augmentation.seed = seed
        return augmentation
    }

    /// The recipe in words, e.g. "SGD (momentum 0.9), lr 0.1 step at epochs 100, 150 (×0.1),
    /// 5 warm-up epochs, crop+flip augmentation, batch 128, seed 0" (the epochs are not part of it).
    public var description: String {
        var text = "\(optimizer.description), lr \(learningRate)"
        switch scheduleShape {
        case .constant: break
        case .step: text += " step at epochs \(milestones.map(String.init).joined(separator: ", ")) (×\(gamma))"
        case .cosine: text += " cosine to 0"
        }
        if warmupEpochs > 0 { text += ", \(warmupEpochs) warm-up epoch\(warmupEpochs == 1 ? "" : "s")" }
        if augmentation != nil { text += ", crop+flip augmentation" }
        return text + ", batch \(batchSize), seed \(seed)"
    }

    /// Checks that a run can follow the recipe: every count within ``TrainingLimits``, a
    /// positive finite rate and gamma, milestones ascending, the warm-up shorter than the run.
    /// - Throws: ``TrainingRecipeError`` naming the value that is wrong.
    public func validate() throws {
        func invalid(_ message: String) -> TrainingRecipeError { TrainingRecipeError(description: message) }
        guard epochs >= 1, epochs <= TrainingLimits.maximumEpochs else {
            throw invalid("the recipe's epochs must be 1…\(TrainingLimits.maximumEpochs), got \(epochs)")
        }
        guard batchSize >= 1, batchSize <= TrainingLimits.maximumBatchSize else {
            throw invalid("the batch size must be 1…\(TrainingLimits.maximumBatchSize), got \(batchSize)")
        }
        guard learningRate.isFinite, learningRate > 0 else { throw invalid("the learning rate must be a positive finite number, got \(learningRate)") }
        guard gamma.isFinite, gamma > 0 else { throw invalid("the step schedule's gamma must be a positive finite number, got \(gamma)") }
        guard warmupEpochs >= 0, warmupEpochs == 0 || warmupEpochs < epochs else {
            throw invalid("the warm-up (\(warmupEpochs) epochs) must be shorter than the run (\(epochs) epochs)")
        }
        guard milestones.allSatisfy({ $0 > 0 && $0 <= TrainingLimits.maximumEpochs }), zip(milestones, milestones.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw invalid("the step schedule's milestones must be positive epochs in ascending order, got \(milestones)")
        }
    }

    /// A fresh run of this recipe starting from `network`, after checking the recipe and that
    /// the run's workspaces fit in memory.
    /// - Parameters:
    ///   - network: the starting point (a new network, or one to fine-tune).
    ///   - threads: workers that split each batch; the run is reproducible bit for bit for a given count.
    /// - Throws: ``TrainingRecipeError`` for an invalid recipe; ``MemoryBudgetError`` when a
    ///   batch of `batchSize` on `threads` workers does not fit.
    public func makeRun(network: Network, threads: Int) throws -> TrainingRun {
        try validate()
        try MemoryBudget.checkTraining(network.architecture, batchSize: batchSize, threads: threads)
        return TrainingRun(network: network, optimizer: optimizer, schedule: schedule, augmentation: seededAugmentation,
                           batchSize: batchSize, threads: threads, seed: seed)
    }

    /// What a run of the recipe reports while it trains.
    public enum Event {
        /// A batch is done; `epochs` is the run's length (the epoch is `BatchProgress.epoch`).
        case batch(BatchProgress, epochs: Int)
        /// An epoch is done and evaluated; `epochs` is the run's length.
        case epoch(EpochRecord, epochs: Int)
    }

    /// Trains `run` until it has completed `epochs` (a resumed run continues where it stopped),
    /// evaluating on `test` after each epoch.
    /// - Parameters:
    ///   - run: a run of this recipe (``makeRun(network:threads:)``) or one resumed from a checkpoint.
    ///   - train: the training images.
    ///   - test: the images evaluated after every epoch.
    ///   - threads: evaluation workers.
    ///   - progress: receives every batch and every evaluated epoch.
    ///   - afterEpoch: called after each epoch's evaluation (e.g. to save a training checkpoint).
    /// - Returns: the figures of the epochs trained by this call.
    /// - Throws: `NonFiniteLossError` when the loss diverges; what `afterEpoch` throws.
    @discardableResult
    public func train<Train: LabeledImages, Test: LabeledImages>(
        _ run: TrainingRun, on train: Train, evaluatingOn test: Test, threads: Int,
        progress: (Event) -> Void = { _ in }, afterEpoch: (TrainingRun) throws -> Void = { _ in }
    ) throws -> [EpochRecord] {
        let epochs = self.epochs
        let evaluator = Evaluator(threads: threads)
        var records: [EpochRecord] = []
        try withoutActuallyEscaping(progress) { progress in
            while run.epochsCompleted < epochs {
                let epoch = run.epochsCompleted + 1
                let summary = try run.runEpoch(on: train) { progress(.batch($0, epochs: epochs)) }
                let evaluationStart = DispatchTime.now().uptimeNanoseconds
                let evaluation = evaluator.evaluate(run.network, on: test)
                let evaluationSeconds = Double(DispatchTime.now().uptimeNanoseconds - evaluationStart) / 1e9
                let record = EpochRecord(epoch: epoch, trainLoss: summary.trainLoss, seconds: summary.seconds, imagesPerSecond: summary.imagesPerSecond,
                                         testAccuracy: evaluation.accuracy, evalSeconds: evaluationSeconds)
                records.append(record)
                progress(.epoch(record, epochs: epochs))
                try afterEpoch(run)
            }
        }
        return records
    }

    /// Trains `network` with a fresh run of this recipe for `epochs`, evaluating on `test` after
    /// each epoch.
    /// - Parameters:
    ///   - network: the starting point.
    ///   - train: the training images.
    ///   - test: the images evaluated after every epoch.
    ///   - threads: training and evaluation workers.
    ///   - progress: receives every batch and every evaluated epoch.
    /// - Returns: the trained network and each epoch's figures.
    /// - Throws: what ``makeRun(network:threads:)`` throws; `NonFiniteLossError` when the loss diverges.
    public func train<Train: LabeledImages, Test: LabeledImages>(
        _ network: Network, on train: Train, evaluatingOn test: Test, threads: Int, progress: (Event) -> Void = { _ in }
    ) throws -> (network: Network, epochs: [EpochRecord]) {
        let run = try makeRun(network: network, threads: threads)
        let records = try self.train(run, on: train, evaluatingOn: test, threads: threads, progress: progress)
        return (run.network, records)
    }
}

/// Why a ``TrainingRecipe`` cannot run: one of its values is out of range (the message names it).
public struct TrainingRecipeError: Error, CustomStringConvertible, Equatable {
    /// One line naming the value and its allowed range.
    public var description: String
}
