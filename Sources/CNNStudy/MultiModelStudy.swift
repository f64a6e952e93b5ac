import CNNCharts
import CNNEngine
import CNNStatistics
import Foundation

/// One model's curve in a several-model summary: a criterion's sweep or a layer's sensitivity,
/// its x values (K, or the fraction pruned) and test accuracies as that model's own files record
/// them (rounded to 2 places).
public struct ModelCurve: Sendable, Equatable {
    /// The criterion (a sweep) or the layer (a sensitivity analysis).
    public var name: String
    /// The x values: K for a sweep, the fraction pruned (0…1) for a sensitivity analysis.
    public var xs: [Double]
    /// Test accuracy (%) at each x.
    public var accuracies: [Double]

    /// A curve of one model.
    /// - Parameters:
    ///   - name: The criterion or layer.
    ///   - xs: The x values.
    ///   - accuracies: Test accuracy (%) at each x, as many as `xs`.
    public init(name: String, xs: [Double], accuracies: [Double]) {
        self.name = name
        self.xs = xs
        self.accuracies = accuracies
    }

    /// The curves of a sweep's criteria, as `sweep.json` records them.
    /// - Parameter criteria: The criteria of `sweep.json` (``SweepDocument/criteria``).
    public static func sweep(_ criteria: [CriterionDocument]) -> [ModelCurve] {
        criteria.map { ModelCurve(name: $0.name, xs: $0.points.map { Double($0.k) }, accuracies: $0.points.map(\.accuracy)) }
    }

    /// The curves of a sensitivity analysis's layers, as `sensitivity.json` records them.
    /// - Parameter document: The analysis's `sensitivity.json`.
    public static func sensitivity(_ document: SensitivityDocument) -> [ModelCurve] {
        document.layers.map { ModelCurve(name: $0.layer, xs: $0.points.map(\.fraction), accuracies: $0.points.map(\.accuracy)) }
    }

    /// The curves of a channel-group sensitivity analysis, as its `sensitivity.json` records them.
    package static func sensitivity(_ file: GroupStudy.SensitivityFile) -> [ModelCurve] {
        file.layers.map { ModelCurve(name: $0.layer, xs: $0.fractions, accuracies: $0.points.map(\.accuracy)) }
    }

    /// The curves of a channel-group sweep, as its `sweep.json` records them.
    package static func sweep(_ file: GroupStudy.SweepFile) -> [ModelCurve] { sweep(file.criteria) }
}

/// Curves of several models lined up: per curve and x the mean test accuracy with its 95 %
/// Student t interval, and the chart, CSV and JSON entries of a several-model summary.
public struct MultiModelCurves: Sendable {
    /// The models, in the order given.
    public let models: [String]
    /// The curves: per criterion (sweep) or per layer (sensitivity), over the models.
    public let curves: [ReplicatedCurve]
    /// Classes of the models' output, for the chance line.
    public let classes: Int

    /// Lines up every model's curves; every model must have the same curves at the same x.
    /// - Parameters:
    ///   - models: The models' names (their files), in order.
    ///   - curves: Each model's curves, in the order of `models`.
    ///   - classes: Classes of the models' output.
    /// - Throws: ``StudyError/differentCurves(model:curves:first:firstCurves:)`` when a model's
    ///   curves or x values differ from the first model's; ``StudyError/noModels`` for none.
    public init(models: [String], curves: [[ModelCurve]], classes: Int) throws {
        guard let first = curves.first, !models.isEmpty, models.count == curves.count else { throw StudyError.noModels }
        for (index, modelCurves) in curves.enumerated().dropFirst()
        where modelCurves.map(\.name) != first.map(\.name) || modelCurves.map(\.xs) != first.map(\.xs) {
            throw StudyError.differentCurves(model: models[index], curves: modelCurves.map(\.name), first: models[0], firstCurves: first.map(\.name))
        }
        self.models = models
        self.curves = first.indices.map { c in
            ReplicatedCurve(name: first[c].name, xs: first[c].xs, valuesByModel: curves.map { $0[c].accuracies })
        }
        self.classes = classes
    }

