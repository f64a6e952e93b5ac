import Foundation

/// A setting of a training, pruning or measuring run whose value is outside what it allows,
/// e.g. "learning rate must be a positive finite number, got -1.0".
///
/// The checks that make these errors are typed checks on library values (``check(_:_:positive:)``,
/// ``TrainingRecipe/checkOptimizerAndSchedule()``, …), so that every caller — a program, a
/// command line — refuses the same values with the same reason. A caller that reads the values
/// from its own vocabulary (flags, a configuration file) renders the message in it with
/// ``description(naming:)``.
public struct SettingError: Error, Equatable, CustomStringConvertible {
    /// The settings these checks cover.
    public enum Setting: String, Sendable, CaseIterable {
        /// Training epochs: 1…``TrainingLimits/maximumEpochs``.
        case epochs
        /// Fine-tuning epochs: 0 (none)…``TrainingLimits/maximumEpochs``.
        case fineTuningEpochs
        /// The epochs of a pruned architecture trained from scratch: 1…``TrainingLimits/maximumEpochs``.
        case scratchEpochs
        /// Epochs of learning-rate warm-up: 0…``TrainingLimits/maximumEpochs``, and fewer than the run's.
        case warmupEpochs
        /// Images per training step: 1…``TrainingLimits/maximumBatchSize``.
        case batchSize
        /// The (peak) learning rate: positive and finite.
        case learningRate
        /// The step schedule's factor: positive and finite.
        case gamma
        /// SGD's momentum: in [0, 1).
        case momentum
        /// Weight decay: non-negative and finite.
        case weightDecay
        /// Timed passes over the evaluation images: 1…100.
        case timingRuns
        /// Channels or neurons to remove: at least 1.
        case count
        /// Steps of an iterative pruning: 1…100.
        case pruningSteps
        /// The fraction of every group removed: strictly between 0 and 1.
        case uniformRatio
        /// The fraction of all prunable channels removed: strictly between 0 and 1.
        case globalRatio
        /// The fraction of the multiply-accumulates to keep: strictly between 0 and 1.
        case multiplyAccumulatesFraction
        /// The fraction of the parameters to keep: strictly between 0 and 1.
        case parametersFraction
        /// The largest fraction of any group a budget may take: strictly between 0 and 1.
        case maximumGroupRatio
        /// Models of a several-seed study: 1…1,000.
        case seeds
        /// Worker threads, each with its own workspaces: 1…1,024.
        case threads

        /// The setting in words, e.g. "learning rate".
        public var name: String {
            switch self {
            case .epochs: "epochs"
            case .fineTuningEpochs: "fine-tuning epochs"
            case .scratchEpochs: "epochs of the from-scratch training"
            case .warmupEpochs: "warm-up epochs"
            case .batchSize: "batch size"
            case .learningRate: "learning rate"
            case .gamma: "the step schedule's gamma"
            case .momentum: "momentum"
            case .weightDecay: "weight decay"
            case .timingRuns: "timing runs"
            case .count: "count of units to remove"
            case .pruningSteps: "pruning steps"
            case .uniformRatio: "ratio of every group"
            case .globalRatio: "global ratio"
            case .multiplyAccumulatesFraction: "fraction of the multiply-accumulates"
            case .parametersFraction: "fraction of the parameters"
            case .maximumGroupRatio: "largest fraction of a group"
            case .seeds: "number of seeds"
            case .threads: "worker threads"
            }
        }

        /// The values an integer setting allows (nil for the real-valued ones).
        public var allowed: ClosedRange<Int>? {
            switch self {
            case .epochs, .scratchEpochs: 1...TrainingLimits.maximumEpochs
            case .fineTuningEpochs, .warmupEpochs: 0...TrainingLimits.maximumEpochs
            case .batchSize: 1...TrainingLimits.maximumBatchSize
            case .timingRuns: 1...100
            case .count: 1...Int.max
            case .pruningSteps: 1...100
            case .seeds: 1...1_000
            case .threads: 1...1_024
            default: nil
            }
        }
    }

    /// What the value must be.
    public enum Requirement: Equatable, Sendable {
        /// At least 1, said as "positive".
        case positive
        /// At least this (0 is said "0 or more").
        case atLeast(Int)
        /// At most this.
        case atMost(Int)
        /// From `lower` to `upper`, said "A…B"; `reason` explains the upper bound.
        case within(lower: Int, upper: Int, reason: String?)
        /// Positive and finite.
        case positiveFinite
        /// Non-negative and finite.
        case nonNegativeFinite
        /// Strictly between 0 and 1.
        case openUnitInterval
        /// At least 0 and below 1.
        case zeroToBelowOne
        /// Below the value of another setting (a warm-up shorter than the run).
        case below(Setting, value: Int)
    }

    /// The setting that is wrong.
    public var setting: Setting
    /// Its value as given, printed as its type prints it (a `Float` -1 is "-1.0").
    public var value: String
    /// What the value must be.
    public var requirement: Requirement

    /// An error for `setting`, whose `value` misses `requirement`.
    /// - Parameters:
    ///   - setting: the setting that is wrong.
    ///   - value: its value (printed as its type prints it).
    ///   - requirement: what the value must be.
    public init(_ setting: Setting, value: some CustomStringConvertible, requirement: Requirement) {
        self.setting = setting
        self.value = value.description
        self.requirement = requirement
    }

