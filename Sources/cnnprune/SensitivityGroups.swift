import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

extension SensitivityCommand {
    /// `sensitivity` over every channel group of any network: each prunable group on its own,
    /// 0 %, 10 %, … 90 % of its channels masked; every other group listed with why it is not
    /// prunable (never as a flat curve).
    func runGroups(_ loaded: LoadedModel, start: UInt64, status: StatusLine) throws -> (curves: [ModelCurve], classes: Int) {
        if keepBias { throw CLIError("--keep-bias zeroes a SimpleCNN layer's weights only; a channel group is masked whole (filters, biases and BatchNorms)") }
        let network = loaded.network
        let groups = try pruningStep { try ChannelGroups(network.architecture) }
        let chosen = try GroupStudy.criteria(criterion, seed: calibrationOptions.seed)[0]
        let calibration = calibrationOptions.set
        status.show("reading the \(data.dataset.displayName) test set")
        let test = try data.load(.test)
        try data.check(network, fits: test, model: model, metadata: loaded.metadata)
        let images = CalibrationImages(data: data, test: test, seed: calibrationOptions.seed, threads: threading.threads, status: status)
        let prunable = groups.prunable(allowResidual: pruneResidual)
        guard !prunable.isEmpty else {
            throw CLIError("\(model): has no prunable channel group\(pruneResidual ? "" : " (groups coupled through residual sums need --prune-residual)")")
        }
        let statistics = try GroupStudy.statistics(of: prunable, in: network, criteria: [chosen], calibration: calibration, images: images)
        status.show("masking \(prunable.count) groups at 10 fractions on \(grouped(test.count)) test images")
        let result = try pruningStep {
            try GroupSensitivity.run(network: network, groups: groups.groups, allowResidual: pruneResidual, request: GroupSweepRequest(criterion: chosen),
                                     evaluationData: test, threads: threading.threads, statistics: statistics)
        }
        status.clear()
        let architecture = loaded.graph.name ?? "custom architecture"
        let classes = network.architecture.outputShape.reduce(1, *)
        let baseline = result.curves.first?.baseline.accuracy ?? 0
        let calibrationText = GroupStudy.calibrationText(calibration, [chosen])
        let chart = GroupStudy.sensitivityChart(title: "Sensitivity of \(architecture)'s channel groups (\(chosen.name), ranked on \(calibrationText))",
                                                result: result, classes: classes)
        let document = GroupStudy.SensitivityFile(
            model: model, architecture: architecture, criterion: chosen.name,
            calibration: chosen.need == .none ? "none (weights only)" : calibration.description,
            evaluation: "\(data.dataset.displayName) test set, \(test.count) images", baselineAccuracy: rounded(baseline),
            seconds: rounded(seconds(since: start), 3),
            layers: result.curves.map { curve in
                GroupStudy.SensitivityFile.Layer(
                    layer: curve.group.name, units: curve.group.units, residual: curve.group.isResidual, producers: curve.group.producers,
                    fractions: curve.fractions,
                    points: curve.sweep.points.map { PointDocument(k: $0.k, accuracy: rounded($0.accuracy), correct: $0.correct, total: $0.total,
                                                                   maskedCount: $0.masked.count, masked: $0.masked) },
                    scores: curve.sweep.scores, ranking: curve.sweep.ranking)
            },
            unprunable: result.unprunable.map { GroupStudy.SensitivityFile.Unprunable(layer: $0.group, reason: $0.reason) })
        let files = try ReportFiles.write(document, csv: GroupStudy.sensitivityCSV(result), chart: chart, to: URL(fileURLWithPath: output), base: "sensitivity")
        print("Sensitivity of \(model) (\(architecture), test accuracy \(format(baseline, 2)) % unpruned): each channel group pruned on its own, "
              + "ranked by \(chosen.name) on \(calibrationText), channels masked whole, no fine-tuning")
        print("")
        print(GroupStudy.sensitivityTable(result))
        print("")
        print(chart.terminalText(width: 78, height: 22))
        print("")
        print("Wrote \(files.joined(separator: ", ")) in \(format(seconds(since: start), 2)) s")
        return (ModelCurve.sensitivity(document), classes)
    }
}
