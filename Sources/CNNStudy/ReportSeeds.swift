import CNNEngine
import CNNCharts
import CNNPruning
import CNNStatistics
import Foundation

/// `experiment --seeds N` (or `--models a,b,…`): the conv2 sweeps of every criterion (corrected
/// method) and the sensitivity analysis on each of N models, summarised over the models with
/// 95 % Student t intervals and paired comparisons (`MultiModelSweep`, `MultiModelSensitivity`).
public struct SeedStudy {
    /// What one model gave.
    public struct ModelRun {
        /// The model file (trained here or given).
        public var path: String
        /// Its training seed (and the seed of its calibration subset and random criterion).
        public var seed: UInt64
        /// Unpruned test accuracy (%).
        public var accuracy: Double
        /// The criteria sweeps, in `ExperimentReport.SweepPlan`'s criteria order.
        public var criteria: [CriterionSweep]
        /// Its sensitivity analysis.
        public var sensitivity: SensitivityAnalysis

        /// One model's results.
        public init(path: String, seed: UInt64, accuracy: Double, criteria: [CriterionSweep], sensitivity: SensitivityAnalysis) {
            self.path = path
            self.seed = seed
            self.accuracy = accuracy
            self.criteria = criteria
            self.sensitivity = sensitivity
        }
    }

    /// The curves every other criterion is compared against: random channels, and the
    /// exercise's criterion.
    public static let baselines = ["random", "mean-activation"]
    /// The fraction the sensitivity section reads each layer's drop at.
    public static let sensitivityFraction = 0.5

    /// What each model gave, model 0 first.
    public let runs: [ModelRun]
    /// The swept layer.
    public let layer: PrunableLayer
    /// The K values of every sweep.
    public let counts: [Int]
    /// Classes of the data set (for the chance line).
    public let classes: Int
    /// The calibration set of every model's ranking.
    public let calibration: CalibrationSet
    /// Each criterion's curve over the models, with the paired comparisons against the baselines.
    public let sweep: MultiModelSweep
    /// Each layer's sensitivity curve over the models.
    public let sensitivity: MultiModelSensitivity
    /// Unpruned test accuracy over the models.
    public let accuracy: MeanEstimate
    /// Fine-tuning recovery against the K = 0 control on every model (nil without fine-tuning).
    public var recovery: SeedRecovery?

    /// Summarises `runs` (model 0 first) over the models.
    public init(runs: [ModelRun], layer: PrunableLayer, counts: [Int], classes: Int, calibration: CalibrationSet) {
        self.runs = runs
        self.layer = layer
        self.counts = counts
        self.classes = classes
        self.calibration = calibration
        let xs = counts.map(Double.init)
        let curves = runs[0].criteria.indices.map { c in
            ReplicatedCurve(name: runs[0].criteria[c].request.criterion.name, xs: xs,
                            valuesByModel: runs.map { $0.criteria[c].points.map(\.accuracy) })
        }
        sweep = MultiModelSweep(curves: curves, baselines: Self.baselines)
        let layers = runs[0].sensitivity.curves.indices.map { l in
            ReplicatedCurve(name: runs[0].sensitivity.curves[l].group.name, xs: runs[0].sensitivity.curves[l].fractions,
                            valuesByModel: runs.map { $0.sensitivity.curves[l].sweep.points.map(\.accuracy) })
        }
        sensitivity = MultiModelSensitivity(layers: layers, fraction: Self.sensitivityFraction)
        accuracy = MeanEstimate(runs.map(\.accuracy))
    }

    /// How many models.
    public var modelCount: Int { runs.count }
    /// `1, 2, 3`.
    public var seedList: String { runs.map { String($0.seed) }.joined(separator: ", ") }
    /// `2…30`: the K > 0 measured.
    public var nonzeroKs: String {
        let ks = counts.filter { $0 > 0 }
        guard let first = ks.first, let last = ks.last else { return "—" }
        return first == last ? "\(first)" : "\(first)…\(last)"
    }

    // MARK: Files

    /// Writes `seeds.json`, `seeds.csv`, `seeds.svg` and `seeds.png`; returns their paths.
    public func write(to directory: URL) throws -> [String] {
        try ReportFiles.write(document, csv: csv, chart: chart(), to: directory, base: "seeds")
    }

    /// Each criterion's mean accuracy over the models as a line, with its 95 % interval as a
    /// shaded band of the same colour, clipped to 0…100 %. Tall, so that the legend leaves the
    /// plot room.
    public func chart() -> LineChart {
        var series: [ChartSeries] = []
        let palette = ChartColor.palette
        for (index, curve) in sweep.curves.enumerated() {
            let color = palette[index % palette.count]
            let marker = MarkerShape.allCases[index % MarkerShape.allCases.count]
            let band = zip(curve.xs, curve.points).map { x, point in
                ChartBandPoint(x: x, lower: point.interval.map { min(100, max(0, $0.lower)) } ?? .nan,
                               upper: point.interval.map { min(100, max(0, $0.upper)) } ?? .nan)
            }
            series.append(ChartSeries(name: "\(curve.name) (mean of \(modelCount))", x: curve.xs, y: curve.points.map(\.mean),
                                      lineStyle: .solid, marker: marker, color: color, band: band))
        }
        if let low = counts.first, let high = counts.last, high > low {
            series.append(ReportFiles.chanceSeries(from: Double(low), to: Double(high), classes: classes))
        }
        return LineChart(title: "\(layer.name): criteria over \(modelCount) models (mean, 95 % CI shaded)",
                         xLabel: "K (channels of \(layer.name) pruned)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100,
                         width: 1100, height: 1100)
    }

