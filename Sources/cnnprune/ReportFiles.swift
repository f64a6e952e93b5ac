import CNNCharts
import CNNEngine
import CNNPruning
import Foundation

/// The files every study writes — JSON, CSV, SVG and PNG under one base name — and the text
/// tables and charts they share. Every file is written atomically.
enum ReportFiles {
    /// Writes `base.json`, `base.csv`, `base.svg` and `base.png` into `directory`; returns
    /// their paths.
    static func write<Document: Encodable>(_ document: Document, csv: String, chart: LineChart, to directory: URL, base: String) throws -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let files: [(String, Data)] = [
            ("\(base).json", try encoder.encode(document) + Data("\n".utf8)),
            ("\(base).csv", Data(csv.utf8)),
            ("\(base).svg", Data(chart.svg().utf8)),
            ("\(base).png", try chart.pngData()),
        ]
        return try files.map { name, data in
            let url = directory.appendingPathComponent(name)
            do {
                try AtomicFile.write(data, to: url)
            } catch {
                throw CLIError((error as? AtomicFileError)?.description ?? "cannot write \(url.path): \(error.localizedDescription)")
            }
            return url.path
        }
    }

    /// Test accuracy (%) against K, one line per sweep, plus the chance level.
    static func accuracyChart(title: String, layer: PrunableLayer, sweeps: [CriterionSweep], classes: Int,
                              styles: [LineStyle?]? = nil) -> LineChart {
        var series = sweeps.enumerated().map { index, sweep in
            ChartSeries(name: sweep.request.label, x: sweep.points.map { Double($0.k) }, y: sweep.points.map(\.accuracy),
                        lineStyle: styles?[index])
        }
        let ks = sweeps.flatMap { $0.points.map(\.k) }
        if let low = ks.min(), let high = ks.max(), high > low {
            series.append(chanceSeries(from: Double(low), to: Double(high), classes: classes))
        }
        return LineChart(title: title, xLabel: "K (\(layer.unitName)s of \(layer.name) pruned)", yLabel: "Test accuracy (%)",
                         series: series, yRange: 0...100)
    }

    /// A grey dashed line at 100 / classes percent.
    static func chanceSeries(from low: Double, to high: Double, classes: Int) -> ChartSeries {
        let chance = 100 / Double(classes)
        return ChartSeries(name: "chance (\(format(chance, 0)) %)", x: [low, high], y: [chance, chance],
                           lineStyle: .dashed, marker: .plus, color: ChartColor(hex: 0x8A8A8A))
    }

    /// A text table: K, then one accuracy column per sweep (with the number of units actually
    /// masked in brackets where it differs from K).
    static func table(_ sweeps: [CriterionSweep], headers: [String]? = nil) -> String {
        let headers = headers ?? sweeps.map(\.request.label)
        let widths = zip(headers, sweeps).map { header, sweep in
            max(header.count, sweep.points.contains { $0.masked.count != $0.k } ? 20 : 8)
        }
        var lines = ["    K  " + zip(headers, widths).map { pad($0, $1) }.joined(separator: "  ")]
        guard let first = sweeps.first else { return lines[0] }
        for i in first.points.indices {
            var cells: [String] = []
            for (sweep, width) in zip(sweeps, widths) {
                let point = sweep.points[i]
                var cell = format(point.accuracy, 2)
                if point.masked.count != point.k { cell += " (\(point.masked.count) zeroed)" }
                cells.append(pad(cell, width))
            }
            lines.append(pad(String(first.points[i].k), 5) + "  " + cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    /// The sweep JSON document (`sweep.json`).
    static func sweepDocument(model: String, layer: PrunableLayer, calibration: CalibrationSet, sweeps: [CriterionSweep],
                              evaluationImages: Int, baseline: Double, seconds: Double, seedCompatible: Bool, keepBias: Bool) -> SweepDocument {
        SweepDocument(
            model: model, layer: layer.name, units: layer.unitCount, unitName: layer.unitName,
            calibration: calibration.description, calibrationNote: calibration.label,
            method: seedCompatible ? methodName(.exerciseLoop) : methodName(.rankOnce(keepBias: keepBias)),
            keepBias: keepBias || seedCompatible, seedCompatible: seedCompatible,
            evaluation: "CIFAR-10 test set, \(evaluationImages) images", baselineAccuracy: rounded(baseline), seconds: rounded(seconds, 3),
            criteria: sweeps.map(criterionDocument))
    }

    static func criterionDocument(_ sweep: CriterionSweep) -> CriterionDocument {
        CriterionDocument(
            name: sweep.request.criterion.name, label: sweep.request.label,
            calibration: sweep.request.effectiveCalibration?.description ?? "none (weights only)",
            method: methodName(sweep.request.method), methodDescription: methodDescription(sweep.request.method),
            keepBias: sweep.request.method.keepsBias, scores: sweep.scores, ranking: sweep.ranking,
            points: sweep.points.map { PointDocument(k: $0.k, accuracy: rounded($0.accuracy), correct: $0.correct, total: $0.total,
                                                      maskedCount: $0.masked.count, masked: $0.masked) })
    }

    /// The long-form CSV of sweeps: one row per criterion and K.
    static func sweepCSV(_ sweeps: [CriterionSweep]) -> String {
        var rows = ["criterion,label,method,k,masked_count,accuracy,correct,total"]
        for sweep in sweeps {
            for point in sweep.points {
                rows.append([sweep.request.criterion.name, csvField(sweep.request.label), methodName(sweep.request.method), String(point.k),
                             String(point.masked.count), format(point.accuracy, 2), String(point.correct), String(point.total)].joined(separator: ","))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    static func methodName(_ method: SweepMethod) -> String {
        switch method {
        case .rankOnce(let keepBias): return keepBias ? "rank-once-keep-bias" : "rank-once"
        case .exerciseLoop: return "exercise-loop"
        }
    }

    static func methodDescription(_ method: SweepMethod) -> String {
        switch method {
        case .rankOnce(false):
            return "ranked once on the trained model; for each K a fresh copy with the K lowest-ranked units' weights and bias zeroed"
        case .rankOnce(true):
            return "ranked once on the trained model; for each K a fresh copy with the K lowest-ranked units' weights zeroed and bias kept (--keep-bias, the exercise's zeroing)"
        case .exerciseLoop:
            return "the exercise's loop: one model pruned in place and cumulatively, re-ranked on the test set before each K, weights zeroed, bias kept"
        }
    }
}

/// `sweep.json`.
struct SweepDocument: Encodable {
    var model: String
    var layer: String
    var units: Int
    var unitName: String
    var calibration: String
    var calibrationNote: String
    var method: String
    var keepBias: Bool
    var seedCompatible: Bool
    var evaluation: String
    var baselineAccuracy: Double
    var seconds: Double
    var criteria: [CriterionDocument]

    enum CodingKeys: String, CodingKey {
        case model, layer, units, calibration, method, evaluation, seconds, criteria
        case unitName = "unit_name"
        case calibrationNote = "calibration_note"
        case keepBias = "keep_bias"
        case seedCompatible = "seed_compatible"
        case baselineAccuracy = "baseline_accuracy"
    }
}

/// One criterion in `sweep.json`.
struct CriterionDocument: Encodable {
    var name: String
    var label: String
    var calibration: String
    var method: String
    var methodDescription: String
    var keepBias: Bool
    var scores: [Double]
    var ranking: [Int]
    var points: [PointDocument]

    enum CodingKeys: String, CodingKey {
        case name, label, calibration, method, scores, ranking, points
        case methodDescription = "method_description"
        case keepBias = "keep_bias"
    }
}

/// One K in `sweep.json`.
struct PointDocument: Encodable {
    var k: Int
    var accuracy: Double
    var correct: Int
    var total: Int
    var maskedCount: Int
    var masked: [Int]

    enum CodingKeys: String, CodingKey {
        case k, accuracy, correct, total, masked
        case maskedCount = "masked_count"
    }
}

/// `value` with `places` decimals.
func format(_ value: Double, _ places: Int) -> String {
    String(format: "%.\(places)f", value)
}

/// `text` padded with spaces on the left to `width`.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// A CSV field, quoted when it holds a comma or a quote.
func csvField(_ text: String) -> String {
    text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
