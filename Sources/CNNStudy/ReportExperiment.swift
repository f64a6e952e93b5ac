import CNNCharts
import CNNEngine
import CNNPruning
import Foundation

/// Everything `experiment` measured, and the files and report made from it: the typed result of
/// ``ExperimentStudy/run(models:train:test:progress:)``.
///
/// The sweeps of `conv2` (``sweeps``) come in ``SweepPlan``'s order: the exercise's loop, the two
/// steps of the ablation, the corrected method, then every other criterion. ``markdown(totalSeconds:)``,
/// ``summaryDocument(totalSeconds:)``, ``sweepDocument()`` and the chart functions turn them into
/// the report's text, JSON and figures; ``write(to:totalSeconds:)`` writes them all.
public struct ExperimentReport {
    /// Where model 0 came from: the report says so, and `experiment.json` records its training.
    public enum ModelOrigin: Sendable {
        /// A model file given to the study.
        case loaded(path: String)
        /// A model trained for the study and saved at `path`: its epochs, and the recipe in words
        /// (`Adam, lr 0.001, batch 64, seed 0`).
        case trained(path: String, epochs: [EpochRecord], recipe: String)

        /// The model file.
        public var path: String {
            switch self {
            case .loaded(let path), .trained(let path, _, _): return path
            }
        }

        /// Whether the model was trained by this run.
        public var isTrained: Bool {
            if case .trained = self { return true }
            return false
        }
    }

    /// Seconds of each step, for the report's timing line and `experiment.json`.
    public struct Timings: Sendable {
        /// Training model 0, when the caller trained it for the study.
        public var training: Double?
        /// Evaluating the unpruned model.
        public var evaluation = 0.0
        /// Every `conv2` sweep, the calibration pass included.
        public var sweeps = 0.0
        /// The sensitivity analysis.
        public var sensitivity = 0.0
        /// Removal, fine-tuning and timing.
        public var removal = 0.0
        /// The training (when trained for the study), criteria sweeps and sensitivity of models 1… of a `--seeds` study.
        public var otherModels: Double?
        /// The whole run.
        public var total = 0.0

        /// No step timed yet.
        public init() {}
    }

    /// The conv2 sweeps, in a fixed order the report refers to.
    public struct SweepPlan: Sendable {
        /// The calibration set of the corrected method and the other criteria.
        public let calibration: CalibrationSet
        /// The sweeps, in the order of the index constants below.
        public let requests: [SweepRequest]
        /// The exercise's loop.
        public static let exercise = 0
        /// Its ranking (test set) and zeroing (bias kept), but ranked once on a fresh copy per K.
        public static let rankedOnceBiasKept = 1
        /// As above with the bias zeroed too: the PyTorch peer's "fixed" curve.
        public static let rankedOnceBiasZeroed = 2
        /// The corrected method: mean activation on training images, ranked once, weights and bias zeroed.
        public static let corrected = 3
        /// The corrected method and the other criteria: `corrected...`.
        public static let criteria = 3

        /// The plan for ranking on `calibration`; `seed` seeds the random criterion.
        public init(calibration: CalibrationSet, seed: UInt64) {
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
            for name in ImportanceCriteria.layerStudyNames where name != "mean-activation" {
                requests.append(SweepRequest(criterion: try! ImportanceCriteria.named(name, seed: seed), calibration: calibration))
            }
            self.requests = requests
        }
    }

    /// Where model 0 came from.
    public let origin: ModelOrigin
    /// The trained, unpruned network.
    public let network: Network
    /// Its test evaluation (accuracy overall and per class).
    public let evaluation: Evaluation
    /// The data set's class names.
    public let classNames: [String]
    /// The layer the exercise prunes (`conv2`).
    public let layer: PrunableLayer
    /// The K values of every sweep.
    public let counts: [Int]
    /// The sweeps' requests, in the order ``sweeps`` follow.
    public let plan: SweepPlan
    /// Every `conv2` sweep, in ``plan``'s order.
    public let conv2: SweepResult
    /// Every prunable layer pruned on its own.
    public let sensitivity: SensitivityAnalysis
    /// Channels removed for real, fine-tuned and measured; `nil` when the layer is too narrow.
    public let removal: RemovalStudy?
    /// Every prunable layer's statistics on the calibration images.
    public let unitStatistics: [(layer: PrunableLayer, statistics: UnitStatistics)]
    /// Seconds of each step.
    public let timings: Timings
    /// Threads of every pass.
    public let threads: Int
    /// Seeds the calibration subset and the fine-tuning shuffle.
    public let seed: UInt64
    /// The command line the report says generated it (without the program name).
    public let arguments: [String]
    /// The data set's name in prose (`CIFAR-10`, `Fashion-MNIST`).
    public var datasetName = "CIFAR-10"
    /// With `--seeds N` (N > 1) or `--models`: the criteria sweeps and sensitivity over every model.
    public var seedStudy: SeedStudy?

    /// Classes of the data set.
    public var classes: Int { classNames.count }
    /// Chance accuracy (%).
    public var chance: Double { 100 / Double(classes) }
    /// Every `conv2` sweep, in ``plan``'s order.
    public var sweeps: [CriterionSweep] { conv2.sweeps }
    /// The exercise's loop: re-ranked on the test set before each K, cumulative, bias kept.
    public var exercise: CriterionSweep { sweeps[SweepPlan.exercise] }
    /// The corrected method: mean activation ranked once on the calibration set, weights and bias zeroed.
    public var corrected: CriterionSweep { sweeps[SweepPlan.corrected] }
    /// The corrected method and every other criterion.
    public var criteria: [CriterionSweep] { Array(sweeps[SweepPlan.criteria...]) }
    /// From the exercise's loop to the corrected method, one change at a time.
    public var ablation: [CriterionSweep] { Array(sweeps[0...SweepPlan.corrected]) }

