import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// Channel groups removed from any network to a target, fine-tuned, optionally set against the
/// pruned architecture trained from scratch, and every model measured: parameters, MACs, file
/// size, test accuracy and best-of-N inference speed — the removal of `cnnprune prune` on
/// channel groups and of the channel-group study's report.
///
/// Training is the caller's: `fineTune` and `trainFromScratch` receive the network (or the
/// fresh one) and return it trained, so any recipe — the command line's, or a program's own —
/// can drive it.
///
/// ```swift
/// let removal = GroupRemovalStudy(target: .globalRatio(0.5), criterion: "l1")
/// let result = try removal.run(network: network, test: test, calibration: images)
/// print(result.pruned.multiplyAccumulates, result.pruned.accuracy)
/// ```
public struct GroupRemovalStudy: Sendable {
    /// How far to prune: K of one group, a ratio per group, a global ratio, a MAC or parameter budget.
    public var target: PruningTarget
    /// The group criterion's name (`ImportanceCriteria.names`).
    public var criterion: String
    /// The images data-driven criteria rank on.
    public var calibration: CalibrationSet
    /// Whether groups coupled through residual sums may be pruned.
    public var allowResidual: Bool
    /// With a global target, the largest fraction of any group's channels that may go.
    public var maximumGroupRatio: Double
    /// How a MAC or parameter budget is shared among the groups: ranked globally, or the same
    /// fraction of each.
    public var allocation: BudgetAllocation
    /// Pruning steps, re-ranked, with `fineTune` between them (Torch-Pruning's `iterative_steps`).
    public var steps: Int
    /// Seeds the random criterion.
    public var seed: UInt64
    /// Threads of calibration and measurement.
    public var threads: Int
    /// Timed passes over the test images per model; the best counts.
    public var timingRuns: Int

    /// A removal as described; the defaults are `cnnprune prune`'s.
    public init(target: PruningTarget, criterion: String = "l1", calibration: CalibrationSet = .default, allowResidual: Bool = false,
                maximumGroupRatio: Double = 0.9, allocation: BudgetAllocation = .global, steps: Int = 1, seed: UInt64 = 0,
                threads: Int = 1, timingRuns: Int = 5) {
        self.target = target
        self.criterion = criterion
        self.calibration = calibration
        self.allowResidual = allowResidual
        self.maximumGroupRatio = maximumGroupRatio
        self.allocation = allocation
        self.steps = steps
        self.seed = seed
        self.threads = threads
        self.timingRuns = timingRuns
    }

    /// What a removal gave: the networks and their figures.
    public struct Result {
        /// The network before pruning.
        public var original: Network
        /// The pruned network (fine-tuned between steps, if steps > 1 and `fineTune` was given).
        public var pruned: Network
        /// The pruned network after the final fine-tuning, if any.
        public var fineTuned: Network?
        /// The pruned architecture trained from a fresh initialisation, if asked.
        public var scratch: Network?
        /// The criterion that ranked the channels.
        public var criterionName: String
        /// The calibration set's description, for data-driven criteria only.
        public var calibrationDescription: String?
        /// Each group that lost channels.
        public var changes: [GroupPruneReport.GroupChange]
        /// The figures of `original`, `pruned`, `fineTuned` (if any) and `scratch` (if any), in that order.
        public var measurements: [GroupPruneReport.Measurement]

        /// The figures of the original network.
        public var before: GroupPruneReport.Measurement { measurements[0] }
        /// The figures of the pruned network (before the final fine-tuning).
        public var prunedMeasurement: GroupPruneReport.Measurement { measurements[1] }
        /// The figures of the fine-tuned network, if any.
        public var fineTunedMeasurement: GroupPruneReport.Measurement? { fineTuned == nil ? nil : measurements[2] }
        /// The figures of the network trained from scratch, if any.
        public var scratchMeasurement: GroupPruneReport.Measurement? { scratch == nil ? nil : measurements[measurements.count - 1] }
        /// The network that ships: fine-tuned if it was, else pruned.
        public var final: Network { fineTuned ?? pruned }
    }

    /// What a removal reports while it runs.
    public enum Event {
        /// Pruning step `step` of `steps` is done; `cost` is the network's size after it.
        case step(Int, ArchitectureCost)
        /// The groups that lost channels, once every step is done.
        case changes([GroupPruneReport.GroupChange])
    }