    /// The message with each setting called by `name` (e.g. a command line's flag).
    /// - Parameter name: the name of a setting in the caller's vocabulary.
    /// - Returns: one line naming the setting, what it must be and the value.
    public func description(naming name: (Setting) -> String) -> String {
        let rule: String
        switch requirement {
        case .positive: rule = "must be positive"
        case .atLeast(let minimum): rule = minimum == 0 ? "must be 0 or more" : "must be at least \(minimum)"
        case .atMost(let maximum): rule = "must be at most \(maximum)"
        case .within(let lower, let upper, let reason): rule = "must be \(lower)…\(upper)" + (reason.map { " (\($0))" } ?? "")
        case .positiveFinite: rule = "must be a positive finite number"
        case .nonNegativeFinite: rule = "must be a non-negative finite number"
        case .openUnitInterval: rule = "must be strictly between 0 and 1"
        case .zeroToBelowOne: rule = "must be in [0, 1)"
        case .below(let other, let limit): return "\(name(setting)) (\(value)) must be below \(name(other)) (\(limit))"
        }
        return "\(name(setting)) \(rule), got \(value)"
    }

    /// The message in the library's words, e.g. "learning rate must be a positive finite number, got -1.0".
    public var description: String { description(naming: \.name) }

    /// Checks an integer setting against its ``Setting/allowed`` range (said "positive" when `positive`
    /// and the range starts at 1).
    /// - Parameters:
    ///   - value: the value.
    ///   - setting: the setting it is.
    ///   - positive: whether a value below 1 is said "must be positive" rather than "must be at least 1".
    /// - Throws: ``SettingError`` naming the bound the value misses.
    public static func check(_ value: Int, _ setting: Setting, positive: Bool = false) throws {
        guard let allowed = setting.allowed else { return }
        if value < allowed.lowerBound {
            throw SettingError(setting, value: value, requirement: positive && allowed.lowerBound == 1 ? .positive : .atLeast(allowed.lowerBound))
        }
        if value > allowed.upperBound { throw SettingError(setting, value: value, requirement: .atMost(allowed.upperBound)) }
    }

    /// Checks the steps of an iterative pruning: 1…100, and (when `count` units are removed)
    /// at most `count`, since each step removes at least one unit.
    /// - Parameters:
    ///   - steps: the steps.
    ///   - count: the units removed in all, when the target is a count.
    ///   - capped: whether the 1…100 range applies (a layer's steps are bounded by its count only).
    /// - Throws: ``SettingError`` for ``Setting/pruningSteps``.
    public static func checkPruningSteps(_ steps: Int, count: Int?, capped: Bool) throws {
        if capped, !(1...100).contains(steps) { throw SettingError(.pruningSteps, value: steps, requirement: .within(lower: 1, upper: 100, reason: nil)) }
        if let count, steps > count || steps < 1 {
            throw SettingError(.pruningSteps, value: steps, requirement: .within(lower: 1, upper: count, reason: "each step removes at least one unit"))
        }
    }

    /// Checks that a fraction (a ratio, a budget) lies strictly between 0 and 1.
    /// - Parameters:
    ///   - value: the fraction.
    ///   - setting: the setting it is.
    /// - Throws: ``SettingError`` when it does not.
    public static func checkFraction(_ value: Double, _ setting: Setting) throws {
        guard value > 0 && value < 1 else { throw SettingError(setting, value: value, requirement: .openUnitInterval) }
    }

    /// Checks a positive finite rate (a learning rate, a factor).
    /// - Parameters:
    ///   - value: the rate.
    ///   - setting: the setting it is.
    /// - Throws: ``SettingError`` when it is zero, negative, infinite or NaN.
    public static func checkPositiveFinite(_ value: Float, _ setting: Setting) throws {
        guard value.isFinite, value > 0 else { throw SettingError(setting, value: value, requirement: .positiveFinite) }
    }
}

extension TrainingRecipe {
    /// Checks the optimizer's and the schedule's settings: the momentum in [0, 1), the weight
    /// decay non-negative and finite, the step schedule's gamma positive and finite, and the
    /// warm-up within 0…``TrainingLimits/maximumEpochs``.
    /// - Throws: ``SettingError`` for the first setting out of range, in that order.
    public func checkOptimizerAndSchedule() throws {
        let momentum = optimizer.momentum
        guard momentum.isFinite, momentum >= 0, momentum < 1 else { throw SettingError(.momentum, value: momentum, requirement: .zeroToBelowOne) }
        let decay = optimizer.weightDecay
        guard decay.isFinite, decay >= 0 else { throw SettingError(.weightDecay, value: decay, requirement: .nonNegativeFinite) }
        try SettingError.checkPositiveFinite(gamma, .gamma)
        try SettingError.check(warmupEpochs, .warmupEpochs)
    }

    /// Checks the run's length, batch size and rate: `epochs` within the range of
    /// `epochsSetting`, a warm-up shorter than the run (or none), the batch size within
    /// 1…``TrainingLimits/maximumBatchSize`` and a positive finite learning rate.
    /// - Parameter epochsSetting: what `epochs` counts: ``SettingError/Setting/epochs`` (a
    ///   training run, at least 1) or ``SettingError/Setting/fineTuningEpochs`` (0: none).
    /// - Throws: ``SettingError`` for the first setting out of range, in that order.
    public func checkLengthBatchAndRate(epochsSetting: SettingError.Setting = .epochs) throws {
        try SettingError.check(epochs, epochsSetting)
        guard warmupEpochs == 0 || warmupEpochs < epochs else {
            throw SettingError(.warmupEpochs, value: warmupEpochs, requirement: .below(epochsSetting, value: epochs))
        }
        try SettingError.check(batchSize, .batchSize, positive: true)
        try SettingError.checkPositiveFinite(learningRate, .learningRate)
    }
}
