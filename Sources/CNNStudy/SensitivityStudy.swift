import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// One model's sensitivity analysis with its report, as `cnnprune sensitivity` runs it: each
/// SimpleCNN layer, or each channel group of any network, pruned on its own at 0 %, 10 %, … 90 %
/// of its units, ranked once by one criterion, no fine-tuning; written as `sensitivity.json`,
/// `.csv`, `.svg` and `.png`.
public struct SensitivityStudy {
    /// The criterion that ranks each layer's or group's units.
    public var criterion: any ImportanceCriterion
    /// Where a data-driven criterion ranks.
    public var calibration: CalibrationSet
    /// Whether a SimpleCNN layer's masked units keep their bias (a group is masked whole).
    public var keepBias: Bool
    /// Evaluation workers.
    public var threads: Int
    /// The model file's name, for the reports.
    public var modelPath: String
    /// The data set's name, for the reports (e.g. `CIFAR-10`).
    public var datasetName: String

    /// An analysis with `criterion` (see the properties).
    /// - Parameters:
    ///   - criterion: ranks each layer's or group's units.
    ///   - calibration: where a data-driven criterion ranks.
    ///   - keepBias: whether a SimpleCNN layer's masked units keep their bias.
    ///   - threads: evaluation workers.
    ///   - modelPath: the model file's name, for the reports.
    ///   - datasetName: the data set's name, for the reports.
    public init(criterion: any ImportanceCriterion, calibration: CalibrationSet, keepBias: Bool, threads: Int,
                modelPath: String, datasetName: String) {
        self.criterion = criterion
        self.calibration = calibration
        self.keepBias = keepBias
        self.threads = threads
        self.modelPath = modelPath
        self.datasetName = datasetName
    }

    /// Analyses every prunable layer of the SimpleCNN `network` (`SensitivityAnalysis`) and
    /// writes the report into `output`.
    /// - Parameters:
    ///   - network: the trained network.
    ///   - test: the evaluation images.
    ///   - images: the calibration images.
    ///   - progress: the study's phases.
    ///   - output: the directory for the files.
    ///   - start: when the study began (`DispatchTime` nanoseconds), for the seconds it reports.
    /// - Throws: `StudyError` for a pruning failure or a file not written.
    public func runLayers(of network: Network, test: ByteImages, images: CalibrationImages, progress: any StudyProgress,
                          output: URL, start: UInt64 = DispatchTime.now().uptimeNanoseconds) throws -> StudyReport {
        let request = SweepRequest(criterion: criterion, calibration: calibration, method: .rankOnce(keepBias: keepBias))
        let analysis = try SensitivityAnalysis.run(network: network, request: request, test: test, images: images,
                                                   threads: threads, status: progress)
        progress.clear()
        let baseline = analysis.curves.first?.baseline.accuracy ?? 0
        let classes = network.architecture.outputShape.reduce(1, *)
        let files = try analysis.write(model: modelPath, baseline: baseline, seconds: seconds(since: start), classes: classes,
                                       to: output, base: "sensitivity")
        let header = ["Sensitivity of \(modelPath) (test accuracy \(format(baseline, 2)) % unpruned): each layer pruned on its own, "
                      + "ranked by \(criterion.name)\(criterion.need == .none ? "" : " on \(request.calibration.label)"), "
                      + (keepBias ? "weights zeroed, bias kept" : "weights and bias zeroed") + ", no fine-tuning"]
        return StudyReport(header: header, table: analysis.table(), chart: analysis.chart(classes: classes, title: nil), files: files,
                           curves: ModelCurve.sensitivity(analysis.document(model: modelPath, baseline: baseline, seconds: 0)),
                           classes: classes)
    }

    /// Analyses every channel group of `loaded`'s network (channels masked whole); groups that
    /// cannot be pruned are listed with why. Writes the report into `output`.
    /// - Parameters:
    ///   - loaded: the model.
    ///   - allowResidual: also analyse groups coupled through residual sums.
    ///   - test: the evaluation images.
    ///   - images: the calibration images.
    ///   - progress: the study's phases.
    ///   - output: the directory for the files.
    ///   - start: when the study began (`DispatchTime` nanoseconds), for the seconds it reports.
    ///   - explanation: why a group is not prunable, in the reports (by default
    ///     `ChannelGroup.whyNotPrunable(allowResidual:)`; a caller may add how to allow it).
    /// - Throws: `StudyError.noPrunableGroup` when no group is prunable, `StudyError.pruning`
    ///   when a pruning step fails, or a file not written.
    public func runGroups(of loaded: LoadedModel, allowResidual: Bool, test: ByteImages, images: CalibrationImages,
                          progress: any StudyProgress, output: URL, start: UInt64 = DispatchTime.now().uptimeNanoseconds,
                          explanation: ((ChannelGroup) -> String?)? = nil) throws -> StudyReport {
        let network = loaded.network
        let groups = try studyStep { try ChannelGroups(network.architecture) }
        let prunable = groups.prunable(allowResidual: allowResidual)
        guard !prunable.isEmpty else { throw StudyError.noPrunableGroup(residualExcluded: !allowResidual) }
        let statistics = try GroupStudy.statistics(of: prunable, in: network, criteria: [criterion], calibration: calibration, images: images)
        progress.show("masking \(prunable.count) groups at 10 fractions on \(grouped(test.count)) test images")
        var result = try studyStep {
            try Sensitivity.run(network: network, groups: groups.groups, allowResidual: allowResidual, request: SweepRequest(criterion: criterion),
                                evaluationData: test, threads: threads, statistics: statistics)
        }
        if let explanation {
            result.unprunable = result.unprunable.map { entry in
                (entry.group, groups.group(named: entry.group).flatMap(explanation) ?? entry.reason)
            }
        }
        progress.clear()
        let architecture = loaded.graph.name ?? "custom architecture"
        let classes = network.architecture.outputShape.reduce(1, *)
        let baseline = result.curves.first?.baseline.accuracy ?? 0
        let calibrationText = GroupStudy.calibrationText(calibration, [criterion])
        let chart = GroupStudy.sensitivityChart(title: "Sensitivity of \(architecture)'s channel groups (\(criterion.name), ranked on \(calibrationText))",
                                                result: result, classes: classes)
        let document = GroupStudy.SensitivityFile(
            model: modelPath, architecture: architecture, criterion: criterion.name,
            calibration: criterion.need == .none ? "none (weights only)" : calibration.description,
            evaluation: "\(datasetName) test set, \(test.count) images", baselineAccuracy: rounded(baseline),
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
        let files = try ReportFiles.write(document, csv: GroupStudy.sensitivityCSV(result), chart: chart, to: output, base: "sensitivity")
        let header = ["Sensitivity of \(modelPath) (\(architecture), test accuracy \(format(baseline, 2)) % unpruned): each channel group pruned on its own, "
                      + "ranked by \(criterion.name) on \(calibrationText), channels masked whole, no fine-tuning"]
        return StudyReport(header: header, table: GroupStudy.sensitivityTable(result), chart: chart, files: files,
                           curves: ModelCurve.sensitivity(document), classes: classes)
    }
}
