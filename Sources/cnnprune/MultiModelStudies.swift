import CNNCharts
import CNNStatistics
import CNNStudy
import CNNEngine
import Foundation

/// The model files of a `--model` value: one path, or several separated by commas
/// (`--model a.safetensors,b.safetensors`). A value that names an existing file is one model even
/// if it holds a comma.
func modelFiles(_ value: String) -> [String] {
    if FileManager.default.fileExists(atPath: value) || !value.contains(",") { return [value] }
    return value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
}

/// Checks a list of model files before any work: none empty, none twice, each loadable, and
/// all of one architecture (several models are summarised as seeds of one network: a mixed
/// list would be averaged as if it were one).
func validateModelFiles(_ files: [String], fallback: ModelGraph? = nil) throws {
    if files.contains(where: \.isEmpty) { throw CLIError("--model has an empty entry in its comma-separated list") }
    if Set(files).count != files.count { throw CLIError("--model names the same file twice; give each model once") }
    var first: (path: String, graph: ModelGraph)?
    for path in files {
        let graph = try loadAnyModel(path, fallback: fallback).graph
        guard let reference = first else { first = (path, graph); continue }
        guard graph == reference.graph else {
            throw CLIError("--model: \(path) (\(graph.name ?? "custom architecture")) and \(reference.path) (\(reference.graph.name ?? "custom architecture")) are networks of different architectures or widths; several models are compared as seeds of one network")
        }
    }
}

/// The folder of model `index`'s own outputs inside a several-model run's `--output`.
func perModelDirectory(_ output: String, index: Int) -> URL {
    URL(fileURLWithPath: output).appendingPathComponent("model-\(index)")
}

/// What `sweep` and `sensitivity` write for several models: each model's own files (in
/// `model-<i>/`) read back and summarised over the models — per curve and point the mean
/// test accuracy with its 95 % Student t interval (shaded in the chart), and, for sweeps, every
/// criterion compared *paired* (same model, same K) with `random` and with the first criterion
/// listed, Holm-corrected (`MultiModelSweep`, `MultiModelSensitivity`).
struct MultiModelSummary {
    /// The models, in `--model` order.
    let models: [String]
    /// The curves: per criterion (sweep) or per layer (sensitivity).
    let curves: [ReplicatedCurve]
    /// The chart's title, before " over N models".
    let title: String
    /// The chart's x-axis label.
    let xLabel: String
    /// Classes of the models' output, for the chance line.
    let classes: Int

    /// Reads `key` ("criteria" or "layers") of every model's `file` and lines the curves up.
    /// Every model must have the same curves at the same x.
    static func read(models: [String], output: String, file: String, key: String, name: String,
                     x: ([String: Any], [String: Any], Int) -> Double?) throws -> [ReplicatedCurve] {
        var names: [String] = []
        var xs: [[Double]] = []
        var values: [[[Double]]] = []  // per model, per curve, per point
        for index in models.indices {
            let url = perModelDirectory(output, index: index).appendingPathComponent(file)
            guard let data = try? Data(contentsOf: url),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let entries = object[key] as? [[String: Any]] else {
                throw CLIError("cannot read \(url.path) back: it is missing or not the JSON this command writes")
            }
            var modelNames: [String] = []
            var modelXs: [[Double]] = []
            var modelValues: [[Double]] = []
            for entry in entries {
                guard let curveName = entry[name] as? String, let points = entry["points"] as? [[String: Any]] else {
                    throw CLIError("\(url.path) has a curve without \(name) or points")
                }
                modelNames.append(curveName)
                modelXs.append(try points.indices.map { i in
                    guard let value = x(entry, points[i], i) else { throw CLIError("\(url.path): point \(i) of \(curveName) has no x value") }
                    return value
                })
                modelValues.append(try points.map { point in
                    guard let accuracy = (point["accuracy"] as? NSNumber)?.doubleValue else { throw CLIError("\(url.path): a point of \(curveName) has no accuracy") }
                    return accuracy
                })
            }
            if index == 0 {
                names = modelNames
                xs = modelXs
            } else if modelNames != names || modelXs != xs {
                throw CLIError("\(models[index]) gives other curves than \(models[0]) (\(modelNames.joined(separator: ", ")) against \(names.joined(separator: ", "))); several models must be of one architecture")
            }
            values.append(modelValues)
        }
        return names.indices.map { c in ReplicatedCurve(name: names[c], xs: xs[c], valuesByModel: values.map { $0[c] }) }
    }