    /// Prunes `network` to the target and measures it.
    /// - Parameters:
    ///   - network: the trained network.
    ///   - test: the evaluation images.
    ///   - images: the images data-driven criteria rank on (the `calibration` set of them).
    ///   - fineTune: trains the network after pruning step `step` (1…`steps`), between the steps
    ///     and once at the end (`Result.fineTuned`); nil: no fine-tuning.
    ///   - trainFromScratch: trains a fresh network of the pruned architecture (initialised with
    ///     `seed`); nil: no scratch control.
    ///   - observe: receives each step and, at the end, the groups' changes.
    /// - Throws: ``StudyError`` for an unknown criterion, a target the network cannot reach, a failed removal.
    public func run(network: Network, test: ByteImages, calibration images: CalibrationImages,
                    fineTune: ((_ network: Network, _ step: Int) throws -> Network)? = nil,
                    trainFromScratch: ((_ fresh: Network) throws -> Network)? = nil,
                    observe: (Event) -> Void = { _ in }) throws -> Result {
        let criterion: any ImportanceCriterion = try studyStep { try ImportanceCriteria.named(self.criterion, seed: seed) }
        var provider: GroupPruner.StatisticsProvider?
        if criterion.need != .none {
            let calibrationData = UncheckedSendableBox(try images.images(calibration))
            let threads = self.threads
            let gradients = criterion.need == .gradients
            provider = { network, groups in
                try GroupCalibration.statistics(of: groups, in: network, on: calibrationData.value, gradients: gradients, threads: threads)
            }
        }
        images.progress.clear()
        let pruner = GroupPruner(criterion: criterion, allowResidual: allowResidual, maximumGroupRatio: maximumGroupRatio,
                                 allocation: allocation, statistics: provider)
        let steps = self.steps
        let outcome: GroupPruner.Outcome = try studyStep {
            do {
                return try pruner.prune(network, to: target, steps: steps) { step, current in
                    observe(.step(step, ArchitectureCost(current.architecture)))
                    guard let fineTune else { return current }
                    return try fineTune(current, step)
                }
            } catch let error as PruningTargetError {
                throw StudyError.target(error)
            }
        }
        let before = try studyStep { try ChannelGroups(network.architecture) }
        let after = try studyStep { try ChannelGroups(outcome.network.architecture) }
        let changes = before.groups.compactMap { group -> GroupPruneReport.GroupChange? in
            guard let removed = outcome.removed[group.name], !removed.isEmpty else { return nil }
            return GroupPruneReport.GroupChange(name: group.name, before: group.units, after: after.group(named: group.name)?.units ?? 0, removed: removed)
        }
        observe(.changes(changes))
        let fineTuned = try fineTune.map { try $0(outcome.network, steps) }
        var scratch: Network?
        if let trainFromScratch {
            var generator = SeededGenerator(seed: seed)
            scratch = try trainFromScratch(Network(architecture: outcome.network.architecture, generator: &generator))
        }
        let models = [network, outcome.network] + (fineTuned.map { [$0] } ?? []) + (scratch.map { [$0] } ?? [])
        return Result(original: network, pruned: outcome.network, fineTuned: fineTuned, scratch: scratch, criterionName: criterion.name,
                      calibrationDescription: criterion.need == .none ? nil : calibration.description, changes: changes,
                      measurements: Self.measure(models, on: test, threads: threads, timingRuns: timingRuns))
    }

    /// Accuracy, size and best-of-`timingRuns` inference speed of each model, timed in turn so
    /// that a change of machine load touches them all alike.
    public static func measure(_ models: [Network], on test: ByteImages, threads: Int, timingRuns: Int) -> [GroupPruneReport.Measurement] {
        let evaluator = Evaluator(threads: threads)
        var best = [Double](repeating: 0, count: models.count)
        var accuracy = [Double](repeating: 0, count: models.count)
        for _ in 0..<max(1, timingRuns) {
            for (index, model) in models.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                let evaluation = evaluator.evaluate(model, on: test)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best[index] = max(best[index], Double(test.count) / seconds)
                accuracy[index] = evaluation.accuracy
            }
        }
        return models.indices.map { index in
            let cost = ArchitectureCost(models[index].architecture)
            return GroupPruneReport.Measurement(parameters: cost.parameters, multiplyAccumulates: cost.multiplyAccumulates,
                                                fileBytes: Checkpoint.safeTensors(of: models[index]).encoded().count,
                                                accuracy: (accuracy[index] * 100).rounded() / 100, imagesPerSecond: best[index].rounded())
        }
    }
}

/// A value handed to the calibration provider, which runs on the caller's thread only.
struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
