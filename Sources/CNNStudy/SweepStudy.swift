import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// One model's sweep with its report, as `cnnprune sweep` runs it: rank the units of a SimpleCNN
/// layer or of a channel group of any network with each criterion, mask the K least important
/// for each K, measure the accuracy on the evaluation images, and write `sweep.json`,
/// `sweep.csv`, `sweep.svg` and `sweep.png`.
///
/// A SimpleCNN layer is studied with the exercise's policy (``runLayer(_:of:model:test:images:fineTuning:progress:output:start:)``):
/// its masking method (`SweepMethod`: kept biases, the exercise's loop), several calibration
/// sets, and optionally the removed model fine-tuned per K. Any other group
/// (``runGroup(_:of:test:images:progress:output:start:)``) is masked whole.
public struct SweepStudy {
    /// The criteria, in the order to report them.
    public var criteria: [any ImportanceCriterion]
    /// The K values.
    public var counts: [Int]
    /// Where data-driven criteria rank (the exercise's loop always ranks on the test set).
    public var calibration: CalibrationSet
    /// How a SimpleCNN layer's units are masked; a channel group is masked whole.
    public var method: SweepMethod
    /// Evaluation workers.
    public var threads: Int
    /// The model file's name, for the reports.
    public var modelPath: String
    /// The data set's name, for the reports (e.g. `CIFAR-10`).
    public var datasetName: String

    /// A study of `criteria` at `counts` (see the properties).
    /// - Parameters:
    ///   - criteria: the criteria, in report order.
    ///   - counts: the K values.
    ///   - calibration: where data-driven criteria rank.
    ///   - method: how a SimpleCNN layer's units are masked.
    ///   - threads: evaluation workers.
    ///   - modelPath: the model file's name, for the reports.
    ///   - datasetName: the data set's name, for the reports.
    public init(criteria: [any ImportanceCriterion], counts: [Int], calibration: CalibrationSet, method: SweepMethod,
                threads: Int, modelPath: String, datasetName: String) {
        self.criteria = criteria
        self.counts = counts
        self.calibration = method == .exerciseLoop ? .test : calibration
        self.method = method
        self.threads = threads
        self.modelPath = modelPath
        self.datasetName = datasetName
    }

