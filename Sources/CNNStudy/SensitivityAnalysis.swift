import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// A finished sensitivity analysis and its files; shared by `sensitivity` and `experiment`.
///
/// Distiller's sensitivity analysis: each prunable layer on its own, the lowest-ranked 0 %,
/// 10 %, … 90 % of its units masked, no fine-tuning. It says which layer tolerates pruning and
/// which does not, before anything is removed.
public struct SensitivityAnalysis: Sendable {
    /// The criterion and calibration set that rank each layer's units.
    public var request: SweepRequest
    /// One curve per prunable layer, in the network's order.
    public var curves: [Sensitivity.Curve]

    /// An analysis already run.
    public init(request: SweepRequest, curves: [Sensitivity.Curve]) {
        self.request = request
        self.curves = curves
    }

    /// Runs the analysis on every prunable layer, with one calibration pass for all of them
    /// (unless `precomputed` has their statistics on the request's calibration set), and one
    /// pass of each layer's prefix over the test images: `reusing` an evaluation prepared for a
    /// sweep, and a deeper layer continuing from a shallower one's cache.
    public static func run(network: Network, request: SweepRequest, test: ByteImages, images: CalibrationImages, threads: Int,
                           status: any StudyProgress, reusing: MaskedEvaluation? = nil, precomputed: [String: UnitStatistics] = [:]) throws -> SensitivityAnalysis {
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
        let curves = try studyStep {
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
        }.curves
        return SensitivityAnalysis(request: request, curves: curves)
    }

    /// Accuracy (%) against the fraction pruned (%), one line per layer.
    public func chart(classes: Int, title: String?) -> LineChart {
        var series = curves.map { curve in
            ChartSeries(name: "\(curve.group.name) (\(curve.group.units) \(curve.group.unitName)s)",
                        x: curve.fractions.map { $0 * 100 }, y: curve.sweep.points.map(\.accuracy))
        }
        let xs = curves.flatMap(\.fractions)
        if let low = xs.min(), let high = xs.max(), high > low {
            series.append(ReportFiles.chanceSeries(from: low * 100, to: high * 100, classes: classes))
        }
        return LineChart(title: title ?? "Each layer pruned alone (\(request.criterion.name) ranking, no fine-tuning)",
                         xLabel: "Units of the layer pruned (%)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    /// A text table for the terminal: the fraction, then for each layer K and accuracy.
    public func table() -> String {
        let headers = curves.map { "\($0.group.name) (\($0.group.units))" }
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

    /// `sensitivity.json` for the model in `model` whose unpruned accuracy is `baseline`.
    public func document(model: String, baseline: Double, seconds: Double) -> SensitivityDocument {
        SensitivityDocument(
            model: model, criterion: request.criterion.name,
            calibration: request.effectiveCalibration?.description ?? "none (weights only)",
            method: ReportFiles.methodName(request.method), keepBias: request.method.keepsBias,
            baselineAccuracy: rounded(baseline), seconds: rounded(seconds, 3),
            layers: curves.map { curve in
                SensitivityLayerDocument(
                    layer: curve.group.name, units: curve.group.units, unitName: curve.group.unitName,
                    scores: curve.sweep.scores, ranking: curve.sweep.ranking,
                    points: zip(curve.fractions, curve.sweep.points).map { fraction, point in
                        SensitivityPointDocument(fraction: fraction, k: point.k, accuracy: rounded(point.accuracy), correct: point.correct, total: point.total)
                    })
            })
    }

    /// `sensitivity.csv`: one row per layer and fraction.
    public func csv() -> String {
        var rows = ["layer,fraction,k,accuracy,correct,total"]
        for curve in curves {
            for (fraction, point) in zip(curve.fractions, curve.sweep.points) {
                rows.append("\(curve.group.name),\(format(fraction, 2)),\(point.k),\(format(point.accuracy, 2)),\(point.correct),\(point.total)")
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// Writes `base.json`, `base.csv`, `base.svg` and `base.png` into `directory`; returns their paths.
    public func write(model: String, baseline: Double, seconds: Double, classes: Int, to directory: URL, base: String) throws -> [String] {
        try ReportFiles.write(document(model: model, baseline: baseline, seconds: seconds), csv: csv(),
                              chart: chart(classes: classes, title: nil), to: directory, base: base)
    }
}

/// `sensitivity.json`: every layer's curve, with how it was obtained.
public struct SensitivityDocument: Encodable, Sendable {
    /// The model file.
    public var model: String
    /// The criterion's name.
    public var criterion: String
    /// The calibration set, as given on the command line (`train:5000`).
    public var calibration: String
    /// The method's name (`rank-once`, `rank-once-keep-bias`, `exercise-loop`).
    public var method: String
    /// Whether masking kept the bias.
    public var keepBias: Bool
    /// Test accuracy (%) of the unpruned model.
    public var baselineAccuracy: Double
    /// Seconds the step took.
    public var seconds: Double
    /// layers.
    public var layers: [SensitivityLayerDocument]

    enum CodingKeys: String, CodingKey {
        case model, criterion, calibration, method, seconds, layers
        case keepBias = "keep_bias"
        case baselineAccuracy = "baseline_accuracy"
    }
}

/// One layer in `sensitivity.json`.
public struct SensitivityLayerDocument: Encodable, Sendable {
    /// The layer (or channel group) name.
    public var layer: String
    /// Its number of units (channels or neurons).
    public var units: Int
    /// `channel` or `neuron`.
    public var unitName: String
    /// Each unit's importance score.
    public var scores: [Double]
    /// Unit indices, least important first.
    public var ranking: [Int]
    /// One entry per K (or fraction).
    public var points: [SensitivityPointDocument]

    enum CodingKeys: String, CodingKey {
        case layer, units, scores, ranking, points
        case unitName = "unit_name"
    }
}

/// One fraction of a layer in `sensitivity.json`.
public struct SensitivityPointDocument: Encodable, Sendable {
    /// Fraction of the layer's units pruned.
    public var fraction: Double
    /// Units masked (or removed).
    public var k: Int
    /// Test accuracy (%).
    public var accuracy: Double
    /// Test images classified correctly.
    public var correct: Int
    /// Test images.
    public var total: Int
}
