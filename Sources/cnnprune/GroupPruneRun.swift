import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// `cnnprune prune` on channel groups: any architecture, `--k` for one group, `--ratio`,
/// `--global-ratio`, `--target-macs` or `--target-params`, weight criteria (`l1`, `l2`,
/// `bn-scale`, `fpgm`, `random`), removal, optional fine-tuning, and the measurements before
/// and after.
struct GroupPruneRun {
    let command: PruneCommand
    let loaded: LoadedModel

    /// One model's figures.
    struct Measurement: Codable {
        var parameters: Int
        var multiplyAccumulates: Int
        var fileBytes: Int
        var accuracy: Double
        var imagesPerSecond: Double
        enum CodingKeys: String, CodingKey {
            case parameters, accuracy
            case multiplyAccumulates = "macs"
            case fileBytes = "file_bytes"
            case imagesPerSecond = "images_per_second"
        }
    }

    /// One group's change.
    struct GroupChange: Codable {
        var name: String
        var before: Int
        var after: Int
        var removed: [Int]
    }

    /// `prune --json` for channel groups.
    struct Report: Codable {
        var model: String
        var output: String
        var architecture: String
        var criterion: String
        var target: String
        var groups: [GroupChange]
        var before: Measurement
        var pruned: Measurement
        var fineTuned: Measurement?
        var finetuneEpochs: Int
        enum CodingKeys: String, CodingKey {
            case model, output, architecture, criterion, target, groups, before, pruned
            case fineTuned = "fine_tuned"
            case finetuneEpochs = "finetune_epochs"
        }
    }

    var target: PruningTarget {
        if let ratio = command.ratio { return .uniformRatio(ratio) }
        if let ratio = command.globalRatio { return .globalRatio(ratio) }
        if let fraction = command.targetMacs { return .multiplyAccumulates(fraction) }
        if let fraction = command.targetParams { return .parameters(fraction) }
        return .count(command.k ?? 0, group: command.layer)
    }

    var targetDescription: String {
        switch target {
        case .count(let k, let group): return "--k \(k) of \(group)"
        case .uniformRatio(let r): return "--ratio \(r)"
        case .globalRatio(let r): return "--global-ratio \(r) (max \(command.maxLayerRatio) per group)"
        case .multiplyAccumulates(let f): return "--target-macs \(f) (max \(command.maxLayerRatio) per group)"
        case .parameters(let f): return "--target-params \(f) (max \(command.maxLayerRatio) per group)"
        }
    }

