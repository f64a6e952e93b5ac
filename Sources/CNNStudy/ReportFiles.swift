import CNNCharts
import CNNEngine
import CNNPruning
import Foundation

/// The files every study writes — JSON, CSV, SVG and PNG under one base name — and the text
/// tables and charts they share. Every file is written atomically.
package enum ReportFiles {
    /// Writes `base.json`, `base.csv`, `base.svg` and `base.png` into `directory`; returns
    /// their paths.
    package static func write<Document: Encodable>(_ document: Document, csv: String, chart: LineChart, to directory: URL, base: String) throws -> [String] {
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
            try writeFile(data, to: url)
            return url.path
        }
    }

    /// Writes `data` to `url` atomically, a failure as ``StudyError/fileNotWritten(_:)``.
    package static func writeFile(_ data: Data, to url: URL) throws {
        do {
            try AtomicFile.write(data, to: url)
        } catch {
            throw StudyError.fileNotWritten((error as? AtomicFileError)?.description ?? "cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    /// Test accuracy (%) against K, one line per sweep, plus the chance level. With `fineTuned`
    /// (one array of points per sweep), each sweep also gets a dashed line of its colour and
    /// marker: the accuracy after removal and `fineTuned.epochs` epochs of fine-tuning.
    package static func accuracyChart(title: String, layer: PrunableLayer, sweeps: [CriterionSweep], classes: Int,
                              styles: [LineStyle?]? = nil, fineTuned: FineTunedResults? = nil) -> LineChart {
        var series = sweeps.enumerated().map { index, sweep in
            ChartSeries(name: sweep.request.label, x: sweep.points.map { Double($0.k) }, y: sweep.points.map(\.accuracy),
                        lineStyle: styles?[index])
        }
        if let fineTuned {
            let shapes = MarkerShape.allCases
            for (index, (sweep, points)) in zip(sweeps, fineTuned.points).enumerated() {
                series.append(ChartSeries(name: "\(sweep.request.label), fine-tuned \(plural(fineTuned.recipe.epochs, "epoch"))",
                                          x: points.map { Double($0.k) }, y: points.map(\.accuracy), lineStyle: .dashed,
                                          marker: shapes[index % shapes.count],
                                          color: ChartColor.palette[index % ChartColor.palette.count]))
            }
        }
        let ks = sweeps.flatMap { $0.points.map(\.k) }
        if let low = ks.min(), let high = ks.max(), high > low {
            series.append(chanceSeries(from: Double(low), to: Double(high), classes: classes))
        }
        return LineChart(title: title, xLabel: "K (\(layer.unitName)s of \(layer.name) pruned)", yLabel: "Test accuracy (%)",
                         series: series, yRange: 0...100)
    }

    /// A grey dashed line at 100 / classes percent.
    package static func chanceSeries(from low: Double, to high: Double, classes: Int) -> ChartSeries {
        let chance = 100 / Double(classes)
        return ChartSeries(name: "chance (\(format(chance, 0)) %)", x: [low, high], y: [chance, chance],
                           lineStyle: .dashed, marker: .plus, color: ChartColor(hex: 0x8A8A8A))
    }

    /// A text table: K, then one accuracy column per sweep (with the number of units actually
    /// masked in brackets where it differs from K), each followed by its fine-tuned accuracy
    /// when `fineTuned` is given.
    package static func table(_ sweeps: [CriterionSweep], headers: [String]? = nil, fineTuned: FineTunedResults? = nil) -> String {
        let names = headers ?? sweeps.map(\.request.label)
        var columns: [(header: String, cells: [String])] = []
        for (index, (name, sweep)) in zip(names, sweeps).enumerated() {
            columns.append((name, sweep.points.map { point in
                format(point.accuracy, 2) + (point.masked.count != point.k ? " (\(point.masked.count) zeroed)" : "")
            }))
            if let fineTuned {
                columns.append(("\(name), fine-tuned", fineTuned.points[index].map { format($0.accuracy, 2) }))
            }
        }
        let widths = columns.map { column in max(column.header.count, column.cells.map(\.count).max() ?? 0, 8) }
        var lines = ["    K  " + zip(columns, widths).map { pad($0.header, $1) }.joined(separator: "  ")]
        guard let first = sweeps.first else { return lines[0] }
        for i in first.points.indices {
            let cells = zip(columns, widths).map { pad($0.cells[i], $1) }
            lines.append(pad(String(first.points[i].k), 5) + "  " + cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    /// The sweep JSON document (`sweep.json`).
    package static func sweepDocument(model: String, layer: PrunableLayer, calibration: CalibrationSet, sweeps: [CriterionSweep],
                              evaluationImages: Int, baseline: Double, seconds: Double, seedCompatible: Bool, keepBias: Bool,
                              fineTuned: FineTunedResults? = nil, datasetName: String = "CIFAR-10") -> SweepDocument {
        var document = SweepDocument(
            model: model, layer: layer.name, units: layer.unitCount, unitName: layer.unitName,
            calibration: calibration.description, calibrationNote: calibration.label,
            method: seedCompatible ? methodName(.exerciseLoop) : methodName(.rankOnce(keepBias: keepBias)),
            keepBias: keepBias || seedCompatible, seedCompatible: seedCompatible,
            evaluation: "\(datasetName) test set, \(evaluationImages) images", baselineAccuracy: rounded(baseline), seconds: rounded(seconds, 3),
            criteria: sweeps.map { criterionDocument($0) })
        if let fineTuned {
            document.fineTuning = fineTuned.document
            for index in document.criteria.indices {
                for (p, tuned) in zip(document.criteria[index].points.indices, fineTuned.points[index]) {
                    document.criteria[index].points[p].fineTunedAccuracy = rounded(tuned.accuracy)
                    document.criteria[index].points[p].fineTunedCorrect = tuned.correct
                }
            }
        }
        return document
    }

    package static func criterionDocument(_ sweep: CriterionSweep) -> CriterionDocument {
        CriterionDocument(
            name: sweep.request.criterion.name, label: sweep.request.label,
            calibration: sweep.request.effectiveCalibration?.description ?? "none (weights only)",
            method: methodName(sweep.request.method), methodDescription: methodDescription(sweep.request.method),
            keepBias: sweep.request.method.keepsBias, scores: sweep.scores, ranking: sweep.ranking,
            points: sweep.points.map { PointDocument(k: $0.k, accuracy: rounded($0.accuracy), correct: $0.correct, total: $0.total,
                                                      maskedCount: $0.masked.count, masked: $0.masked) })
    }

    /// The long-form CSV of sweeps: one row per criterion and K. With `fineTuned`, two more
    /// columns at the end: `fine_tuned_accuracy` and `fine_tuned_correct`.
    package static func sweepCSV(_ sweeps: [CriterionSweep], fineTuned: FineTunedResults? = nil) -> String {
        var header = "criterion,label,method,k,masked_count,accuracy,correct,total"
        if fineTuned != nil { header += ",fine_tuned_accuracy,fine_tuned_correct" }
        var rows = [header]
        for (index, sweep) in sweeps.enumerated() {
            for (p, point) in sweep.points.enumerated() {
                var fields = [sweep.request.criterion.name, csvField(sweep.request.label), methodName(sweep.request.method), String(point.k),
                              String(point.masked.count), format(point.accuracy, 2), String(point.correct), String(point.total)]
                if let tuned = fineTuned?.points[index][p] {
                    fields += [format(tuned.accuracy, 2), String(tuned.correct)]
                }
                rows.append(fields.joined(separator: ","))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    package static func methodName(_ method: SweepMethod) -> String {
        switch method {
        case .rankOnce(let keepBias): return keepBias ? "rank-once-keep-bias" : "rank-once"
        case .exerciseLoop: return "exercise-loop"
        }
    }

    package static func methodDescription(_ method: SweepMethod) -> String {
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

/// `sweep.json`: every sweep of one layer — per criterion the scores, the ranking and each K's
/// accuracy and masked units — with how they were obtained.
public struct SweepDocument: Encodable, Sendable {
    /// The model file.
    public var model: String
    /// The layer (or channel group) name.
    public var layer: String
    /// Its number of units (channels or neurons).
    public var units: Int
    /// `channel` or `neuron`.
    public var unitName: String
    /// The calibration set, as given on the command line (`train:5000`).
    public var calibration: String
    /// The calibration set in words.
    public var calibrationNote: String
    /// The method's name (`rank-once`, `rank-once-keep-bias`, `exercise-loop`).
    public var method: String
    /// Whether masking kept the bias.
    public var keepBias: Bool
    /// Whether the sweep is the exercise's loop (`--seed-compatible`).
    public var seedCompatible: Bool
    /// The evaluation images in words.
    public var evaluation: String
    /// Test accuracy (%) of the unpruned model.
    public var baselineAccuracy: Double
    /// Seconds the step took.
    public var seconds: Double
    /// One entry per criterion, in the sweep's order.
    public var criteria: [CriterionDocument]
    /// How the fine-tuned accuracies were obtained; absent without `--finetune-epochs`.
    public var fineTuning: FineTuningDocument?

    enum CodingKeys: String, CodingKey {
        case model, layer, units, calibration, method, evaluation, seconds, criteria
        case fineTuning = "fine_tuning"
        case unitName = "unit_name"
        case calibrationNote = "calibration_note"
        case keepBias = "keep_bias"
        case seedCompatible = "seed_compatible"
        case baselineAccuracy = "baseline_accuracy"
    }
}

/// One criterion's sweep in `sweep.json` and `experiment.json`.
public struct CriterionDocument: Encodable, Sendable {
    /// The name.
    public var name: String
    /// The label in tables and charts.
    public var label: String
    /// The calibration set, as given on the command line (`train:5000`).
    public var calibration: String
    /// The method's name (`rank-once`, `rank-once-keep-bias`, `exercise-loop`).
    public var method: String
    /// The method in words.
    public var methodDescription: String
    /// Whether masking kept the bias.
    public var keepBias: Bool
    /// Each unit's importance score.
    public var scores: [Double]
    /// Unit indices, least important first.
    public var ranking: [Int]
    /// One entry per K (or fraction).
    public var points: [PointDocument]

    /// A criterion's sweep.
    package init(name: String, label: String, calibration: String, method: String, methodDescription: String, keepBias: Bool,
                 scores: [Double], ranking: [Int], points: [PointDocument]) {
        self.name = name
        self.label = label
        self.calibration = calibration
        self.method = method
        self.methodDescription = methodDescription
        self.keepBias = keepBias
        self.scores = scores
        self.ranking = ranking
        self.points = points
    }

    enum CodingKeys: String, CodingKey {
        case name, label, calibration, method, scores, ranking, points
        case methodDescription = "method_description"
        case keepBias = "keep_bias"
    }
}

/// One K of a sweep in `sweep.json` and `experiment.json`.
public struct PointDocument: Encodable, Sendable {
    /// Units masked (or removed).
    public var k: Int
    /// Test accuracy (%).
    public var accuracy: Double
    /// Test images classified correctly.
    public var correct: Int
    /// Test images.
    public var total: Int
    /// Units actually zeroed (more than K in the exercise's loop).
    public var maskedCount: Int
    /// The zeroed units.
    public var masked: [Int]
    /// Accuracy after removing the K units and fine-tuning (`--finetune-epochs`); absent otherwise.
    public var fineTunedAccuracy: Double?
    /// Images correct after fine-tuning, if any.
    public var fineTunedCorrect: Int?

    enum CodingKeys: String, CodingKey {
        case k, accuracy, correct, total, masked
        case maskedCount = "masked_count"
        case fineTunedAccuracy = "fine_tuned_accuracy"
        case fineTunedCorrect = "fine_tuned_correct"
    }
}

/// The fine-tuned accuracies of a sweep: one array of points per criterion, in the sweep's
/// order and with its K values, and how they were obtained.
package struct FineTunedResults {
    /// The fine-tuning recipe.
    package var recipe: FineTuning
    /// One entry per K (or fraction).
    package var points: [[FineTunedPoint]]
    /// Training images per epoch.
    package var trainingImages: Int
    /// Networks actually fine-tuned (removal sets shared between criteria are trained once).
    package var networksTrained: Int
    /// Threads.
    package var threads: Int
    /// Seconds the step took.
    package var seconds: Double

    /// The fine-tuned points of a sweep and how they were obtained.
    package init(recipe: FineTuning, points: [[FineTunedPoint]], trainingImages: Int, networksTrained: Int, threads: Int, seconds: Double) {
        self.recipe = recipe
        self.points = points
        self.trainingImages = trainingImages
        self.networksTrained = networksTrained
        self.threads = threads
        self.seconds = seconds
    }

    /// `fine_tuning` in `sweep.json`.
    package var document: FineTuningDocument {
        FineTuningDocument(epochs: recipe.epochs, learningRate: Double(String(recipe.learningRate)) ?? Double(recipe.learningRate), batchSize: recipe.batchSize, seed: recipe.seed,
                           trainingImages: trainingImages, networksTrained: networksTrained, threads: threads, seconds: rounded(seconds, 3),
                           description: FineTuningDocument.text(recipe))
    }
}

/// `fine_tuning` in `sweep.json`: how the fine-tuned accuracies were obtained.
public struct FineTuningDocument: Encodable, Sendable {
    /// Fine-tuning epochs.
    public var epochs: Int
    /// Learning rate.
    public var learningRate: Double
    /// Batch size.
    public var batchSize: Int
    /// Seed.
    public var seed: UInt64
    /// Training images per epoch.
    public var trainingImages: Int
    /// Networks fine-tuned (shared removal sets trained once).
    public var networksTrained: Int
    /// Threads.
    public var threads: Int
    /// Seconds the step took.
    public var seconds: Double
    /// The procedure in words.
    public var description: String

    enum CodingKeys: String, CodingKey {
        case epochs, seed, threads, seconds, description
        case learningRate = "learning_rate"
        case batchSize = "batch_size"
        case trainingImages = "training_images"
        case networksTrained = "networks_trained"
    }

    package static func text(_ recipe: FineTuning) -> String {
        "for each K, the K lowest-ranked units removed (a smaller dense network, not a masked one), then \(plural(recipe.epochs, "epoch")) "
            + "of the training recipe (\(recipe.optimizer.description), fresh optimizer, lr \(recipe.learningRate)\(recipe.scheduleDescription), batch \(recipe.batchSize), shuffle seed \(recipe.seed)) "
            + "on the training set; K = 0 is the unpruned model fine-tuned as long"
    }
}

extension PointDocument {
    /// A point's figures; the fine-tuned ones are set afterwards where they exist.
    package init(k: Int, accuracy: Double, correct: Int, total: Int, maskedCount: Int, masked: [Int]) {
        self.k = k
        self.accuracy = accuracy
        self.correct = correct
        self.total = total
        self.maskedCount = maskedCount
        self.masked = masked
    }
}

/// `text` padded with spaces on the left to `width`.
package func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// A CSV field, quoted when it holds a comma or a quote.
package func csvField(_ text: String) -> String {
    text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
