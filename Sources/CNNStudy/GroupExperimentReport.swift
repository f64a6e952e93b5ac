import CNNCharts
import CNNEngine
import CNNPruning
import Foundation

/// What ``GroupExperimentStudy`` measured, and the files and report made from it: the sweep of
/// one channel group with every criterion, the sensitivity of every group and, when the caller
/// adds it, the removal.
public struct GroupExperimentReport: Sendable {
    /// The architecture's name (`resnet20`).
    public let name: String
    /// The model file, and its training when trained for the study.
    public let origin: ExperimentReport.ModelOrigin
    /// Unpruned test accuracy (%).
    public let accuracy: Double
    /// Parameters and multiply-accumulates of the unpruned network.
    public let cost: ArchitectureCost
    /// The swept group.
    public let group: ChannelGroup
    /// The calibration set of the data-driven criteria.
    public let calibration: CalibrationSet
    /// The calibration in the report's words (`weights only` when no criterion needs images).
    public let calibrationText: String
    /// Every criterion's sweep of ``group``.
    public let sweep: SweepResult
    /// Every group pruned on its own (L1), and the groups that cannot be.
    public let sensitivity: Sensitivity.Result
    /// Classes of the data set (for the chance line).
    public let classes: Int
    /// Test images.
    public let testImages: Int
    /// The data set's name in prose.
    public let datasetName: String
    /// Threads of every pass.
    public let threads: Int
    /// Seconds per step (`evaluation`, `sweep`, `sensitivity`; the caller adds `training`, `removal`, `total`).
    public var timings: [String: Double]
    /// The global removal, fine-tuned and measured, when the caller ran it.
    public var removal: GroupPruneReport?
    /// The removal's `--global-ratio`, for the report.
    public var globalRatio = 0.5

    /// `experiment.json` for the channel-group study.
    public struct Document: Encodable, Sendable {
        /// The architecture's name.
        public var architecture: String
        /// The model file.
        public var model: String
        /// Whether this run trained the model.
        public var trainedHere: Bool
        /// The training epochs, if trained here.
        public var epochs: [EpochRecord]?
        /// Unpruned test accuracy (%).
        public var testAccuracy: Double
        /// Parameters.
        public var parameters: Int
        /// Multiply-accumulates per image.
        public var macs: Int
        /// The swept group.
        public var sweptLayer: String
        /// The calibration set, as given on the command line.
        public var calibration: String
        /// Every criterion's sweep.
        public var sweep: [CriterionDocument]
        /// Each prunable group's sensitivity points.
        public var sensitivity: [String: [PointDocument]]
        /// The groups that cannot be pruned, and why.
        public var unprunable: [String: String]
        /// The removal, if run.
        public var removal: GroupPruneReport?
        /// Seconds per step.
        public var seconds: [String: Double]
        enum CodingKeys: String, CodingKey {
            case architecture, model, epochs, parameters, macs, calibration, sweep, sensitivity, unprunable, removal, seconds
            case trainedHere = "trained_here"
            case testAccuracy = "test_accuracy"
            case sweptLayer = "swept_layer"
        }
    }

    // MARK: Files

    /// `sweep.json`.
    package var sweepFile: GroupStudy.SweepFile {
        GroupStudy.SweepFile(
            model: origin.path, architecture: name, layer: group.name, units: group.units, members: group.members.map(\.tensor), producers: group.producers,
            residual: group.isResidual, calibration: calibration.description, evaluation: "\(datasetName) test set, \(testImages) images",
            baselineAccuracy: rounded(sweep.baseline.accuracy), seconds: rounded(timings["sweep"] ?? 0, 3),
            criteria: sweep.sweeps.map { GroupStudy.document($0, calibration: calibration) })
    }

    /// `sweep.png`: every criterion's accuracy against K.
    public func sweepChart() -> LineChart {
        GroupStudy.chart(title: "Pruning \(group.name) of \(name), ranked on \(calibrationText)", group: group, sweeps: sweep.sweeps, classes: classes)
    }

    /// `sensitivity.png`: every group's accuracy against the fraction pruned.
    public func sensitivityChart() -> LineChart {
        GroupStudy.sensitivityChart(title: "Sensitivity of \(name)'s channel groups (l1)", result: sensitivity, classes: classes)
    }

    private func points(_ curve: Sensitivity.Curve) -> [PointDocument] {
        curve.sweep.points.map { PointDocument(k: $0.k, accuracy: rounded($0.accuracy), correct: $0.correct, total: $0.total, maskedCount: $0.masked.count, masked: $0.masked) }
    }