    /// The mean of each curve with its 95 % interval as a shaded band, plus the chance level.
    /// - Parameters:
    ///   - title: The chart's title, before " over N models".
    ///   - xLabel: The x axis's label.
    public func chart(title: String, xLabel: String) -> LineChart {
        let palette = ChartColor.palette
        var series = curves.enumerated().map { index, curve in
            ChartSeries(name: "\(curve.name) (mean of \(models.count))", x: curve.xs, y: curve.points.map(\.mean),
                        lineStyle: .solid, marker: MarkerShape.allCases[index % MarkerShape.allCases.count], color: palette[index % palette.count],
                        band: zip(curve.xs, curve.points).map { x, point in
                            ChartBandPoint(x: x, lower: point.interval.map { min(100, max(0, $0.lower)) } ?? .nan,
                                           upper: point.interval.map { min(100, max(0, $0.upper)) } ?? .nan)
                        })
        }
        let allXs = curves.flatMap(\.xs)
        if let low = allXs.min(), let high = allXs.max(), high > low {
            series.append(ReportFiles.chanceSeries(from: low, to: high, classes: classes))
        }
        return LineChart(title: "\(title) over \(models.count) models (mean, 95 % CI shaded)", xLabel: xLabel, yLabel: "Test accuracy (%)",
                         series: series, yRange: 0...100)
    }

