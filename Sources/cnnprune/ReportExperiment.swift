import CNNCharts
import CNNEngine
import CNNPruning
import Foundation

/// Everything `experiment` measured, and the files and report made from it.
struct ExperimentReport {
    enum ModelOrigin {
        case loaded(path: String)
        case trained(path: String, epochs: [EpochRecord], recipe: String)

        var path: String {
            switch self {
            case .loaded(let path), .trained(let path, _, _): return path
            }
        }

        /// Whether the model was trained by this run.
        var isTrained: Bool {
            if case .trained = self { return true }
            return false
        }
    }

    struct Timings {
        var training: Double?
        var evaluation = 0.0
        var sweeps = 0.0
        var sensitivity = 0.0
        var removal = 0.0
        /// The criteria sweeps and sensitivity of models 1… of a `--seeds` study.
        var otherModels: Double?
        var total = 0.0
    }

    /// The conv2 sweeps, in a fixed order the report refers to.
    struct SweepPlan {
        let calibration: CalibrationSet
        let requests: [SweepRequest]
        /// The exercise's loop.
        static let exercise = 0
        /// Its ranking (test set) and zeroing (bias kept), but ranked once on a fresh copy per K.
        static let rankedOnceBiasKept = 1
        /// As above with the bias zeroed too: the PyTorch peer's "fixed" curve.
        static let rankedOnceBiasZeroed = 2
        /// The corrected method: mean activation on training images, ranked once, weights and bias zeroed.
        static let corrected = 3
        /// The corrected method and the other criteria: `corrected...`.
        static let criteria = 3

        init(calibration: CalibrationSet, seed: UInt64) {
            self.calibration = calibration
            var requests = [
                SweepRequest(criterion: MeanActivation(), method: .exerciseLoop, label: "exercise's loop"),
                SweepRequest(criterion: MeanActivation(), calibration: .test, method: .rankOnce(keepBias: true),
                             label: "ranked once, bias kept, test-set ranking"),
                SweepRequest(criterion: MeanActivation(), calibration: .test, method: .rankOnce(keepBias: false),
                             label: "ranked once, bias zeroed, test-set ranking"),
                SweepRequest(criterion: MeanActivation(), calibration: calibration, method: .rankOnce(keepBias: false),
                             label: "corrected method (mean-activation)"),
            ]
            for name in ImportanceCriteria.names where name != "mean-activation" {
                requests.append(SweepRequest(criterion: try! ImportanceCriteria.named(name, seed: seed), calibration: calibration))
            }
            self.requests = requests
        }
    }

    let origin: ModelOrigin
    /// The trained, unpruned network.
    let network: Network
    let evaluation: Evaluation
    let classNames: [String]
    let layer: PrunableLayer
    let counts: [Int]
    let plan: SweepPlan
    let conv2: LayerSweepResult
    let sensitivity: SensitivityAnalysis
    /// Channels removed for real, fine-tuned and measured; `nil` when the layer is too narrow.
    let removal: RemovalStudy?
    /// Every prunable layer's statistics on the calibration images.
    let unitStatistics: [(layer: PrunableLayer, statistics: UnitStatistics)]
    let timings: Timings
    let threads: Int
    /// Seeds the calibration subset and the fine-tuning shuffle.
    let seed: UInt64
    let arguments: [String]
    /// The data set's name in prose (`CIFAR-10`, `Fashion-MNIST`).
    var datasetName = "CIFAR-10"
    /// With `--seeds N` (N > 1) or `--models`: the criteria sweeps and sensitivity over every model.
    var seedStudy: SeedStudy?

    var classes: Int { classNames.count }
    var chance: Double { 100 / Double(classes) }
    var sweeps: [CriterionSweep] { conv2.sweeps }
    var exercise: CriterionSweep { sweeps[SweepPlan.exercise] }
    var corrected: CriterionSweep { sweeps[SweepPlan.corrected] }
    var criteria: [CriterionSweep] { Array(sweeps[SweepPlan.criteria...]) }
    var ablation: [CriterionSweep] { Array(sweeps[0...SweepPlan.corrected]) }

    // MARK: Charts