    /// `sensitivity.json`.
    package var sensitivityFile: GroupStudy.SensitivityFile {
        GroupStudy.SensitivityFile(
            model: origin.path, architecture: name, criterion: "l1", calibration: "none (weights only)",
            evaluation: "\(datasetName) test set, \(testImages) images", baselineAccuracy: rounded(accuracy),
            seconds: rounded(timings["sensitivity"] ?? 0, 3),
            layers: sensitivity.curves.map { curve in
                GroupStudy.SensitivityFile.Layer(layer: curve.group.name, units: curve.group.units, residual: curve.group.isResidual,
                                                 producers: curve.group.producers, fractions: curve.fractions, points: points(curve),
                                                 scores: curve.sweep.scores, ranking: curve.sweep.ranking)
            },
            unprunable: sensitivity.unprunable.map { GroupStudy.SensitivityFile.Unprunable(layer: $0.group, reason: $0.reason) })
    }

    /// `experiment.json`.
    public var document: Document {
        var epochs: [EpochRecord]?
        if case .trained(_, let trained, _) = origin { epochs = trained }
        return Document(
            architecture: name, model: origin.path, trainedHere: origin.isTrained, epochs: epochs, testAccuracy: rounded(accuracy),
            parameters: cost.parameters, macs: cost.multiplyAccumulates, sweptLayer: group.name, calibration: calibration.description,
            sweep: sweepFile.criteria, sensitivity: Dictionary(uniqueKeysWithValues: sensitivity.curves.map { ($0.group.name, points($0)) }),
            unprunable: Dictionary(uniqueKeysWithValues: sensitivity.unprunable.map { ($0.group, $0.reason) }),
            removal: removal, seconds: timings.mapValues { rounded($0, 2) })
    }

    /// Writes `sweep.*`, `sensitivity.*`, `experiment.json` and `report.md` into `directory`; returns their paths.
    public func write(to directory: URL) throws -> [String] {
        var files = try ReportFiles.write(sweepFile, csv: GroupStudy.csv(sweep.sweeps), chart: sweepChart(), to: directory, base: "sweep")
        files += try ReportFiles.write(sensitivityFile, csv: GroupStudy.sensitivityCSV(sensitivity), chart: sensitivityChart(), to: directory, base: "sensitivity")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        for (file, data) in [("experiment.json", try encoder.encode(document) + Data("\n".utf8)), ("report.md", Data(markdown().utf8))] {
            let url = directory.appendingPathComponent(file)
            try ReportFiles.writeFile(data, to: url)
            files.append(url.path)
        }
        return files
    }

