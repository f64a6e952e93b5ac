import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// The study of `cnnprune experiment` on any network other than the SimpleCNN, in its own layer
/// names: evaluate, sweep one channel group with every group criterion, and measure the
/// sensitivity of every group. The removal step (`prune --global-ratio`, fine-tuned and timed) is
/// the caller's: it goes into ``GroupExperimentReport/removal``.
public struct GroupExperimentStudy: Sendable {
    /// Ranks the swept group's channels for the data-driven criteria.
    public var calibration: CalibrationSet
    /// Seeds the calibration subset and the random criterion.
    public var seed: UInt64
    /// Threads of every pass.
    public var threads: Int
    /// Whether groups coupled through residual sums count as prunable.
    public var pruneResidual: Bool
    /// The data set's name in the report's prose.
    public var datasetName: String

    /// A study configured as given.
    public init(calibration: CalibrationSet = .default, seed: UInt64 = 0, threads: Int = 1, pruneResidual: Bool = false, datasetName: String = "CIFAR-10") {
        self.calibration = calibration
        self.seed = seed
        self.threads = threads
        self.pruneResidual = pruneResidual
        self.datasetName = datasetName
    }

    /// Runs the study on `network` (called `name`, from `origin`), sweeping `group` (one of its
    /// prunable channel groups, e.g. the last) with every group criterion — `bn-scale` only where
    /// the group has a BatchNorm — ranked on `train` or `test` as the calibration set says.
    /// - Throws: ``StudyError``.
    public func run(network: Network, name: String, origin: ExperimentReport.ModelOrigin, group: ChannelGroup,
                    train: ByteImages, test: ByteImages, progress: any StudyProgress = SilentProgress()) throws -> GroupExperimentReport {
        var timings: [String: Double] = [:]
        var phase = DispatchTime.now().uptimeNanoseconds
        progress.show("evaluating on \(grouped(test.count)) test images")
        let accuracy = Evaluator(threads: threads).evaluate(network, on: test).accuracy
        timings["evaluation"] = seconds(since: phase)

        // One group, every criterion.
        phase = DispatchTime.now().uptimeNanoseconds
        let groups = try studyStep { try ChannelGroups(network.architecture) }
        let criteria = try studyStep {
            try ImportanceCriteria.names
                .filter { $0 != "bn-scale" || !group.normalizations.isEmpty }
                .map { try ImportanceCriteria.named($0, seed: seed) }
        }
        let images = CalibrationImages(test: test, seed: seed, threads: threads, progress: progress, train: train)
        let prunable = groups.prunable(allowResidual: pruneResidual)
        let statistics = try GroupStudy.statistics(of: prunable, in: network, criteria: criteria, calibration: calibration, images: images)
        let counts = PruningCounts.defaultCounts(units: group.units)
        progress.show("pruning \(group.name): \(criteria.count) criteria × \(counts.count) values of K on \(grouped(test.count)) test images")
        let sweep = try studyStep {
            try Sweep.run(network: network, group: group, requests: criteria.map { SweepRequest(criterion: $0) }, counts: counts,
                               evaluationData: test, threads: threads, statistics: statistics[group.name])
        }
        timings["sweep"] = seconds(since: phase)

        // Sensitivity of every group (L1, Distiller's choice).
        phase = DispatchTime.now().uptimeNanoseconds
        progress.show("sensitivity of \(prunable.count) channel groups")
        let sensitivity = try studyStep {
            try Sensitivity.run(network: network, groups: groups.groups, allowResidual: pruneResidual,
                                     request: SweepRequest(criterion: L1Norm()), evaluationData: test, threads: threads)
        }
        timings["sensitivity"] = seconds(since: phase)
        progress.clear()

        return GroupExperimentReport(
            name: name, origin: origin, accuracy: accuracy, cost: ArchitectureCost(network.architecture), group: group,
            calibration: calibration, calibrationText: GroupStudy.calibrationText(calibration, criteria), sweep: sweep, sensitivity: sensitivity,
            classes: network.architecture.outputShape.reduce(1, *), testImages: test.count, datasetName: datasetName, threads: threads, timings: timings)
    }
}