    func exerciseChart() -> LineChart {
        let series = [
            ChartSeries(name: "exercise's loop (test-set ranking, cumulative, bias kept)", x: ks(exercise), y: accuracies(exercise)),
            ChartSeries(name: "corrected (ranked once on \(plan.calibration.description), bias zeroed)", x: ks(corrected), y: accuracies(corrected)),
            ReportFiles.chanceSeries(from: Double(counts.first ?? 0), to: Double(counts.last ?? 0), classes: classes),
        ]
        return LineChart(title: "\(layer.name): the exercise's loop vs the corrected method",
                         xLabel: "K (channels of \(layer.name) pruned)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    func ablationChart() -> LineChart {
        let labels = ["exercise's loop", "ranked once, bias kept (test set)", "ranked once, bias zeroed (test set)",
                      "ranked once, bias zeroed (\(plan.calibration.description))"]
        var series = zip(ablation, labels).map { sweep, label in ChartSeries(name: label, x: ks(sweep), y: accuracies(sweep)) }
        series.append(ReportFiles.chanceSeries(from: Double(counts.first ?? 0), to: Double(counts.last ?? 0), classes: classes))
        return LineChart(title: "\(layer.name): what each of the loop's mistakes costs",
                         xLabel: "K (channels of \(layer.name) pruned)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    func criteriaChart() -> LineChart {
        var series = criteria.map { sweep in
            ChartSeries(name: sweep.request.criterion.name, x: ks(sweep), y: accuracies(sweep),
                        lineStyle: sweep.request.criterion is RandomImportance ? .dashed : nil)
        }
        series.append(ReportFiles.chanceSeries(from: Double(counts.first ?? 0), to: Double(counts.last ?? 0), classes: classes))
        return LineChart(title: "\(layer.name): criteria compared (corrected method)",
                         xLabel: "K (channels of \(layer.name) pruned)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    private func ks(_ sweep: CriterionSweep) -> [Double] { sweep.points.map { Double($0.k) } }
    private func accuracies(_ sweep: CriterionSweep) -> [Double] { sweep.points.map(\.accuracy) }

    // MARK: Files

    /// Writes every file; returns their paths.
    func write(to directory: URL, totalSeconds: Double) throws -> [String] {
        var files: [String] = []
        for (name, chart) in [("exercise", exerciseChart()), ("ablation", ablationChart())] {
            for (ext, data) in [("svg", Data(chart.svg().utf8)), ("png", try chart.pngData())] {
                let url = directory.appendingPathComponent("\(name).\(ext)")
                try AtomicFile.write(data, to: url)
                files.append(url.path)
            }
        }
        let document = ReportFiles.sweepDocument(
            model: origin.path, layer: layer, calibration: plan.calibration, sweeps: sweeps, evaluationImages: evaluation.total,
            baseline: evaluation.accuracy, seconds: timings.sweeps, seedCompatible: false, keepBias: false, datasetName: datasetName)
        files += try ReportFiles.write(document, csv: ReportFiles.sweepCSV(sweeps), chart: criteriaChart(), to: directory, base: "sweep")
        files += try sensitivity.write(model: origin.path, baseline: evaluation.accuracy, seconds: timings.sensitivity, classes: classes,
                                       to: directory, base: "sensitivity")
        if let seedStudy { files += try seedStudy.write(to: directory) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let summaryURL = directory.appendingPathComponent("experiment.json")
        try AtomicFile.write(try encoder.encode(summaryDocument(totalSeconds: totalSeconds)) + Data("\n".utf8), to: summaryURL)
        files.append(summaryURL.path)
        let reportURL = directory.appendingPathComponent("report.md")
        try AtomicFile.write(markdown(totalSeconds: totalSeconds), to: reportURL)
        files.append(reportURL.path)
        return files
    }

    struct SummaryDocument: Encodable {
        var model: String
        var trainedHere: Bool
        var accuracy: Double
        var correct: Int
        var total: Int
        var perClass: [ClassAccuracy]
        var training: [EpochRecord]?
        var layer: String
        var calibration: String
        var exerciseLoop: [PointDocument]
        var corrected: [PointDocument]
        /// Channels removed for real, fine-tuned and measured (the report's removal table).
        var removal: RemovalStudy.Document?
        var seconds: [String: Double]

        enum CodingKeys: String, CodingKey {
            case model, accuracy, correct, total, training, layer, calibration, corrected, seconds, removal
            case trainedHere = "trained_here"
            case perClass = "per_class"
            case exerciseLoop = "exercise_loop"
        }
    }

    func summaryDocument(totalSeconds: Double) -> SummaryDocument {
        var training: [EpochRecord]?
        if case .trained(_, let epochs, _) = origin { training = epochs }
        var secondsTable = ["evaluation": rounded(timings.evaluation, 3), "sweeps": rounded(timings.sweeps, 3),
                            "sensitivity": rounded(timings.sensitivity, 3), "removal": rounded(timings.removal, 3),
                            "total": rounded(totalSeconds, 3)]
        if let t = timings.training { secondsTable["training"] = rounded(t, 3) }
        if let t = timings.otherModels { secondsTable["other_models"] = rounded(t, 3) }
        let points = { (sweep: CriterionSweep) in ReportFiles.criterionDocument(sweep).points }
        return SummaryDocument(
            model: origin.path, trainedHere: training != nil, accuracy: rounded(evaluation.accuracy), correct: evaluation.correct,
            total: evaluation.total,
            perClass: classNames.indices.map { ClassAccuracy(class: classNames[$0], accuracy: rounded(evaluation.accuracy(ofClass: $0))) },
            training: training, layer: layer.name, calibration: plan.calibration.description,
            exerciseLoop: points(exercise), corrected: points(corrected), removal: removal?.document, seconds: secondsTable)
    }

    /// A few lines for the terminal.
    func summary(directory: URL) -> String {
        var lines = ["Test accuracy \(format(evaluation.accuracy, 2)) %. Pruning \(layer.name) (K = \(counts.map(String.init).joined(separator: ", "))):"]
        lines.append("")
        lines.append(ReportFiles.table([exercise, corrected], headers: ["exercise's loop", "corrected method"]))
        lines.append("")
        let best = criteriaByMeanAccuracy().first!
        lines.append("Best criterion on \(layer.name): \(best.sweep.request.criterion.name) (mean accuracy \(format(best.mean, 2)) % over K = \(nonzeroKs))")
        if let removal {
            lines.append("")
            lines.append("\(layer.name)'s channels removed for real (ranked by \(removal.criterion) on \(removal.calibration.description)); images/s: best of \(removal.timingRuns) interleaved rounds, \(plural(removal.threads, "thread")); speed-up: median per-round ratio to the original:")
            lines.append("")
            lines.append(removal.table())
        }
        return lines.joined(separator: "\n")
    }
}