    /// A few lines for the terminal: the accuracy, the sweep, the sensitivity and the removal.
    public func summary() -> String {
        var lines = ["", "\(name): test accuracy \(format(accuracy, 2)) %, \(cost.parameters) parameters, \(cost.multiplyAccumulates) MACs per image"]
        lines.append("Sweep of \(group.name) (\(group.units) channels):")
        lines.append(GroupStudy.table(sweep.sweeps))
        lines.append("")
        lines.append(GroupStudy.sensitivityTable(sensitivity))
        if let removal {
            lines.append("")
            lines.append(removal.summaryLine)
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Report

    /// `report.md`: what was run and what the data show, in the network's own names.
    public func markdown() -> String {
        var lines = ["# Pruning study: \(name)", ""]
        var trainedHere = ""
        if case .trained(_, let epochs, let recipe) = origin { trainedHere = " (trained here for \(epochs.count) epochs: \(recipe))" }
        lines.append("Model: `\(origin.path)`\(trainedHere). "
                     + "Test accuracy **\(format(accuracy, 2)) %** on the \(grouped(testImages)) \(datasetName) test images; \(cost.parameters) parameters, \(cost.multiplyAccumulates) multiply-accumulates per image.")
        lines.append("")
        lines.append("One trained model: differences of a point or two between criteria are within what another seed could change.")
        lines += ["", "## Channel groups", ""]
        lines.append("Channels that must go together (a convolution's filters, its BatchNorm, every consumer's input slice; for a residual sum, every branch feeding it) form \(sensitivity.curves.count + sensitivity.unprunable.count) groups; \(sensitivity.curves.count) are prunable here.")
        if !sensitivity.unprunable.isEmpty {
            lines.append("")
            lines.append("Not prunable, so not measured (never reported as losing nothing):")
            lines.append("")
            for (group, reason) in sensitivity.unprunable { lines.append("- `\(group)`: \(reason)") }
        }
        lines += ["", "## Sweep of `\(group.name)`", ""]
        lines.append("\(group.units) channels (\(group.members.count) tensors: \(group.members.map { "`\($0.tensor)`" }.joined(separator: ", "))), ranked once on \(calibrationText) with each criterion; for each K a fresh copy with the K lowest-ranked channels masked whole. Files: `sweep.json`, `sweep.csv`, `sweep.png`.")
        lines += ["", "![sweep](sweep.png)", ""]
        var cells = [["K"] + sweep.sweeps.map(\.request.label)]
        for i in sweep.sweeps[0].points.indices { cells.append([String(sweep.sweeps[0].points[i].k)] + sweep.sweeps.map { format($0.points[i].accuracy, 2) }) }
        lines += markdownTable(cells)
        let means = sweep.sweeps.map { ($0.request.label, $0.points.map(\.accuracy).reduce(0, +) / Double(max($0.points.count, 1))) }.sorted { $0.1 > $1.1 }
        if let best = means.first, let random = means.first(where: { $0.0 == "random" }) {
            lines.append("")
            lines.append("Mean accuracy over K: \(means.map { "\($0.0) \(format($0.1, 2)) %" }.joined(separator: ", ")). The best, \(best.0), is \(format(best.1 - random.1, 2)) points above random on this one model.")
        }
        lines += ["", "## Sensitivity of every group", ""]
        lines.append("Each prunable group on its own, 0 %, 10 %, … 90 % of its channels masked (L1 ranking, no fine-tuning). Files: `sensitivity.json`, `.csv`, `.png`.")
        lines += ["", "![sensitivity](sensitivity.png)", ""]
        let fractions = Sensitivity.defaultFractions
        var sens = [["group", "channels"] + fractions.map { "\(Int(($0 * 100).rounded())) %" }]
        for curve in sensitivity.curves {
            sens.append([curve.group.name, String(curve.group.units)] + fractions.map { fraction in
                let k = PruningCounts.count(fraction: fraction, of: curve.group.units)
                return curve.sweep.points.first { $0.k == k }.map { format($0.accuracy, 2) } ?? "–"
            })
        }
        lines += markdownTable(sens)
        if let worst = sensitivity.curves.min(by: { ($0.sweep.points.last?.accuracy ?? 0) < ($1.sweep.points.last?.accuracy ?? 0) }),
           let least = sensitivity.curves.max(by: { ($0.sweep.points.last?.accuracy ?? 0) < ($1.sweep.points.last?.accuracy ?? 0) }) {
            lines.append("")
            lines.append("At 90 % pruned, `\(worst.group.name)` loses the most (\(format(worst.sweep.points.last!.accuracy, 2)) %) and `\(least.group.name)` the least (\(format(least.sweep.points.last!.accuracy, 2)) %).")
        }
        if let removal {
            lines += ["", "## Removal", ""]
            lines.append("`cnnprune prune --global-ratio \(globalRatio)` (L1, at most \(Int(0.9 * 100)) % of any group), the smaller dense network saved as `pruned.safetensors`\(removal.finetuneEpochs > 0 ? " after \(plural(removal.finetuneEpochs, "fine-tuning epoch"))" : "").")
            lines.append("")
            var rows = [["", "original", "pruned"] + (removal.fineTuned == nil ? [] : ["fine-tuned"])]
            let columns = [removal.before, removal.pruned] + (removal.fineTuned.map { [$0] } ?? [])
            rows.append(["parameters"] + columns.map { String($0.parameters) })
            rows.append(["MACs per image"] + columns.map { String($0.multiplyAccumulates) })
            rows.append(["file size (bytes)"] + columns.map { String($0.fileBytes) })
            rows.append(["images/s"] + columns.map { format($0.imagesPerSecond, 0) })
            rows.append(["test accuracy (%)"] + columns.map { format($0.accuracy, 2) })
            lines += markdownTable(rows)
            lines.append("")
            lines.append(removal.summaryLine + ".")
        }
        lines += ["", "## Time", ""]
        lines.append(timings.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value, 1)) s" }.joined(separator: ", ") + " (\(threads) threads).")
        return lines.joined(separator: "\n") + "\n"
    }

    private func markdownTable(_ cells: [[String]]) -> [String] {
        guard let header = cells.first else { return [] }
        return ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
            + cells.dropFirst().map { "| " + $0.joined(separator: " | ") + " |" }
    }
}