    /// Sweeps `layer` of the SimpleCNN `network` and writes the report into `output`.
    /// - Parameters:
    ///   - layer: the layer to mask.
    ///   - network: the trained network.
    ///   - model: its layer widths, for removal when fine-tuning.
    ///   - test: the evaluation images.
    ///   - images: the calibration images.
    ///   - fineTuning: when given, each criterion's K lowest-ranked units are removed and the
    ///     network fine-tuned with this recipe, then evaluated again (`FineTunedSweep`).
    ///   - progress: phases, and the fine-tuning's live progress and notes.
    ///   - output: the directory for the files.
    ///   - start: when the study began (`DispatchTime` nanoseconds), for the seconds it reports;
    ///     by default now.
    /// - Throws: `StudyError` for a pruning or removal failure, a diverged fine-tuning or a file
    ///   not written.
    public func runLayer(_ layer: PrunableLayer, of network: Network, model: SimpleCNN, test: ByteImages, images: CalibrationImages,
                         fineTuning: FineTuning?, progress: any StudyProgress, output: URL,
                         start: UInt64 = DispatchTime.now().uptimeNanoseconds) throws -> StudyReport {
        let exerciseLoop = method == .exerciseLoop
        let requests = criteria.map { criterion in
            SweepRequest(criterion: criterion, calibration: calibration, method: method,
                         label: exerciseLoop ? "\(criterion.name) (exercise's loop)" : criterion.name)
        }
        progress.show("evaluating \(requests.count) × \(counts.count) masked models on \(grouped(test.count)) test images")
        let result = try studyStep {
            try Sweep.run(network: network, layer: layer, requests: requests, counts: counts, evaluationData: test,
                          threads: threads, statistics: images.provider(for: layer))
        }
        progress.clear()
        let sweeps = result.sweeps
        let baseline = result.baseline.accuracy
        let classes = network.architecture.outputShape.reduce(1, *)
        let fineTuned = try fineTuning.map {
            try fineTune(sweeps, recipe: $0, network: network, model: model, layer: layer, images: images, test: test, progress: progress)
        }
        let how = exerciseLoop ? "the exercise's loop" : (method.keepsBias ? "bias kept" : "weights and bias zeroed")
        let chart = ReportFiles.accuracyChart(
            title: "Pruning \(layer.name): \(how), ranked on \(calibrationTitle)",
            layer: layer, sweeps: sweeps, classes: classes, fineTuned: fineTuned)
        let document = ReportFiles.sweepDocument(
            model: modelPath, layer: layer, calibration: calibration, sweeps: sweeps, evaluationImages: test.count,
            baseline: baseline, seconds: seconds(since: start), seedCompatible: exerciseLoop, keepBias: method.keepsBias,
            fineTuned: fineTuned, datasetName: datasetName)
        let files = try ReportFiles.write(document, csv: ReportFiles.sweepCSV(sweeps, fineTuned: fineTuned), chart: chart,
                                          to: output, base: "sweep")
        var header = [
            "Pruning \(layer.name) (\(layer.unitCount) \(layer.unitName)s) of \(modelPath): test accuracy \(format(baseline, 2)) % unpruned",
            "Ranking: \(criteria.map(\.name).joined(separator: ", ")) on \(calibration.label)"
                + (criteria.allSatisfy { $0.need == .none } ? " (unused: these criteria read the weights only)" : ""),
            "Masking: \(ReportFiles.methodDescription(requests[0].method))",
        ]
        if let fineTuned {
            header.append("Fine-tuned: \(FineTuningDocument.text(fineTuned.recipe)) (\(plural(fineTuned.networksTrained, "network")) trained in \(format(fineTuned.seconds, 1)) s)")
        }
        return StudyReport(header: header, table: ReportFiles.table(sweeps, fineTuned: fineTuned), chart: chart, files: files,
                      curves: ModelCurve.sweep(document.criteria), classes: classes)
    }

    /// Removes each sweep's K lowest-ranked units, fine-tunes and evaluates (`FineTunedSweep`),
    /// reporting each network's progress and each point to `progress`.
    private func fineTune(_ sweeps: [CriterionSweep], recipe: FineTuning, network: Network, model: SimpleCNN, layer: PrunableLayer,
                          images: CalibrationImages, test: ByteImages, progress: any StudyProgress) throws -> FineTunedResults {
        let start = DispatchTime.now().uptimeNanoseconds
        let train = try images.trainingSet()
        progress.clear()
        let rankings = sweeps.map(\.ranking)
        let names = sweeps.map(\.request.label)
        let jobs = FineTunedSweep.jobCount(rankings: rankings, counts: counts)
        progress.transientNote("fine-tuning \(plural(jobs, "network")) × \(plural(recipe.epochs, "epoch")) on \(grouped(train.count)) training images")
        let points: [[FineTunedPoint]] = try studyStep {
            do {
                return try FineTunedSweep.run(
                    network: network, model: model, layer: layer.name, rankings: rankings, counts: counts, fineTuning: recipe,
                    training: train, evaluationData: test, threads: threads,
                    progress: { step in
                        let name = names.indices.contains(step.ranking) ? names[step.ranking] : "ranking \(step.ranking + 1)"
                        progress.fineTuning("fine-tuning \(step.job)/\(step.jobs): \(name), K = \(step.k) of \(layer.name)",
                                            batch: step.batch, epochs: step.epochs, fraction: step.fraction)
                    },
                    onPoint: { r, point in
                        let before = sweeps[r].points.first { $0.k == point.k }.map { format($0.accuracy, 2) + " %" } ?? "–"
                        progress.transientNote("\(names[r]), K = \(point.k): \(before) → \(format(point.accuracy, 2)) % fine-tuned")
                    })
            } catch let error as NonFiniteLossError {
                throw StudyError.fineTuningDiverged(error)
            }
        }
        progress.clear()
        return FineTunedResults(recipe: recipe, points: points, trainingImages: train.count, networksTrained: jobs,
                                threads: threads, seconds: seconds(since: start))
    }

