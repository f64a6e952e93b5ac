import ArgumentParser
import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// `cnnprune sensitivity`: Distiller's sensitivity analysis — each prunable layer on its own.
struct SensitivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "Accuracy against the fraction of each layer's channels pruned (0 %, 10 %, … 90 %), one layer at a time.",
        discussion: """
        For every prunable layer (conv1, conv2, fc1) on its own, ranks the units once with the \
        criterion and masks the lowest-ranked 0 %, 10 %, … 90 % of them (weights and bias zeroed, no \
        fine-tuning), measuring test accuracy each time, as Distiller's sensitivity analysis does. \
        Writes sensitivity.json, sensitivity.csv, sensitivity.svg and sensitivity.png into --output.
        """
    )

    @Option(help: "The model (safetensors, from cnnprune or PyTorch); several, comma-separated, analyse each alike (its files in --output/model-<i>/) and add sensitivity-models.json/.csv/.svg/.png: each layer's mean with 95 % intervals over the models.")
    var model: String

    @OptionGroup var data: DataOptions

    @Option(help: "The criterion that ranks each layer's units (\(ImportanceCriteria.names.joined(separator: ", "))).")
    var criterion: String = "l1"

    @OptionGroup var calibrationOptions: CalibrationOptions

    @Flag(help: "Zero the weights only and keep the biases (the exercise's zeroing).")
    var keepBias = false

    @Flag(help: "Include groups coupled through residual sums (other networks than the SimpleCNN); without it they are listed as not prunable.")
    var pruneResidual = false

    @OptionGroup var threading: ThreadOptions

    @Option(help: "Directory for sensitivity.json, .csv, .svg and .png.")
    var output: String = "runs/sensitivity"

    func validate() throws {
        let count = try parseAnyCriteria(criterion, seed: calibrationOptions.seed)
        guard count == 1 else { throw ValidationError("sensitivity takes one criterion, got \(count)") }
    }

    func run() throws {
        let modelList = modelFiles(model)
        if modelList.count > 1 {
            try validateModelFiles(modelList)
            try MultiModelSensitivityRun(command: self, models: modelList).run()
            return
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let status = StatusLine()
        defer { status.clear() }
        let general = try loadAnyModel(model)
        guard general.simpleCNN != nil, ImportanceCriteria.names.contains(criterion) else {
            try runGroups(general, start: start, status: status)
            return
        }
        let loaded = try loadModel(model)
        let chosen = try parseCriteria(criterion, seed: calibrationOptions.seed)[0]
        status.show("reading the \(data.dataset.displayName) test set")
        let test = try data.load(.test)
        try data.check(loaded.network, fits: test, model: model, metadata: loaded.metadata)
        let images = CalibrationImages(data: data, test: test, seed: calibrationOptions.seed, threads: threading.threads, status: status)
        let request = SweepRequest(criterion: chosen, calibration: calibrationOptions.set, method: .rankOnce(keepBias: keepBias))
        let analysis = try SensitivityAnalysis.run(network: loaded.network, request: request, test: test, images: images,
                                                   threads: threading.threads, status: status)
        status.clear()
        let baseline = analysis.curves.first?.baseline.accuracy ?? 0
        let files = try analysis.write(model: model, baseline: baseline, seconds: seconds(since: start),
                                       classes: loaded.network.architecture.outputShape.reduce(1, *),
                                       to: URL(fileURLWithPath: output), base: "sensitivity")
        print("Sensitivity of \(model) (test accuracy \(format(baseline, 2)) % unpruned): each layer pruned on its own, "
              + "ranked by \(chosen.name)\(chosen.need == .none ? "" : " on \(request.calibration.label)"), "
              + (keepBias ? "weights zeroed, bias kept" : "weights and bias zeroed") + ", no fine-tuning")
        print("")
        print(analysis.table())
        print("")
        print(analysis.chart(classes: loaded.network.architecture.outputShape.reduce(1, *), title: nil).terminalText(width: 78, height: 22))
        print("")
        print("Wrote \(files.joined(separator: ", ")) in \(format(seconds(since: start), 2)) s")
    }
}

/// A finished sensitivity analysis and its files; shared by `sensitivity` and `experiment`.
struct SensitivityAnalysis {
    var request: SweepRequest
    var curves: [Sensitivity.LayerCurve]

