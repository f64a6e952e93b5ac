import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `cnnprune experiment` on any network other than the SimpleCNN (`--arch`, `--arch-file` or a
/// `--model` of another architecture): train or load, evaluate, sweep one channel group with
/// every group criterion, the sensitivity of every group, and a global removal that is
/// fine-tuned and measured — with the network's own layer names throughout.
struct GroupExperiment {
    let command: ExperimentCommand
    let train: ByteImages
    let test: ByteImages
    let status: StatusLine
    let start: UInt64

    /// `experiment.json` for the channel-group study.
    struct Document: Encodable {
        var architecture: String
        var model: String
        var trainedHere: Bool
        var epochs: [EpochRecord]?
        var testAccuracy: Double
        var parameters: Int
        var macs: Int
        var sweptLayer: String
        var calibration: String
        var sweep: [CriterionDocument]
        var sensitivity: [String: [PointDocument]]
        var unprunable: [String: String]
        var removal: GroupPruneRun.Report?
        var seconds: [String: Double]
        enum CodingKeys: String, CodingKey {
            case architecture, model, epochs, parameters, macs, calibration, sweep, sensitivity, unprunable, removal, seconds
            case trainedHere = "trained_here"
            case testAccuracy = "test_accuracy"
            case sweptLayer = "swept_layer"
        }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: command.output)
        let threads = command.threading.threads
        let calibration = try parseCalibration(command.calibration)
        var timings: [String: Double] = [:]

        // 1. The model.
        let network: Network, modelPath: String, name: String
        var epochs: [EpochRecord]?
        var phase = DispatchTime.now().uptimeNanoseconds
        if let path = command.model {
            let loaded = try loadAnyModel(path)
            try command.data.check(loaded.network, fits: test, model: path, metadata: loaded.metadata)
            network = loaded.network
            modelPath = path
            name = loaded.graph.name ?? "custom architecture"
        } else {
            let fresh = try command.architecture.network(inputShape: train.sampleShape, defaultClasses: train.classNames.count, seed: command.recipe.seed)
            try command.data.check(fresh, fits: train, model: command.architecture.archFile ?? command.architecture.arch ?? "network")
            name = fresh.architecture.graph?.name ?? "custom architecture"
            print("Training \(name) for \(command.recipe.epochs) epochs (\(command.recipe.options.description(learningRate: command.recipe.lr)), batch \(command.recipe.batchSize), seed \(command.recipe.seed))")
            let trained = try command.recipe.train(fresh, on: train, test: test, threads: threads, echo: true)
            network = trained.network
            epochs = trained.epochs
            let path = directory.appendingPathComponent("model.safetensors")
            var metadata = command.data.metadata(for: train)
            metadata[Checkpoint.epochsTrainedKey] = String(trained.epochs.count)
            try Checkpoint.save(network, to: path, metadata: metadata)
            modelPath = path.path
            timings["training"] = seconds(since: phase)
        }
        phase = DispatchTime.now().uptimeNanoseconds
        status.show("evaluating on \(grouped(test.count)) test images")
        let accuracy = Evaluator(threads: threads).evaluate(network, on: test).accuracy
        timings["evaluation"] = seconds(since: phase)
        let cost = ArchitectureCost(network.architecture)

        // 2. One group, every criterion (bn-scale only where the group has a BatchNorm).
        phase = DispatchTime.now().uptimeNanoseconds
        let groups = try pruningStep { try ChannelGroups(network.architecture) }
        let group = try GroupStudy.group(command.layer, in: groups, allowResidual: command.pruneResidual, model: modelPath)
        let criteria = try GroupImportanceCriteria.names
            .filter { $0 != "bn-scale" || !group.normalizations.isEmpty }
            .map { try GroupImportanceCriteria.named($0, seed: command.recipe.seed) }
        let images = CalibrationImages(data: command.data, test: test, seed: command.recipe.seed, threads: threads, status: status, train: train)
        let prunable = groups.prunable(allowResidual: command.pruneResidual)
        let statistics = try GroupStudy.statistics(of: prunable, in: network, criteria: criteria, calibration: calibration, images: images)
        let counts = PruningCounts.defaultCounts(units: group.units)
        status.show("pruning \(group.name): \(criteria.count) criteria × \(counts.count) values of K on \(grouped(test.count)) test images")
        let sweep = try pruningStep {
            try GroupSweep.run(network: network, group: group, requests: criteria.map { GroupSweepRequest(criterion: $0) }, counts: counts,
                               evaluationData: test, threads: threads, statistics: statistics[group.name])
        }
        timings["sweep"] = seconds(since: phase)

        // 3. Sensitivity of every group (L1, Distiller's choice).
        phase = DispatchTime.now().uptimeNanoseconds
        status.show("sensitivity of \(prunable.count) channel groups")
        let sensitivity = try pruningStep {
            try GroupSensitivity.run(network: network, groups: groups.groups, allowResidual: command.pruneResidual,
                                     request: GroupSweepRequest(criterion: L1Norm()), evaluationData: test, threads: threads)
        }
        timings["sensitivity"] = seconds(since: phase)
        status.clear()

        // 4. Global removal, fine-tuned and measured, through `prune`'s own run.
        phase = DispatchTime.now().uptimeNanoseconds
        let prunedPath = directory.appendingPathComponent("pruned.safetensors").path
        var arguments = ["--model", modelPath, "--global-ratio", String(command.globalRatio), "--criterion", "l1",
                         "--output", prunedPath, "--finetune-epochs", String(command.finetuneEpochs), "--timing-runs", String(command.timingRuns),
                         "--batch-size", String(command.recipe.batchSize), "--lr", String(command.recipe.lr), "--seed", String(command.recipe.seed),
                         "--threads", String(threads), "--json"] + command.recipe.options.arguments + command.data.arguments
        if command.pruneResidual { arguments.append("--prune-residual") }
        let prune = try PruneCommand.parse(arguments)
        let removal = try GroupPruneRun(command: prune, loaded: try loadAnyModel(modelPath)).report()
        timings["removal"] = seconds(since: phase)
        timings["total"] = seconds(since: start)

        // 5. Files.
        let classes = network.architecture.outputShape.reduce(1, *)
        let calibrationText = GroupStudy.calibrationText(calibration, criteria)
        let sweepChart = GroupStudy.chart(title: "Pruning \(group.name) of \(name), ranked on \(calibrationText)", group: group, sweeps: sweep.sweeps, classes: classes)
        let sweepFile = GroupStudy.SweepFile(
            model: modelPath, architecture: name, layer: group.name, units: group.units, members: group.members.map(\.tensor), producers: group.producers,
            residual: group.isResidual, calibration: calibration.description, evaluation: "\(command.data.dataset.displayName) test set, \(test.count) images",
            baselineAccuracy: rounded(sweep.baseline.accuracy), seconds: rounded(timings["sweep"] ?? 0, 3),
            criteria: sweep.sweeps.map { GroupStudy.document($0, calibration: calibration) })
        var files = try ReportFiles.write(sweepFile, csv: GroupStudy.csv(sweep.sweeps), chart: sweepChart, to: directory, base: "sweep")
        let sensitivityChart = GroupStudy.sensitivityChart(title: "Sensitivity of \(name)'s channel groups (l1)", result: sensitivity, classes: classes)
        let points = { (curve: GroupSensitivity.Curve) in
            curve.sweep.points.map { PointDocument(k: $0.k, accuracy: rounded($0.accuracy), correct: $0.correct, total: $0.total, maskedCount: $0.masked.count, masked: $0.masked) }
        }
        let sensitivityFile = GroupStudy.SensitivityFile(
            model: modelPath, architecture: name, criterion: "l1", calibration: "none (weights only)",
            evaluation: "\(command.data.dataset.displayName) test set, \(test.count) images", baselineAccuracy: rounded(accuracy),
            seconds: rounded(timings["sensitivity"] ?? 0, 3),
            layers: sensitivity.curves.map { curve in
                GroupStudy.SensitivityFile.Layer(layer: curve.group.name, units: curve.group.units, residual: curve.group.isResidual,
                                                 producers: curve.group.producers, fractions: curve.fractions, points: points(curve),
                                                 scores: curve.sweep.scores, ranking: curve.sweep.ranking)
            },
            unprunable: sensitivity.unprunable.map { GroupStudy.SensitivityFile.Unprunable(layer: $0.group, reason: $0.reason) })
        files += try ReportFiles.write(sensitivityFile, csv: GroupStudy.sensitivityCSV(sensitivity), chart: sensitivityChart, to: directory, base: "sensitivity")
        let document = Document(
            architecture: name, model: modelPath, trainedHere: command.model == nil, epochs: epochs, testAccuracy: rounded(accuracy),
            parameters: cost.parameters, macs: cost.multiplyAccumulates, sweptLayer: group.name, calibration: calibration.description,
            sweep: sweepFile.criteria, sensitivity: Dictionary(uniqueKeysWithValues: sensitivity.curves.map { ($0.group.name, points($0)) }),
            unprunable: Dictionary(uniqueKeysWithValues: sensitivity.unprunable.map { ($0.group, $0.reason) }),
            removal: removal, seconds: timings.mapValues { rounded($0, 2) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let markdown = self.markdown(name: name, model: modelPath, accuracy: accuracy, cost: cost, group: group, sweep: sweep,
                                     sensitivity: sensitivity, removal: removal, calibration: calibrationText, timings: timings)
        for (file, data) in [("experiment.json", try encoder.encode(document) + Data("\n".utf8)), ("report.md", Data(markdown.utf8))] {
            let url = directory.appendingPathComponent(file)
            do { try AtomicFile.write(data, to: url) } catch {
                throw CLIError((error as? AtomicFileError)?.description ?? "cannot write \(url.path): \(error.localizedDescription)")
            }
            files.append(url.path)
        }
        print("")
        print("\(name): test accuracy \(format(accuracy, 2)) %, \(cost.parameters) parameters, \(cost.multiplyAccumulates) MACs per image")
        print("Sweep of \(group.name) (\(group.units) channels):")
        print(GroupStudy.table(sweep.sweeps))
        print("")
        print(GroupStudy.sensitivityTable(sensitivity))
        print("")
        print(removalLine(removal))
        print("Wrote \(files.count) files into \(directory.path) in \(format(seconds(since: start), 1)) s; read \(directory.appendingPathComponent("report.md").path)")
    }

    func removalLine(_ removal: GroupPruneRun.Report) -> String {
        let final = removal.fineTuned ?? removal.pruned
        return "Removal (\(removal.target)): parameters \(removal.before.parameters) → \(final.parameters), MACs \(removal.before.multiplyAccumulates) → \(final.multiplyAccumulates) "
            + "(\(format(Double(removal.before.multiplyAccumulates) / Double(max(final.multiplyAccumulates, 1)), 2))× fewer), "
            + "\(format(final.imagesPerSecond / max(removal.before.imagesPerSecond, 1), 2))× faster, accuracy \(format(removal.before.accuracy, 2)) → \(format(removal.pruned.accuracy, 2)) % pruned"
            + (removal.fineTuned.map { " → \(format($0.accuracy, 2)) % after \(plural(removal.finetuneEpochs, "fine-tuning epoch"))" } ?? "")
    }

    /// `report.md`: what was run and what the data show, in the network's own names.
    func markdown(name: String, model: String, accuracy: Double, cost: ArchitectureCost, group: ChannelGroup, sweep: GroupSweepResult,
                  sensitivity: GroupSensitivity.Result, removal: GroupPruneRun.Report, calibration: String, timings: [String: Double]) -> String {
        var lines = ["# Pruning study: \(name)", ""]
        lines.append("Model: `\(model)`\(command.model == nil ? " (trained here for \(command.recipe.epochs) epochs: \(command.recipe.options.description(learningRate: command.recipe.lr)), batch \(command.recipe.batchSize), seed \(command.recipe.seed))" : ""). "
                     + "Test accuracy **\(format(accuracy, 2)) %** on the \(grouped(test.count)) \(command.data.dataset.displayName) test images; \(cost.parameters) parameters, \(cost.multiplyAccumulates) multiply-accumulates per image.")
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
        lines.append("\(group.units) channels (\(group.members.count) tensors: \(group.members.map { "`\($0.tensor)`" }.joined(separator: ", "))), ranked once on \(calibration) with each criterion; for each K a fresh copy with the K lowest-ranked channels masked whole. Files: `sweep.json`, `sweep.csv`, `sweep.png`.")
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
        lines += ["", "## Removal", ""]
        lines.append("`cnnprune prune --global-ratio \(command.globalRatio)` (L1, at most \(Int(0.9 * 100)) % of any group), the smaller dense network saved as `pruned.safetensors`\(removal.finetuneEpochs > 0 ? " after \(plural(removal.finetuneEpochs, "fine-tuning epoch"))" : "").")
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
        lines.append(removalLine(removal) + ".")
        lines += ["", "## Time", ""]
        lines.append(timings.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value, 1)) s" }.joined(separator: ", ") + " (\(command.threading.threads) threads).")
        return lines.joined(separator: "\n") + "\n"
    }

    func markdownTable(_ cells: [[String]]) -> [String] {
        guard let header = cells.first else { return [] }
        return ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
            + cells.dropFirst().map { "| " + $0.joined(separator: " | ") + " |" }
    }
}