    /// What the ranking read, for the chart's title.
    private var calibrationTitle: String {
        if criteria.allSatisfy({ $0.need == .none }) { return "weights" }
        switch calibration {
        case .test: return "the test set"
        case .training: return "the training set"
        case .trainingSubset(let n): return "\(grouped(n)) train images"
        }
    }

    /// Sweeps channel group `group` of `loaded`'s network (masked whole: filters, biases,
    /// BatchNorms) and writes the report into `output`.
    /// - Parameters:
    ///   - group: the group to mask.
    ///   - loaded: the model.
    ///   - test: the evaluation images.
    ///   - images: the calibration images.
    ///   - progress: the study's phases.
    ///   - output: the directory for the files.
    ///   - start: when the study began (`DispatchTime` nanoseconds), for the seconds it reports;
    ///     by default now.
    /// - Throws: `StudyError` for a pruning failure or a file not written.
    public func runGroup(_ group: ChannelGroup, of loaded: LoadedModel, test: ByteImages, images: CalibrationImages,
                         progress: any StudyProgress, output: URL, start: UInt64 = DispatchTime.now().uptimeNanoseconds) throws -> StudyReport {
        let network = loaded.network
        let statistics = try GroupStudy.statistics(of: [group], in: network, criteria: criteria, calibration: calibration, images: images)
        progress.show("evaluating \(criteria.count) × \(counts.count) masked models on \(grouped(test.count)) test images")
        let result = try studyStep {
            try Sweep.run(network: network, group: group, requests: criteria.map { SweepRequest(criterion: $0) }, counts: counts,
                          evaluationData: test, threads: threads, statistics: statistics[group.name])
        }
        progress.clear()
        let architecture = loaded.graph.name ?? "custom architecture"
        let classes = network.architecture.outputShape.reduce(1, *)
        let calibrationText = GroupStudy.calibrationText(calibration, criteria)
        let chart = GroupStudy.chart(title: "Pruning \(group.name) of \(architecture): channels masked, ranked on \(calibrationText)",
                                     group: group, sweeps: result.sweeps, classes: classes)
        let document = GroupStudy.SweepFile(
            model: modelPath, architecture: architecture, layer: group.name, units: group.units, members: group.members.map(\.tensor),
            producers: group.producers, residual: group.isResidual, calibration: calibration.description,
            evaluation: "\(datasetName) test set, \(test.count) images", baselineAccuracy: rounded(result.baseline.accuracy),
            seconds: rounded(seconds(since: start), 3), criteria: result.sweeps.map { GroupStudy.document($0, calibration: calibration) })
        let files = try ReportFiles.write(document, csv: GroupStudy.csv(result.sweeps), chart: chart, to: output, base: "sweep")
        let coupling = group.isResidual ? ", coupled through residual sums: \(group.producers.joined(separator: ", "))" : ""
        let header = [
            "Pruning \(group.name) of \(modelPath) (\(architecture), \(group.units) channels\(coupling)): test accuracy \(format(result.baseline.accuracy, 2)) % unpruned",
            "Ranking: \(criteria.map(\.name).joined(separator: ", ")) on \(calibrationText)",
            "Masking: for each K a fresh copy with the K lowest-ranked channels zeroed in every producer and BatchNorm (\(group.members.count) tensors)",
        ]
        return StudyReport(header: header, table: GroupStudy.table(result.sweeps), chart: chart, files: files,
                      curves: ModelCurve.sweep(document), classes: classes)
    }
}

/// What a one-model study (`SweepStudy`, `SensitivityStudy`) reports beside the files it wrote:
/// what a terminal shows, and the curves a several-model summary lines up.
public struct StudyReport {
    /// The lines that introduce the table: the model, the ranking and the masking.
    public var header: [String]
    /// The accuracy table.
    public var table: String
    /// The accuracy chart.
    public var chart: LineChart
    /// The files written, by name.
    public var files: [String]
    /// The curves, for a several-model summary.
    public var curves: [ModelCurve]
    /// The network's classes (for the chance level of a summary chart).
    public var classes: Int
}