    /// One row per curve and x: the mean, the interval's bounds, and each model's accuracy.
    /// - Parameter xName: The x column's header (`k`, `fraction`).
    public func csv(xName: String) -> String {
        var rows = ["curve,\(xName),mean,ci_lower,ci_upper," + models.indices.map { "model_\($0)" }.joined(separator: ",")]
        for curve in curves {
            for (i, point) in curve.points.enumerated() {
                let fields = [csvField(curve.name), format(curve.xs[i], 4), format(point.mean, 4),
                              point.interval.map { format($0.lower, 4) } ?? "", point.interval.map { format($0.upper, 4) } ?? ""]
                    + curve.values(at: i).map { format($0, 2) }
                rows.append(fields.joined(separator: ","))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    struct PointDocument: Encodable {
        var x: Double
        var accuracy: SeedStudy.EstimateDocument
    }

    struct CurveDocument: Encodable {
        var name: String
        var points: [PointDocument]
    }

    func curveDocuments() -> [CurveDocument] {
        curves.map { curve in
            CurveDocument(name: curve.name, points: curve.points.indices.map {
                PointDocument(x: curve.xs[$0], accuracy: SeedStudy.EstimateDocument(curve.points[$0], perModel: curve.values(at: $0)))
            })
        }
    }
}

/// `sweep --model a,b,…`'s summary: the criteria over the models — per criterion and K the mean
/// test accuracy with its 95 % interval, and every criterion compared *paired* (same model, same
/// K) with `random` and with the first criterion, Holm-corrected (`MultiModelSweep`).
public struct MultiModelSweepSummary: Sendable {
    /// The criteria's curves over the models.
    public let curves: MultiModelCurves
    /// The means over K > 0 and the paired comparisons.
    public let sweep: MultiModelSweep

    /// Summarises the models' sweeps.
    /// - Parameters:
    ///   - models: The models' names (their files), in order.
    ///   - curves: Each model's criteria (``ModelCurve/sweep(_:)``), in the order of `models`.
    ///   - classes: Classes of the models' output.
    /// - Throws: ``StudyError`` when the models' curves differ.
    public init(models: [String], curves: [[ModelCurve]], classes: Int) throws {
        self.curves = try MultiModelCurves(models: models, curves: curves, classes: classes)
        let names = self.curves.curves.map(\.name)
        var baselines = names.contains("random") ? ["random"] : []
        if let first = names.first, first != "random", names.count > 1 { baselines.append(first) }
        sweep = MultiModelSweep(curves: self.curves.curves, baselines: baselines)
    }

    struct Document: Encodable {
        var models: [String]
        var level = 0.95
        var test = "Student t 95 % intervals over the models; comparisons: paired t test over models of the per-model mean accuracy over K > 0, Holm-corrected across the criteria compared with the same baseline"
        var criteria: [MultiModelCurves.CurveDocument]
        var meanOverK: [String: SeedStudy.EstimateDocument]
        var comparisons: [SeedStudy.ComparisonDocument]
        enum CodingKeys: String, CodingKey {
            case models, level, test, criteria, comparisons
            case meanOverK = "mean_over_k"
        }
    }

    /// Writes `sweep-models.json`, `.csv`, `.svg` and `.png` into `directory`; returns their paths.
    /// - Parameter directory: The folder (it must exist).
    public func write(to directory: URL) throws -> [String] {
        let comparisons = sweep.comparisons.flatMap { entry in
            entry.results.map { result in
                SeedStudy.ComparisonDocument(criterion: result.name, baseline: result.baseline,
                                             difference: SeedStudy.EstimateDocument(MeanEstimate(result.differences), perModel: result.differences),
                                             pValue: result.comparison.test.map { rounded($0.pValue, 6) },
                                             holmPValue: result.holmAdjustedPValue.map { rounded($0, 6) }, sentence: result.sentence)
            }
        }
        let document = Document(
            models: curves.models, criteria: curves.curveDocuments(),
            meanOverK: Dictionary(uniqueKeysWithValues: zip(curves.curves, sweep.meanOverPoints).map { curve, mean in
                (curve.name, SeedStudy.EstimateDocument(mean, perModel: curve.perModelMean { $0 > 0 }))
            }),
            comparisons: comparisons)
        return try ReportFiles.write(document, csv: curves.csv(xName: "k"), chart: curves.chart(title: "Sweep", xLabel: "K (units pruned)"),
                                     to: directory, base: "sweep-models")
    }

    /// The summary in words, one line each: every criterion's mean accuracy over K > 0 with its
    /// interval, then every comparison's sentence.
    public var lines: [String] {
        var lines = ["Over \(curves.models.count) models (mean ± half-width of the 95 % interval):"]
        for (curve, mean) in zip(curves.curves, sweep.meanOverPoints) {
            lines.append("  \(curve.name): mean accuracy over K > 0 \(estimateCell(mean))")
        }
        for entry in sweep.comparisons {
            for result in entry.results { lines.append("  " + capitalized(result.sentence) + ".") }
        }
        return lines
    }
}

/// `sensitivity --model a,b,…`'s summary: each layer's sensitivity over the models, and which
/// layer loses most at ``fraction`` (`MultiModelSensitivity`).
public struct MultiModelSensitivitySummary: Sendable {
    /// The fraction pruned at which the layers' drops are compared.
    public static let fraction = 0.5
    /// The layers' curves over the models.
    public let curves: MultiModelCurves
    /// The drops at ``fraction`` and the reading.
    public let sensitivity: MultiModelSensitivity

    /// Summarises the models' sensitivity analyses.
    /// - Parameters:
    ///   - models: The models' names (their files), in order.
    ///   - curves: Each model's layers (``ModelCurve/sensitivity(_:)``), in the order of `models`.
    ///   - classes: Classes of the models' output.
    /// - Throws: ``StudyError`` when the models' curves differ.
    public init(models: [String], curves: [[ModelCurve]], classes: Int) throws {
        self.curves = try MultiModelCurves(models: models, curves: curves, classes: classes)
        sensitivity = MultiModelSensitivity(layers: self.curves.curves, fraction: Self.fraction)
    }

    struct Document: Encodable {
        var models: [String]
        var level = 0.95
        var layers: [MultiModelCurves.CurveDocument]
        var fraction: Double
        var reading: String
    }

    /// Writes `sensitivity-models.json`, `.csv`, `.svg` and `.png` into `directory`; returns
    /// their paths.
    /// - Parameter directory: The folder (it must exist).
    public func write(to directory: URL) throws -> [String] {
        let document = Document(models: curves.models, layers: curves.curveDocuments(), fraction: Self.fraction, reading: sensitivity.sentence)
        return try ReportFiles.write(document, csv: curves.csv(xName: "fraction"),
                                     chart: curves.chart(title: "Layer sensitivity", xLabel: "Fraction of the layer's units pruned"),
                                     to: directory, base: "sensitivity-models")
    }

    /// The summary in one line: which layer loses most.
    public var line: String { "Over \(curves.models.count) models: " + capitalized(sensitivity.sentence) + "." }
}

/// `prune --model a,b,…`'s summary: the test accuracies before pruning, pruned and fine-tuned
/// over the models, each with its 95 % interval, and the change from before to the final model
/// compared paired (same model).
public struct MultiModelPruneSummary: Sendable {
    /// The models' test accuracies (%) before pruning.
    public let before: [Double]
    /// After pruning.
    public let pruned: [Double]
    /// After fine-tuning, when every model was fine-tuned.
    public let fineTuned: [Double]?
    /// The final accuracy (fine-tuned, else pruned) against the one before, paired.
    public let change: PairedComparison
    /// The change in words.
    public let sentence: String

    /// Summarises the models' accuracies.
    /// - Parameters:
    ///   - before: Each model's test accuracy (%) before pruning.
    ///   - pruned: After pruning, in the same order.
    ///   - fineTuned: After fine-tuning, one per model where it ran (nil where it did not).
    public init(before: [Double], pruned: [Double], fineTuned: [Double?]) {
        self.before = before
        self.pruned = pruned
        let tuned = fineTuned.allSatisfy { $0 != nil } ? fineTuned.compactMap { $0 } : nil
        self.fineTuned = tuned
        let final = tuned ?? pruned
        change = PairedComparison(final, before)
        let what = tuned != nil ? "pruning and fine-tuning" : "pruning"
        if let interval = change.interval, let test = change.test {
            let p = test.pValue < 0.001 ? "p < 0.001" : String(format: "p = %.3f", test.pValue)
            let range = "95 % CI \(Self.signedPoints(interval.lower)) to \(Self.signedPoints(interval.upper)); paired t \(p)"
            sentence = interval.upper < 0 || interval.lower > 0
                ? "\(what) changes test accuracy by \(Self.signedPoints(change.meanDifference)) points over \(before.count) models (\(range))"
                : "no change of test accuracy by \(what) detected with \(before.count) models (mean \(Self.signedPoints(change.meanDifference)) points, \(range))"
        } else {
            sentence = "\(what) changes test accuracy by \(Self.signedPoints(change.meanDifference)) points (one model)"
        }
    }

    struct ChangeDocument: Encodable {
        var difference: SeedStudy.EstimateDocument
        var pValue: Double?
        var sentence: String
        enum CodingKeys: String, CodingKey {
            case difference, sentence
            case pValue = "p_value"
        }
    }

    /// The summary as one JSON object (sorted keys, pretty-printed): every model's report under
    /// `models`, then `before`, `pruned`, `fine_tuned` (if any) and `change`.
    /// - Parameter reports: Each model's report, in order.
    public func json(reports: [any Encodable]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func object(_ value: some Encodable) throws -> Any { try JSONSerialization.jsonObject(with: try encoder.encode(value)) }
        let differences = zip(fineTuned ?? pruned, before).map { $0 - $1 }
        var summary: [String: Any] = [
            "models": try reports.map { try object($0) },
            "before": try object(SeedStudy.EstimateDocument(MeanEstimate(before), perModel: before)),
            "pruned": try object(SeedStudy.EstimateDocument(MeanEstimate(pruned), perModel: pruned)),
            "change": try object(ChangeDocument(difference: SeedStudy.EstimateDocument(MeanEstimate(differences), perModel: differences),
                                                pValue: change.test.map { rounded($0.pValue, 6) }, sentence: sentence)),
        ]
        if let fineTuned { summary["fine_tuned"] = try object(SeedStudy.EstimateDocument(MeanEstimate(fineTuned), perModel: fineTuned)) }
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .prettyPrinted])
        return String(decoding: data, as: UTF8.self)
    }

    /// The summary in words: the accuracies with their intervals, then the change.
    public var lines: [String] {
        ["Over \(before.count) models (mean ± half-width of the 95 % interval): test accuracy \(estimateCell(MeanEstimate(before))) before, \(estimateCell(MeanEstimate(pruned))) pruned"
            + (fineTuned.map { ", \(estimateCell(MeanEstimate($0))) fine-tuned" } ?? ""),
         capitalized(sentence) + "."]
    }

    private static func signedPoints(_ value: Double) -> String { (value >= 0 ? "+" : "−") + format(abs(value), 2) }
}

/// `68.37 ± 0.52 %`: a mean with its interval's half-width.
package func estimateCell(_ estimate: MeanEstimate) -> String {
    guard let interval = estimate.interval else { return "\(format(estimate.mean, 2)) %" }
    return "\(format(estimate.mean, 2)) ± \(format(interval.halfWidth, 2)) %"
}