    // MARK: Charts

    /// `exercise.png`: the exercise's loop against the corrected method.
    public func exerciseChart() -> LineChart {
        let series = [
            ChartSeries(name: "exercise's loop (test-set ranking, cumulative, bias kept)", x: ks(exercise), y: accuracies(exercise)),
            ChartSeries(name: "corrected (ranked once on \(plan.calibration.description), bias zeroed)", x: ks(corrected), y: accuracies(corrected)),
            ReportFiles.chanceSeries(from: Double(counts.first ?? 0), to: Double(counts.last ?? 0), classes: classes),
        ]
        return LineChart(title: "\(layer.name): the exercise's loop vs the corrected method",
                         xLabel: "K (channels of \(layer.name) pruned)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    /// `ablation.png`: what each of the loop's mistakes costs.
    public func ablationChart() -> LineChart {
        let labels = ["exercise's loop", "ranked once, bias kept (test set)", "ranked once, bias zeroed (test set)",
                      "ranked once, bias zeroed (\(plan.calibration.description))"]
        var series = zip(ablation, labels).map { sweep, label in ChartSeries(name: label, x: ks(sweep), y: accuracies(sweep)) }
        series.append(ReportFiles.chanceSeries(from: Double(counts.first ?? 0), to: Double(counts.last ?? 0), classes: classes))
        return LineChart(title: "\(layer.name): what each of the loop's mistakes costs",
                         xLabel: "K (channels of \(layer.name) pruned)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    /// `sweep.png`: the criteria compared (corrected method).
    public func criteriaChart() -> LineChart {
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

    /// Writes every file into `directory` — `exercise`, `ablation`, `sweep`, `sensitivity` (and
    /// `seeds`) charts and data, `experiment.json`, `report.md` — and returns their paths.
    /// `totalSeconds` is the whole run's time, for the report and `experiment.json`.
    public func write(to directory: URL, totalSeconds: Double) throws -> [String] {
        var files: [String] = []
        for (name, chart) in [("exercise", exerciseChart()), ("ablation", ablationChart())] {
            for (ext, data) in [("svg", Data(chart.svg().utf8)), ("png", try chart.pngData())] {
                let url = directory.appendingPathComponent("\(name).\(ext)")
                try ReportFiles.writeFile(data, to: url)
                files.append(url.path)
            }
        }
        files += try ReportFiles.write(sweepDocument(), csv: sweepCSV(), chart: criteriaChart(), to: directory, base: "sweep")
        files += try sensitivity.write(model: origin.path, baseline: evaluation.accuracy, seconds: timings.sensitivity, classes: classes,
                                       to: directory, base: "sensitivity")
        if let seedStudy { files += try seedStudy.write(to: directory) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let summaryURL = directory.appendingPathComponent("experiment.json")
        try ReportFiles.writeFile(try encoder.encode(summaryDocument(totalSeconds: totalSeconds)) + Data("\n".utf8), to: summaryURL)
        files.append(summaryURL.path)
        let reportURL = directory.appendingPathComponent("report.md")
        try ReportFiles.writeFile(Data(markdown(totalSeconds: totalSeconds).utf8), to: reportURL)
        files.append(reportURL.path)
        return files
    }

    /// `sweep.json`: every `conv2` sweep with its scores, ranking and masked channels per K.
    public func sweepDocument() -> SweepDocument {
        ReportFiles.sweepDocument(
            model: origin.path, layer: layer, calibration: plan.calibration, sweeps: sweeps, evaluationImages: evaluation.total,
            baseline: evaluation.accuracy, seconds: timings.sweeps, seedCompatible: false, keepBias: false, datasetName: datasetName)
    }

    /// `sweep.csv`: one row per sweep and K.
    public func sweepCSV() -> String { ReportFiles.sweepCSV(sweeps) }

    /// `experiment.json`: the headline figures, the exercise's loop and the corrected method, the removal table and the timings.
    public struct SummaryDocument: Encodable, Sendable {
        /// The model file.
        public var model: String
        /// Whether this run trained the model.
        public var trainedHere: Bool
        /// Test accuracy (%).
        public var accuracy: Double
        /// Test images classified correctly.
        public var correct: Int
        /// Test images.
        public var total: Int
        /// Accuracy per class.
        public var perClass: [ClassAccuracy]
        /// The training epochs, if trained here.
        public var training: [EpochRecord]?
        /// The layer (or channel group) name.
        public var layer: String
        /// The calibration set, as given on the command line (`train:5000`).
        public var calibration: String
        /// The exercise's loop.
        public var exerciseLoop: [PointDocument]
        /// The corrected method.
        public var corrected: [PointDocument]
        /// Channels removed for real, fine-tuned and measured (the report's removal table).
        public var removal: RemovalStudy.Document?
        /// Seconds the step took.
        public var seconds: [String: Double]

        enum CodingKeys: String, CodingKey {
            case model, accuracy, correct, total, training, layer, calibration, corrected, seconds, removal
            case trainedHere = "trained_here"
            case perClass = "per_class"
            case exerciseLoop = "exercise_loop"
        }
    }

    /// `experiment.json`; `totalSeconds` is the whole run's time.
    public func summaryDocument(totalSeconds: Double) -> SummaryDocument {
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

    /// A few lines for the terminal: the two headline curves, the best criterion, the removal table.
    public func summary(directory: URL) -> String {
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
