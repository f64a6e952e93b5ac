import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// The sweep and sensitivity studies on channel groups: any architecture, any prunable group
/// (`cnnprune groups` lists them), the group criteria, the group's own layer names in every
/// table, chart and file. `package`: `experiment`, `sweep` and `sensitivity` share them.
package enum GroupStudy {
    /// Statistics of `groups` for the data-driven criteria among `criteria` (none when all read weights only).
    package static func statistics(of groups: [ChannelGroup], in network: Network, criteria: [any ImportanceCriterion],
                           calibration: CalibrationSet, images: CalibrationImages) throws -> [String: GroupStatistics] {
        let need = criteria.map(\.need).max() ?? .none
        guard need != .none, !groups.isEmpty else { return [:] }
        let data = try images.images(calibration)
        images.progress.show("ranking on \(calibration.label): \(need == .gradients ? "forward and backward" : "forward") pass over \(grouped(data.count)) images")
        return try studyStep {
            try GroupCalibration.statistics(of: groups, in: network, on: data, gradients: need == .gradients, threads: images.threads)
        }
    }

    package static func calibrationText(_ set: CalibrationSet, _ criteria: [any ImportanceCriterion]) -> String {
        criteria.allSatisfy({ $0.need == .none }) ? "weights only" : set.label
    }

    // MARK: - Sweep

    /// `sweep.json` for a group.
    package struct SweepFile: Encodable {
        var model: String
        var architecture: String
        var layer: String
        var units: Int
        var unitName = "channel"
        var members: [String]
        var producers: [String]
        var residual: Bool
        var calibration: String
        var method = "rank-once"
        var keepBias = false
        var seedCompatible = false
        var evaluation: String
        var baselineAccuracy: Double
        var seconds: Double
        var criteria: [CriterionDocument]

        package init(model: String, architecture: String, layer: String, units: Int, members: [String], producers: [String], residual: Bool,
                     calibration: String, evaluation: String, baselineAccuracy: Double, seconds: Double, criteria: [CriterionDocument]) {
            self.model = model
            self.architecture = architecture
            self.layer = layer
            self.units = units
            self.members = members
            self.producers = producers
            self.residual = residual
            self.calibration = calibration
            self.evaluation = evaluation
            self.baselineAccuracy = baselineAccuracy
            self.seconds = seconds
            self.criteria = criteria
        }

        enum CodingKeys: String, CodingKey {
            case model, architecture, layer, units, members, producers, residual, calibration, method, evaluation, seconds, criteria
            case unitName = "unit_name"
            case keepBias = "keep_bias"
            case seedCompatible = "seed_compatible"
            case baselineAccuracy = "baseline_accuracy"
        }
    }

    package static func document(_ sweep: CriterionSweep, calibration: CalibrationSet) -> CriterionDocument {
        CriterionDocument(
            name: sweep.request.criterion.name, label: sweep.request.label,
            calibration: sweep.request.criterion.need == .none ? "none (weights only)" : calibration.description,
            method: "rank-once",
            methodDescription: "ranked once on the trained model; for each K a fresh copy with the K lowest-ranked channels of the group zeroed in every producer and BatchNorm",
            keepBias: false, scores: sweep.scores, ranking: sweep.ranking,
            points: sweep.points.map { PointDocument(k: $0.k, accuracy: rounded($0.accuracy), correct: $0.correct, total: $0.total,
                                                      maskedCount: $0.masked.count, masked: $0.masked) })
    }

    package static func csv(_ sweeps: [CriterionSweep]) -> String {
        var rows = ["criterion,label,method,k,masked_count,accuracy,correct,total"]
        for sweep in sweeps {
            for point in sweep.points {
                rows.append([sweep.request.criterion.name, csvField(sweep.request.label), "rank-once", String(point.k), String(point.masked.count),
                             format(point.accuracy, 2), String(point.correct), String(point.total)].joined(separator: ","))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    package static func chart(title: String, group: ChannelGroup, sweeps: [CriterionSweep], classes: Int) -> LineChart {
        var series = sweeps.map { sweep in
            ChartSeries(name: sweep.request.label, x: sweep.points.map { Double($0.k) }, y: sweep.points.map(\.accuracy))
        }
        let ks = sweeps.flatMap { $0.points.map(\.k) }
        if let low = ks.min(), let high = ks.max(), high > low {
            series.append(ReportFiles.chanceSeries(from: Double(low), to: Double(high), classes: classes))
        }
        return LineChart(title: title, xLabel: "K (channels of \(group.name) pruned)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    package static func table(_ sweeps: [CriterionSweep]) -> String {
        guard let first = sweeps.first else { return "" }
        var cells = [["K"] + sweeps.map(\.request.label)]
        for i in first.points.indices {
            cells.append([String(first.points[i].k)] + sweeps.map { format($0.points[i].accuracy, 2) })
        }
        return alignedTable(cells)
    }

    // MARK: - Sensitivity

    /// `sensitivity.json` for channel groups.
    package struct SensitivityFile: Encodable {
        package struct Layer: Encodable {
            var layer: String
            var units: Int
            var residual: Bool
            var producers: [String]
            var fractions: [Double]
            var points: [PointDocument]
            var scores: [Double]
            var ranking: [Int]

            package init(layer: String, units: Int, residual: Bool, producers: [String], fractions: [Double], points: [PointDocument],
                         scores: [Double], ranking: [Int]) {
                self.layer = layer
                self.units = units
                self.residual = residual
                self.producers = producers
                self.fractions = fractions
                self.points = points
                self.scores = scores
                self.ranking = ranking
            }
        }
        package struct Unprunable: Encodable {
            var layer: String
            var reason: String

            package init(layer: String, reason: String) {
                self.layer = layer
                self.reason = reason
            }
        }
        var model: String
        var architecture: String
        var criterion: String
        var calibration: String
        var evaluation: String
        var baselineAccuracy: Double
        var seconds: Double
        var layers: [Layer]
        var unprunable: [Unprunable]

        package init(model: String, architecture: String, criterion: String, calibration: String, evaluation: String,
                     baselineAccuracy: Double, seconds: Double, layers: [Layer], unprunable: [Unprunable]) {
            self.model = model
            self.architecture = architecture
            self.criterion = criterion
            self.calibration = calibration
            self.evaluation = evaluation
            self.baselineAccuracy = baselineAccuracy
            self.seconds = seconds
            self.layers = layers
            self.unprunable = unprunable
        }

        enum CodingKeys: String, CodingKey {
            case model, architecture, criterion, calibration, evaluation, seconds, layers, unprunable
            case baselineAccuracy = "baseline_accuracy"
        }
    }

    package static func sensitivityCSV(_ result: Sensitivity.Result) -> String {
        var rows = ["layer,fraction,k,units,accuracy,correct,total"]
        for curve in result.curves {
            for (fraction, point) in zip(curve.fractions, curve.sweep.points) {
                rows.append([csvField(curve.group.name), format(fraction, 2), String(point.k), String(curve.group.units),
                             format(point.accuracy, 2), String(point.correct), String(point.total)].joined(separator: ","))
            }
        }
        for (name, reason) in result.unprunable {
            rows.append([csvField(name), "", "", "", "not prunable: " + csvField(reason), "", ""].joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    package static func sensitivityChart(title: String, result: Sensitivity.Result, classes: Int) -> LineChart {
        var series = result.curves.map { curve in
            ChartSeries(name: curve.group.name, x: curve.fractions.map { $0 * 100 }, y: curve.sweep.points.map(\.accuracy))
        }
        if !result.curves.isEmpty { series.append(ReportFiles.chanceSeries(from: 0, to: 90, classes: classes)) }
        return LineChart(title: title, xLabel: "Channels of the group pruned (%)", yLabel: "Test accuracy (%)", series: series, yRange: 0...100)
    }

    package static func sensitivityTable(_ result: Sensitivity.Result) -> String {
        // Every fraction asked for; a group with few channels repeats the K a smaller fraction already reached.
        let fractions = Sensitivity.defaultFractions
        var cells = [["group", "channels"] + fractions.map { "\(Int(($0 * 100).rounded())) %" }]
        for curve in result.curves {
            var row = [curve.group.name, String(curve.group.units)]
            for fraction in fractions {
                let k = PruningCounts.count(fraction: fraction, of: curve.group.units)
                row.append(curve.sweep.points.first { $0.k == k }.map { format($0.accuracy, 2) } ?? "–")
            }
            cells.append(row)
        }
        var text = alignedTable(cells)
        if !result.unprunable.isEmpty {
            text += "\n\nNot prunable (no curve: nothing was measured):\n" + result.unprunable.map { "  \($0.group): \($0.reason)" }.joined(separator: "\n")
        }
        return text
    }
}