    /// One row per criterion and K: the mean, the interval's bounds, and each model's accuracy.
    public var csv: String {
        var rows = ["criterion,k,mean,ci_lower,ci_upper," + runs.indices.map { "model_\($0)_seed_\(runs[$0].seed)" }.joined(separator: ",")]
        for curve in sweep.curves {
            for (i, point) in curve.points.enumerated() {
                let fields = [curve.name, String(counts[i]), format(point.mean, 4), point.interval.map { format($0.lower, 4) } ?? "",
                              point.interval.map { format($0.upper, 4) } ?? ""] + curve.values(at: i).map { format($0, 2) }
                rows.append(fields.joined(separator: ","))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    package struct EstimateDocument: Encodable {
        var mean: Double
        var ciLower: Double?
        var ciUpper: Double?
        var perModel: [Double]

        package init(_ estimate: MeanEstimate, perModel: [Double]) {
            mean = rounded(estimate.mean, 4)
            ciLower = estimate.interval.map { rounded($0.lower, 4) }
            ciUpper = estimate.interval.map { rounded($0.upper, 4) }
            self.perModel = perModel.map { rounded($0, 4) }
        }

        enum CodingKeys: String, CodingKey {
            case mean
            case ciLower = "ci_lower"
            case ciUpper = "ci_upper"
            case perModel = "per_model"
        }
    }

    struct PointDocument: Encodable {
        var k: Int
        var accuracy: EstimateDocument
    }

    struct CriterionDocument: Encodable {
        var name: String
        var points: [PointDocument]
        var meanOverK: EstimateDocument

        enum CodingKeys: String, CodingKey {
            case name, points
            case meanOverK = "mean_over_k"
        }
    }

    package struct ComparisonDocument: Encodable {
        var criterion: String
        var baseline: String
        var difference: EstimateDocument
        var pValue: Double?
        var holmPValue: Double?
        var sentence: String

        package init(criterion: String, baseline: String, difference: EstimateDocument, pValue: Double?, holmPValue: Double?, sentence: String) {
            self.criterion = criterion
            self.baseline = baseline
            self.difference = difference
            self.pValue = pValue
            self.holmPValue = holmPValue
            self.sentence = sentence
        }

        enum CodingKeys: String, CodingKey {
            case criterion, baseline, difference, sentence
            case pValue = "p_value"
            case holmPValue = "holm_p_value"
        }
    }

    struct SensitivityPointDocument: Encodable {
        var fraction: Double
        var accuracy: EstimateDocument
    }

    struct SensitivityLayerDocument: Encodable {
        var layer: String
        var points: [SensitivityPointDocument]
    }

    struct ModelDocument: Encodable {
        var path: String
        var seed: UInt64
        var accuracy: Double
    }

    struct Document: Encodable {
        var layer: String
        var calibration: String
        var level: Double
        var meanOverK: String
        var test: String
        var models: [ModelDocument]
        var accuracy: EstimateDocument
        var criteria: [CriterionDocument]
        var comparisons: [ComparisonDocument]
        var sensitivity: [SensitivityLayerDocument]
        var sensitivityReading: String
        var recovery: SeedRecovery.Document?

        enum CodingKeys: String, CodingKey {
            case layer, calibration, level, test, models, accuracy, criteria, comparisons, sensitivity, recovery
            case meanOverK = "mean_over_k"
            case sensitivityReading = "sensitivity_reading"
        }
    }

    var document: Document {
        let criteria = zip(sweep.curves, sweep.meanOverPoints).map { curve, mean in
            CriterionDocument(name: curve.name,
                              points: curve.points.indices.map { PointDocument(k: counts[$0], accuracy: EstimateDocument(curve.points[$0], perModel: curve.values(at: $0))) },
                              meanOverK: EstimateDocument(mean, perModel: curve.perModelMean { $0 > 0 }))
        }
        let comparisons = sweep.comparisons.flatMap { entry in
            entry.results.map { result in
                ComparisonDocument(criterion: result.name, baseline: result.baseline,
                                   difference: EstimateDocument(MeanEstimate(result.differences), perModel: result.differences),
                                   pValue: result.comparison.test.map { rounded($0.pValue, 6) }, holmPValue: result.holmAdjustedPValue.map { rounded($0, 6) },
                                   sentence: result.sentence)
            }
        }
        let layers = sensitivity.layers.map { curve in
            SensitivityLayerDocument(layer: curve.name, points: curve.points.indices.map {
                SensitivityPointDocument(fraction: curve.xs[$0], accuracy: EstimateDocument(curve.points[$0], perModel: curve.values(at: $0)))
            })
        }
        return Document(
            layer: layer.name, calibration: calibration.description, level: 0.95,
            meanOverK: "per model, the mean accuracy over K = \(nonzeroKs) (K > 0); comparisons: paired t test over models of the per-model difference of these means, Holm-corrected across the criteria compared with the same baseline",
            test: "paired t test (scipy.stats.ttest_rel), two-sided, Student t 95 % intervals, Holm step-down correction",
            models: runs.map { ModelDocument(path: $0.path, seed: $0.seed, accuracy: rounded($0.accuracy)) },
            accuracy: EstimateDocument(accuracy, perModel: runs.map(\.accuracy)),
            criteria: criteria, comparisons: comparisons, sensitivity: layers, sensitivityReading: sensitivity.sentence,
            recovery: recovery?.document)
    }

    // MARK: Report

    /// `68.37 ± 0.52 %`: the mean with the interval's half-width.
    public func cell(_ estimate: MeanEstimate) -> String {
        guard let interval = estimate.interval else { return "\(format(estimate.mean, 2)) %" }
        return "\(format(estimate.mean, 2)) ± \(format(interval.halfWidth, 2)) %"
    }

    /// The report's section on all N models.
    public func markdown() -> [String] {
        var md: [String] = []
        md.append("## Across \(modelCount) models")
        md.append("")
        md.append("The sections above show model 0 alone. Here the \(layer.name) sweeps of every criterion (corrected method) and the sensitivity analysis are repeated on \(modelCount) models: seeds \(seedList), each model's calibration subset and random ranking seeded by its own seed. Unpruned test accuracy over the models: \(cell(accuracy)) (mean ± half-width of the 95 % interval; per model " + runs.map { format($0.accuracy, 2) }.joined(separator: ", ") + ").")
        md.append("")
        md.append("Intervals are Student t 95 % intervals over the models: they say how well \(modelCount) models pin down the recipe's mean, and they are wide with few models. Criteria are compared **paired** — same model, same K: for each model, the criterion's mean accuracy over K = \(nonzeroKs) minus the baseline's, then a paired t test over the models (`scipy.stats.ttest_rel`) with its 95 % interval, and Holm's correction across the criteria compared with the same baseline.")
        md.append("")
        md.append("![Criteria over \(modelCount) models](seeds.png)")
        md.append("")
        md.append("| K | " + sweep.curves.map(\.name).joined(separator: " | ") + " |")
        md.append("|---:|" + String(repeating: "---:|", count: sweep.curves.count))
        for i in counts.indices {
            md.append("| \(counts[i]) | " + sweep.curves.map { cell($0.points[i]) }.joined(separator: " | ") + " |")
        }
        md.append("| mean over K = \(nonzeroKs) | " + sweep.meanOverPoints.map { "**\(cell($0))**" }.joined(separator: " | ") + " |")
        md.append("")
        for baseline in Self.baselines {
            guard let results = sweep.comparisons(against: baseline) else { continue }
            md.append(baseline == "random" ? "Against random channels:" : "Against the exercise's criterion, \(baseline):")
            md.append("")
            for result in results { md.append("- \(capitalized(result.sentence)).") }
            md.append("")
        }
        md.append("Each layer pruned alone (\(runs[0].sensitivity.request.criterion.name) ranking), mean test accuracy over the \(modelCount) models:")
        md.append("")
        let curves = sensitivity.layers
        md.append("| pruned | " + curves.map(\.name).joined(separator: " | ") + " |")
        md.append("|---:|" + String(repeating: "---:|", count: curves.count))
        let fractions = Array(Set(curves.flatMap(\.xs))).sorted()
        for fraction in fractions {
            let cells = curves.map { curve in curve.xs.firstIndex(of: fraction).map { cell(curve.points[$0]) } ?? "—" }
            md.append("| \(Int((fraction * 100).rounded())) % | " + cells.joined(separator: " | ") + " |")
        }
        md.append("")
        md.append(capitalized(sensitivity.sentence) + ".")
        md.append("")
        if let recovery { md += recovery.markdown() }
        md.append("Every model's values are in `seeds.json` and `seeds.csv`.")
        md.append("")
        return md
    }

    /// A few lines for the terminal.
    public func summary() -> String {
        var lines = ["Across \(modelCount) models (seeds \(seedList)): test accuracy \(cell(accuracy))"]
        for result in sweep.comparisons(against: "random") ?? [] { lines.append("  " + capitalized(result.sentence)) }
        lines.append("  " + capitalized(sensitivity.sentence))
        if let recovery { lines.append("  " + capitalized(recovery.comparison.sentence)) }
        return lines.joined(separator: "\n")
    }
}

/// `text` with its first letter in upper case.
package func capitalized(_ text: String) -> String {
    text.prefix(1).uppercased() + text.dropFirst()
}