    /// The mean of each curve with its 95 % interval as a shaded band, plus the chance level.
    func chart() -> LineChart {
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
    func csv(xName: String) -> String {
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

/// `sweep --model a,b,…`: every model swept alike, then the criteria over the models.
struct MultiModelSweepRun {
    let command: SweepCommand
    let models: [String]

    struct Document: Encodable {
        var models: [String]
        var level = 0.95
        var test = "Student t 95 % intervals over the models; comparisons: paired t test over models of the per-model mean accuracy over K > 0, Holm-corrected across the criteria compared with the same baseline"
        var criteria: [MultiModelSummary.CurveDocument]
        var meanOverK: [String: SeedStudy.EstimateDocument]
        var comparisons: [SeedStudy.ComparisonDocument]
        enum CodingKeys: String, CodingKey {
            case models, level, test, criteria, comparisons
            case meanOverK = "mean_over_k"
        }
    }

    func run() throws {
        try runEachModel(models, output: command.output) { path, output in
            var single = command
            single.model = path
            single.output = output
            try single.run()
        }
        let curves = try MultiModelSummary.read(models: models, output: command.output, file: "sweep.json", key: "criteria", name: "name") { _, point, _ in
            (point["k"] as? NSNumber)?.doubleValue
        }
        let names = curves.map(\.name)
        var baselines = names.contains("random") ? ["random"] : []
        if let first = names.first, first != "random", names.count > 1 { baselines.append(first) }
        let sweep = MultiModelSweep(curves: curves, baselines: baselines)
        let classes = try loadAnyModel(models[0], fallback: command.architecture.fallback(for: command.data)).network.architecture.outputShape.reduce(1, *)
        let summary = MultiModelSummary(models: models, curves: curves, title: "Sweep", xLabel: "K (units pruned)", classes: classes)
        let comparisons = sweep.comparisons.flatMap { entry in
            entry.results.map { result in
                SeedStudy.ComparisonDocument(criterion: result.name, baseline: result.baseline,
                                             difference: SeedStudy.EstimateDocument(MeanEstimate(result.differences), perModel: result.differences),
                                             pValue: result.comparison.test.map { rounded($0.pValue, 6) },
                                             holmPValue: result.holmAdjustedPValue.map { rounded($0, 6) }, sentence: result.sentence)
            }
        }
        let document = Document(
            models: models, criteria: summary.curveDocuments(),
            meanOverK: Dictionary(uniqueKeysWithValues: zip(curves, sweep.meanOverPoints).map { curve, mean in
                (curve.name, SeedStudy.EstimateDocument(mean, perModel: curve.perModelMean { $0 > 0 }))
            }),
            comparisons: comparisons)
        let files = try ReportFiles.write(document, csv: summary.csv(xName: "k"), chart: summary.chart(),
                                          to: URL(fileURLWithPath: command.output), base: "sweep-models")
        print("Over \(models.count) models (mean ± half-width of the 95 % interval):")
        for (curve, mean) in zip(curves, sweep.meanOverPoints) {
            print("  \(curve.name): mean accuracy over K > 0 \(estimateCell(mean))")
        }
        for entry in sweep.comparisons {
            for result in entry.results { print("  " + capitalized(result.sentence) + ".") }
        }
        print("Wrote \(files.joined(separator: ", ")) (each model's own files in \(command.output)/model-<i>/)")
    }
}

/// `sensitivity --model a,b,…`: every model's sensitivity, then each layer over the models.
struct MultiModelSensitivityRun {
    let command: SensitivityCommand
    let models: [String]
    /// The fraction pruned at which the layers' drops are compared.
    static let fraction = 0.5

    struct Document: Encodable {
        var models: [String]
        var level = 0.95
        var layers: [MultiModelSummary.CurveDocument]
        var fraction: Double
        var reading: String
    }

    func run() throws {
        try runEachModel(models, output: command.output) { path, output in
            var single = command
            single.model = path
            single.output = output
            try single.run()
        }
        let curves = try MultiModelSummary.read(models: models, output: command.output, file: "sensitivity.json", key: "layers", name: "layer") { layer, point, i in
            if let fraction = (point["fraction"] as? NSNumber)?.doubleValue { return fraction }
            return ((layer["fractions"] as? [NSNumber])?[safe: i]).map(\.doubleValue)
        }
        let sensitivity = MultiModelSensitivity(layers: curves, fraction: Self.fraction)
        let classes = try loadAnyModel(models[0], fallback: command.architecture.fallback(for: command.data)).network.architecture.outputShape.reduce(1, *)
        let summary = MultiModelSummary(models: models, curves: curves, title: "Layer sensitivity", xLabel: "Fraction of the layer's units pruned",
                                        classes: classes)
        let document = Document(models: models, layers: summary.curveDocuments(), fraction: Self.fraction, reading: sensitivity.sentence)
        let files = try ReportFiles.write(document, csv: summary.csv(xName: "fraction"), chart: summary.chart(),
                                          to: URL(fileURLWithPath: command.output), base: "sensitivity-models")
        print("Over \(models.count) models: " + capitalized(sensitivity.sentence) + ".")
        print("Wrote \(files.joined(separator: ", ")) (each model's own files in \(command.output)/model-<i>/)")
    }
}

/// Runs `body` for each of `models` with the folder of its own outputs (`output/model-<i>`),
/// announcing each model.
func runEachModel(_ models: [String], output: String, _ body: (_ path: String, _ output: String) throws -> Void) throws {
    for (index, path) in models.enumerated() {
        print("Model \(index + 1) of \(models.count): \(path)")
        try body(path, perModelDirectory(output, index: index).path)
        print("")
    }
}

/// `68.37 ± 0.52 %`: a mean with its interval's half-width.
func estimateCell(_ estimate: MeanEstimate) -> String {
    guard let interval = estimate.interval else { return "\(format(estimate.mean, 2)) %" }
    return "\(format(estimate.mean, 2)) ± \(format(interval.halfWidth, 2)) %"
}

extension Array {
    /// The element at `index`, or nil when it is out of range.
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// What one `prune` run gives: its `--json` report, its table, and the figures a several-model
/// run summarises.
struct PruneRunResult {
    var report: any Encodable
    var text: String
    /// Test accuracy (%) of the model before pruning, after it, and after fine-tuning (if any).
    var before: Double
    var pruned: Double
    var fineTuned: Double?
    var parameterRatio: Double
    var macsRatio: Double
}

/// `prune --model a,b,…`: every model pruned alike (outputs `NAME-<i>.safetensors` for
/// `--output NAME.safetensors`), then the accuracies over the models: before, pruned and
/// fine-tuned, each with its 95 % interval, and the change from before to the final model
/// compared paired (same model).
struct MultiModelPruneRun {
    let command: PruneCommand
    let models: [String]

    /// `pruned.safetensors` → `pruned-1.safetensors` for model 1.
    static func output(_ output: String, index: Int) -> String {
        let url = URL(fileURLWithPath: output)
        let ext = url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let name = ext.isEmpty ? "\(stem)-\(index)" : "\(stem)-\(index).\(ext)"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
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

    func run() throws {
        var results: [PruneRunResult] = []
        var reports: [Any] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for (index, path) in models.enumerated() {
            var single = command
            single.model = path
            single.output = Self.output(command.output, index: index)
            if !command.json { print("Model \(index + 1) of \(models.count): \(path)") }
            let result = try single.pruneOne()
            if !command.json { print(result.text + "\n") }
            results.append(result)
            reports.append(try JSONSerialization.jsonObject(with: try encoder.encode(result.report)))
        }
        let before = MeanEstimate(results.map(\.before))
        let pruned = MeanEstimate(results.map(\.pruned))
        let tuned = results.allSatisfy { $0.fineTuned != nil } ? results.compactMap(\.fineTuned) : nil
        let final = tuned ?? results.map(\.pruned)
        let change = PairedComparison(final, results.map(\.before))
        let differences = zip(final, results.map(\.before)).map { $0 - $1 }
        let what = tuned != nil ? "pruning and fine-tuning" : "pruning"
        let sentence: String
        if let interval = change.interval, let test = change.test {
            let p = test.pValue < 0.001 ? "p < 0.001" : String(format: "p = %.3f", test.pValue)
            let range = "95 % CI \(signedPoints(interval.lower)) to \(signedPoints(interval.upper)); paired t \(p)"
            sentence = interval.upper < 0 || interval.lower > 0
                ? "\(what) changes test accuracy by \(signedPoints(change.meanDifference)) points over \(models.count) models (\(range))"
                : "no change of test accuracy by \(what) detected with \(models.count) models (mean \(signedPoints(change.meanDifference)) points, \(range))"
        } else {
            sentence = "\(what) changes test accuracy by \(signedPoints(change.meanDifference)) points (one model)"
        }
        if command.json {
            var summary: [String: Any] = [
                "models": reports,
                "before": try jsonObject(SeedStudy.EstimateDocument(before, perModel: results.map(\.before)), encoder),
                "pruned": try jsonObject(SeedStudy.EstimateDocument(pruned, perModel: results.map(\.pruned)), encoder),
                "change": try jsonObject(ChangeDocument(difference: SeedStudy.EstimateDocument(MeanEstimate(differences), perModel: differences),
                                                        pValue: change.test.map { rounded($0.pValue, 6) }, sentence: sentence), encoder),
            ]
            if let tuned { summary["fine_tuned"] = try jsonObject(SeedStudy.EstimateDocument(MeanEstimate(tuned), perModel: tuned), encoder) }
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("Over \(models.count) models (mean ± half-width of the 95 % interval): test accuracy \(estimateCell(before)) before, \(estimateCell(pruned)) pruned"
              + (tuned.map { ", \(estimateCell(MeanEstimate($0))) fine-tuned" } ?? ""))
        print(capitalized(sentence) + ".")
    }

    private func jsonObject(_ value: some Encodable, _ encoder: JSONEncoder) throws -> Any {
        try JSONSerialization.jsonObject(with: try encoder.encode(value))
    }

    private func signedPoints(_ value: Double) -> String { (value >= 0 ? "+" : "−") + format(abs(value), 2) }
}