    func run() throws {
        let network = loaded.network
        let test = try command.data.load(.test)
        try command.data.check(network, fits: test, model: command.model, metadata: loaded.metadata)
        let criterion: any GroupImportanceCriterion
        do { criterion = try GroupImportanceCriteria.named(command.criterion, seed: command.seed) } catch let error as PruningError {
            throw CLIError("\(error.description) (ranking channel groups needs a weight criterion)")
        }
        let pruner = GroupPruner(criterion: criterion, allowResidual: command.pruneResidual, maximumGroupRatio: command.maxLayerRatio)
        let name = loaded.graph.name ?? "custom architecture"
        command.say("Pruning \(command.model) (\(name)): \(targetDescription), ranked by \(criterion.name)\(command.pruneResidual ? ", residual groups included" : "")")
        let outcome: GroupPruner.Outcome
        do {
            outcome = try pruner.prune(network, to: target)
        } catch let error as PruningError {
            throw CLIError(error.description)
        } catch let error as RemovalError {
            throw CLIError(error.description)
        } catch let error as PruningTargetError {
            throw CLIError(error.description)
        }
        let before = try ChannelGroups(network.architecture), after = try ChannelGroups(outcome.network.architecture)
        let changes = before.groups.compactMap { group -> GroupChange? in
            guard let removed = outcome.removed[group.name], !removed.isEmpty else { return nil }
            return GroupChange(name: group.name, before: group.units, after: after.group(named: group.name)?.units ?? 0, removed: removed)
        }
        for change in changes { command.say("  \(change.name): \(change.before) → \(change.after) channels") }

        var fineTuned: Network?
        if command.finetuneEpochs > 0 {
            let train = try command.data.load(.train)
            let recipe = try command.recipe(seed: command.seed)
            let run = recipe.makeRun(network: outcome.network, threads: command.threading.threads)
            try recipe.train(run, on: train, test: test, threads: command.threading.threads, echo: !command.json, epochs: command.finetuneEpochs)
            fineTuned = run.network
        }
        let final = fineTuned ?? outcome.network
        var metadata = loaded.metadata.filter { ![Checkpoint.architectureKey, Checkpoint.graphKey, TrainingRun.progressKey, "format"].contains($0.key) }
        metadata.merge(command.data.metadata(for: test)) { _, new in new }
        metadata["cnnprune.group_pruning"] = String(decoding: (try? JSONEncoder().encode(changes)) ?? Data(), as: UTF8.self)
        do {
            try Checkpoint.save(final, to: URL(fileURLWithPath: command.output), metadata: metadata)
        } catch {
            throw CLIError((error as? AtomicFileError)?.description ?? "cannot write \(command.output): \(error.localizedDescription)")
        }
        let models = [network, outcome.network] + (fineTuned.map { [$0] } ?? [])
        let measured = measure(models, on: test)
        let report = Report(model: command.model, output: command.output, architecture: name, criterion: criterion.name, target: targetDescription,
                            groups: changes, before: measured[0], pruned: measured[1], fineTuned: measured.count > 2 ? measured[2] : nil,
                            finetuneEpochs: command.finetuneEpochs)
        if command.json {
            try printJSON(report)
        } else {
            print("")
            print(table(report))
            print("")
            print("Saved \(command.output)")
        }
    }

    /// Accuracy and best-of-N inference speed of each model, timed in turn.
    func measure(_ models: [Network], on test: ByteImages) -> [Measurement] {
        let evaluator = Evaluator(threads: command.threading.threads)
        var best = [Double](repeating: 0, count: models.count)
        var accuracy = [Double](repeating: 0, count: models.count)
        for _ in 0..<command.timingRuns {
            for (index, model) in models.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                let evaluation = evaluator.evaluate(model, on: test)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best[index] = max(best[index], Double(test.count) / seconds)
                accuracy[index] = evaluation.accuracy
            }
        }
        return models.indices.map { index in
            let cost = ArchitectureCost(models[index].architecture)
            return Measurement(parameters: cost.parameters, multiplyAccumulates: cost.multiplyAccumulates,
                               fileBytes: Checkpoint.safeTensors(of: models[index]).encoded().count,
                               accuracy: rounded(accuracy[index]), imagesPerSecond: best[index].rounded())
        }
    }

    func table(_ report: Report) -> String {
        var columns = [("original", report.before), ("pruned", report.pruned)]
        if let fineTuned = report.fineTuned { columns.append(("fine-tuned", fineTuned)) }
        let final = columns.last!.1
        let rows: [(String, (Measurement) -> String, String)] = [
            ("parameters", { "\($0.parameters)" }, String(format: "%.2f", Double(final.parameters) / Double(report.before.parameters))),
            ("MACs per image", { "\($0.multiplyAccumulates)" }, String(format: "%.2f", Double(final.multiplyAccumulates) / Double(report.before.multiplyAccumulates))),
            ("file size (bytes)", { "\($0.fileBytes)" }, String(format: "%.2f", Double(final.fileBytes) / Double(report.before.fileBytes))),
            ("images/s (best of \(command.timingRuns))", { String(format: "%.0f", $0.imagesPerSecond) },
             String(format: "%.2f× faster", final.imagesPerSecond / max(report.before.imagesPerSecond, 1))),
            ("test accuracy", { String(format: "%.2f %%", $0.accuracy) }, String(format: "%+.2f points", final.accuracy - report.before.accuracy)),
        ]
        let headers = [""] + columns.map(\.0) + ["final/original"]
        var cells = [headers]
        for (name, value, ratio) in rows { cells.append([name] + columns.map { value($0.1) } + [ratio]) }
        return alignedTable(cells)
    }
}