    /// Runs the analysis on every prunable layer, with one calibration pass for all of them
    /// (unless `precomputed` has their statistics on the request's calibration set), and one
    /// pass of each layer's prefix over the test images: `reusing` an evaluation prepared for a
    /// sweep, and a deeper layer continuing from a shallower one's cache.
    static func run(network: Network, request: SweepRequest, test: ByteImages, images: CalibrationImages, threads: Int,
                    status: StatusLine, reusing: MaskedEvaluation? = nil, precomputed: [String: UnitStatistics] = [:]) throws -> SensitivityAnalysis {
        let layers = PrunableLayer.all(in: network.architecture)
        var gathered = precomputed
        let need = request.criterion.need
        let testActivations = need == .activations && request.calibration == .test
        if (need == .gradients || (need == .activations && !testActivations)) && layers.contains(where: { gathered[$0.name] == nil }) {
            let statistics = try images.statistics(of: layers, in: network, on: request.calibration, gradients: need == .gradients)
            for (layer, s) in zip(layers, statistics) { gathered[layer.name] = s }
        }
        var available = reusing.map { [$0] } ?? []
        func evaluation(for layer: PrunableLayer) -> MaskedEvaluation {
            status.show("pruning \(layer.name) alone: \(Sensitivity.defaultFractions.count) fractions on \(grouped(test.count)) test images")
            if let same = available.first(where: { $0.layer == layer }) { return same }
            let prepared: MaskedEvaluation
            if let base = available.filter({ $0.layer.consumerIndex < layer.outputActivation && $0.layer.consumerIndex <= layer.consumerIndex })
                .max(by: { $0.layer.consumerIndex < $1.layer.consumerIndex }) {
                prepared = MaskedEvaluation(continuing: base, layer: layer, collectStatistics: testActivations)
            } else {
                prepared = MaskedEvaluation(network: network, layer: layer, data: test, threads: threads, collectStatistics: testActivations)
            }
            available.append(prepared)
            return prepared
        }
        let curves = try pruningStep {
            try Sensitivity.run(network: network, layers: layers, request: request, evaluationData: test, threads: threads,
                                evaluation: evaluation) { layer in
                { model, set, gradients in
                    if set == request.calibration, model.parameters == network.parameters, let s = gathered[layer.name],
                       !gradients || s.gradientProductSum != nil {
                        return s
                    }
                    return try images.statistics(of: [layer], in: model, on: set, gradients: gradients)[0]
                }
            }
        }
        return SensitivityAnalysis(request: request, curves: curves)
    }

    /// Accuracy (%) against the fraction pruned (%), one line per layer.
    func chart(classes: Int, title: String?) -> LineChart {
        var series = curves.map { curve in
            ChartSeries(name: "\(curve.layer.name) (\(curve.layer.unitCount) \(curve.layer.unitName)s)",
                        x: curve.fractions.map { $0 * 100 }, y: curve.sweep.points.map(\.accuracy))
        }
        let xs = curves.flatMap(\.fractions)
        if let low = xs.min(), let high = xs.max(), high > low {
            series.append(ReportFiles.chanceSeries(from: low * 100, to: high * 100, classes: classes))
        }
        return LineChart(title: title ?? "Each layer pruned alone (\(request.criterion.name) ranking, no fine-tuning)",
                         xLabel: "Units of the layer pruned (%)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    /// Fraction, then for each layer K and accuracy.
    func table() -> String {
        let headers = curves.map { "\($0.layer.name) (\($0.layer.unitCount))" }
        var lines = ["pruned  " + headers.map { pad($0, 16) }.joined(separator: "  ")]
        let fractions = Array(Set(curves.flatMap(\.fractions))).sorted()
        for fraction in fractions {
            let cells = curves.map { curve -> String in
                guard let i = curve.fractions.firstIndex(of: fraction) else { return pad("—", 16) }
                let point = curve.sweep.points[i]
                return pad("K=\(point.k)  \(format(point.accuracy, 2))", 16)
            }
            lines.append(pad("\(Int((fraction * 100).rounded())) %", 6) + "  " + cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    func document(model: String, baseline: Double, seconds: Double) -> SensitivityDocument {
        SensitivityDocument(
            model: model, criterion: request.criterion.name,
            calibration: request.effectiveCalibration?.description ?? "none (weights only)",
            method: ReportFiles.methodName(request.method), keepBias: request.method.keepsBias,
            baselineAccuracy: rounded(baseline), seconds: rounded(seconds, 3),
            layers: curves.map { curve in
                SensitivityLayerDocument(
                    layer: curve.layer.name, units: curve.layer.unitCount, unitName: curve.layer.unitName,
                    scores: curve.sweep.scores, ranking: curve.sweep.ranking,
                    points: zip(curve.fractions, curve.sweep.points).map { fraction, point in
                        SensitivityPointDocument(fraction: fraction, k: point.k, accuracy: rounded(point.accuracy), correct: point.correct, total: point.total)
                    })
            })
    }

    func csv() -> String {
        var rows = ["layer,fraction,k,accuracy,correct,total"]
        for curve in curves {
            for (fraction, point) in zip(curve.fractions, curve.sweep.points) {
                rows.append("\(curve.layer.name),\(format(fraction, 2)),\(point.k),\(format(point.accuracy, 2)),\(point.correct),\(point.total)")
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    func write(model: String, baseline: Double, seconds: Double, classes: Int, to directory: URL, base: String) throws -> [String] {
        try ReportFiles.write(document(model: model, baseline: baseline, seconds: seconds), csv: csv(),
                              chart: chart(classes: classes, title: nil), to: directory, base: base)
    }
}

/// `sensitivity.json`.
struct SensitivityDocument: Encodable {
    var model: String
    var criterion: String
    var calibration: String
    var method: String
    var keepBias: Bool
    var baselineAccuracy: Double
    var seconds: Double
    var layers: [SensitivityLayerDocument]

    enum CodingKeys: String, CodingKey {
        case model, criterion, calibration, method, seconds, layers
        case keepBias = "keep_bias"
        case baselineAccuracy = "baseline_accuracy"
    }
}

struct SensitivityLayerDocument: Encodable {
    var layer: String
    var units: Int
    var unitName: String
    var scores: [Double]
    var ranking: [Int]
    var points: [SensitivityPointDocument]

    enum CodingKeys: String, CodingKey {
        case layer, units, scores, ranking, points
        case unitName = "unit_name"
    }
}

struct SensitivityPointDocument: Encodable {
    var fraction: Double
    var k: Int
    var accuracy: Double
    var correct: Int
    var total: Int
}
