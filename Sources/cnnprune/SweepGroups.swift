import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

extension SweepCommand {
    /// `sweep` on a channel group of any network: every group criterion, ranked once, a fresh
    /// masked copy per K, the layers before the group run once per batch for all copies.
    func runGroups(_ loaded: LoadedModel, start: UInt64, status: StatusLine) throws -> (curves: [ModelCurve], classes: Int) {
        if seedCompatible { throw CLIError("--seed-compatible is the exercise's loop on the SimpleCNN's layers; \(model) holds \(loaded.summary) (or --layer/--criterion name a channel group study)") }
        if keepBias { throw CLIError("--keep-bias zeroes a SimpleCNN layer's weights only; a channel group is masked whole (filters, biases and BatchNorms)") }
        if finetuneEpochs > 0 { throw CLIError("--finetune-epochs in a sweep works on the SimpleCNN's layers; for a channel group use `cnnprune prune --layer GROUP --k K --finetune-epochs N`") }
        let network = loaded.network
        let groups = try pruningStep { try ChannelGroups(network.architecture) }
        let group = try GroupStudy.group(layer, in: groups, allowResidual: pruneResidual, model: model)
        let counts = try k.map(parseCounts) ?? PruningCounts.defaultCounts(units: group.units)
        for count in counts where !(0...group.units).contains(count) {
            throw CLIError(PruningError.countOutOfRange(count, layer: group.name, units: group.units, unitName: "channel").description)
        }
        let criteria = try GroupStudy.criteria(criterion, seed: calibrationOptions.seed)
        let calibration = calibrationOptions.set
        status.show("reading the \(data.dataset.displayName) test set")
        let test = try data.load(.test)
        try data.check(network, fits: test, model: model, metadata: loaded.metadata)
        let images = CalibrationImages(data: data, test: test, seed: calibrationOptions.seed, threads: threading.threads, status: status)
        let statistics = try GroupStudy.statistics(of: [group], in: network, criteria: criteria, calibration: calibration, images: images)
        status.show("evaluating \(criteria.count) × \(counts.count) masked models on \(grouped(test.count)) test images")
        let result = try pruningStep {
            try GroupSweep.run(network: network, group: group, requests: criteria.map { GroupSweepRequest(criterion: $0) }, counts: counts,
                               evaluationData: test, threads: threading.threads, statistics: statistics[group.name])
        }
        status.clear()
        let architecture = loaded.graph.name ?? "custom architecture"
        let classes = network.architecture.outputShape.reduce(1, *)
        let calibrationText = GroupStudy.calibrationText(calibration, criteria)
        let chart = GroupStudy.chart(title: "Pruning \(group.name) of \(architecture): channels masked, ranked on \(calibrationText)",
                                     group: group, sweeps: result.sweeps, classes: classes)
        let elapsed = seconds(since: start)
        let document = GroupStudy.SweepFile(
            model: model, architecture: architecture, layer: group.name, units: group.units, members: group.members.map(\.tensor),
            producers: group.producers, residual: group.isResidual, calibration: calibration.description,
            evaluation: "\(data.dataset.displayName) test set, \(test.count) images", baselineAccuracy: rounded(result.baseline.accuracy),
            seconds: rounded(elapsed, 3), criteria: result.sweeps.map { GroupStudy.document($0, calibration: calibration) })
        let files = try ReportFiles.write(document, csv: GroupStudy.csv(result.sweeps), chart: chart, to: URL(fileURLWithPath: output), base: "sweep")
        print("Pruning \(group.name) of \(model) (\(architecture), \(group.units) channels\(group.isResidual ? ", coupled through residual sums: \(group.producers.joined(separator: ", "))" : "")): test accuracy \(format(result.baseline.accuracy, 2)) % unpruned")
        print("Ranking: \(criteria.map(\.name).joined(separator: ", ")) on \(calibrationText)")
        print("Masking: for each K a fresh copy with the K lowest-ranked channels zeroed in every producer and BatchNorm (\(group.members.count) tensors)")
        print("")
        print(GroupStudy.table(result.sweeps))
        print("")
        print(chart.terminalText(width: 78, height: 22))
        print("")
        print("Wrote \(files.joined(separator: ", ")) in \(format(seconds(since: start), 2)) s")
        return (ModelCurve.sweep(document), classes)
    }
}
