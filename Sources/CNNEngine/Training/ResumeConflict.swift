import Foundation

/// The training settings a caller sets explicitly for a resumed run (nil or false: left at
/// their defaults). A resumed run follows its checkpoint's recipe; a setting given here that
/// differs from what the checkpoint recorded is a ``ResumeConflict``.
public struct ExplicitTrainingSettings: Equatable, Sendable {
    /// The training subset asked for.
    public var subset: Int?
    /// The seed asked for.
    public var seed: UInt64?
    /// The batch size asked for.
    public var batchSize: Int?
    /// The (peak) learning rate asked for.
    public var learningRate: Float?
    /// The optimizer asked for.
    public var optimizer: OptimizerSettings?
    /// The schedule asked for; only its shape, milestones, gamma and warm-up count (the rate and
    /// the horizon are the run's).
    public var schedule: LearningRateSchedule?
    /// Whether augmentation is asked for.
    public var augmentation: Bool

    /// Explicit settings; every one defaults to "not given".
    /// - Parameters:
    ///   - subset: the training subset asked for.
    ///   - seed: the seed asked for.
    ///   - batchSize: the batch size asked for.
    ///   - learningRate: the learning rate asked for.
    ///   - optimizer: the optimizer asked for.
    ///   - schedule: the schedule asked for.
    ///   - augmentation: whether augmentation is asked for.
    public init(subset: Int? = nil, seed: UInt64? = nil, batchSize: Int? = nil, learningRate: Float? = nil,
                optimizer: OptimizerSettings? = nil, schedule: LearningRateSchedule? = nil, augmentation: Bool = false) {
        self.subset = subset
        self.seed = seed
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.optimizer = optimizer
        self.schedule = schedule
        self.augmentation = augmentation
    }
}

/// Why a training run cannot be resumed as asked: a setting contradicts what its checkpoint
/// recorded, e.g. "seed 3 contradicts the recorded seed 1".
public struct ResumeConflict: Error, Equatable, CustomStringConvertible {
    /// The setting in conflict.
    public enum Setting: String, Sendable {
        /// The training subset.
        case subset
        /// The seed.
        case seed
        /// The batch size.
        case batchSize = "batch size"
        /// The learning rate.
        case learningRate = "learning rate"
        /// The optimizer and its hyper-parameters.
        case optimizer
        /// The learning-rate schedule.
        case schedule
        /// The data augmentation.
        case augmentation
        /// The data set.
        case data
    }

    /// The setting in conflict.
    public var setting: Setting
    /// The value asked for, in words ("" for augmentation, which is on or off; the shape's name
    /// for a schedule; the data set's description for data).
    public var value: String
    /// What the run recorded, in words: "seed 1", "a subset of 2000 images", "no augmentation", …
    /// (the data set's description for data).
    public var recorded: String

    /// A conflict.
    /// - Parameters:
    ///   - setting: the setting in conflict.
    ///   - value: the value asked for, in words.
    ///   - recorded: what the run recorded, in words.
    public init(setting: Setting, value: String, recorded: String) {
        self.setting = setting
        self.value = value
        self.recorded = recorded
    }

    /// One line: the setting, the value asked for and the recorded one.
    public var description: String {
        "\(setting.rawValue)\(value.isEmpty ? "" : " \(value)") contradicts the recorded \(recorded)"
    }
}

extension TrainingRun {
    /// Checks that resuming this run with `settings` on the data described by `context`
    /// contradicts nothing its checkpoint recorded (``context``, seed, recipe). Checked in this
    /// order: subset, seed, batch size, learning rate, optimizer, schedule, augmentation, data.
    /// - Parameters:
    ///   - settings: the settings given explicitly.
    ///   - context: the data the run would now train on.
    /// - Throws: ``ResumeConflict`` naming the first setting in conflict.
    public func checkResumable(with settings: ExplicitTrainingSettings, context: TrainingContext) throws {
        let recorded = TrainingContext(recorded: self.context)
        func conflict(_ setting: ResumeConflict.Setting, _ value: String, _ recorded: String) -> ResumeConflict {
            ResumeConflict(setting: setting, value: value, recorded: recorded)
        }
        if let subset = settings.subset, !self.context.isEmpty, self.context[TrainingContext.subsetKey] != String(subset) {
            throw conflict(.subset, String(subset), self.context[TrainingContext.subsetKey].map { "a subset of \($0) images" } ?? "the whole training set")
        }
        if let seed = settings.seed, seed != self.seed { throw conflict(.seed, String(seed), "seed \(self.seed)") }
        if let batchSize = settings.batchSize, batchSize != trainer.batchSize {
            throw conflict(.batchSize, String(batchSize), "batch size \(trainer.batchSize)")
        }
        if let learningRate = settings.learningRate, learningRate != schedule.baseLearningRate {
            throw conflict(.learningRate, String(learningRate), "learning rate \(schedule.baseLearningRate)")
        }
        if let optimizer = settings.optimizer, optimizer != optimizerSettings {
            throw conflict(.optimizer, optimizer.description, optimizerSettings.description)
        }
        if var wanted = settings.schedule {
            // Compared over the recorded rate and horizon: only the run's length may change them.
            wanted.baseLearningRate = schedule.baseLearningRate
            wanted.epochs = schedule.epochs
            if wanted != schedule {
                throw conflict(.schedule, wanted.shape.rawValue, "schedule \(schedule.shape.rawValue) with \(schedule.warmupEpochs) warm-up epochs")
            }
        }
        if settings.augmentation, augmentation == nil { throw conflict(.augmentation, "", "no augmentation") }
        if let recordedData = recorded.dataset, let current = context.dataset, recordedData != current {
            throw conflict(.data, current, recordedData)
        }
    }
}
