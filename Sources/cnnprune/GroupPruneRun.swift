import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// A value handed to the calibration provider, which runs on the caller's thread only.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `cnnprune prune` on channel groups: any architecture, `--k` for one group, `--ratio`,
/// `--global-ratio`, `--target-macs` or `--target-params`, weight criteria (`l1`, `l2`,
/// `bn-scale`, `fpgm`, `random`), removal, optional fine-tuning, and the measurements before
/// and after.
struct GroupPruneRun {
    let command: PruneCommand
    let loaded: LoadedModel

    /// One model's figures (the types live in CNNStudy, whose channel-group study reports them).
    typealias Measurement = GroupPruneReport.Measurement
    /// One group's change.
    typealias GroupChange = GroupPruneReport.GroupChange
    /// `prune --json` for channel groups.
    typealias Report = GroupPruneReport

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
        let report = try self.report()
        if command.json {
            try printJSON(report)
        } else {
            print("")
            print(table(report))
            print("")
            print("Saved \(command.output)")
        }
    }

    /// Prunes, fine-tunes, saves and measures; returns the figures (`run` prints them).
    func report() throws -> Report {
        let network = loaded.network
        let test = try command.data.load(.test)
        try command.data.check(network, fits: test, model: command.model, metadata: loaded.metadata)
        let criterion: any GroupImportanceCriterion
        do { criterion = try GroupImportanceCriteria.named(command.criterion, seed: command.seed) } catch let error as PruningError {
            throw CLIError(error.description)
        }
        let status = StatusLine()
        let images = CalibrationImages(data: command.data, test: test, seed: command.seed, threads: command.threading.threads, status: status)
        let calibrationSet = try command.calibration.map(parseCalibration) ?? .default
        var provider: GroupPruner.StatisticsProvider?
        if criterion.need != .none {
            let calibrationData = UncheckedBox(try images.images(calibrationSet))
            let threads = command.threading.threads
            let gradients = criterion.need == .gradients
            provider = { network, groups in
                try GroupCalibration.statistics(of: groups, in: network, on: calibrationData.value, gradients: gradients, threads: threads)
            }
        }
        status.clear()
        let train = command.finetuneEpochs > 0 || command.scratchControl ? try command.data.load(.train) : nil
        let pruner = GroupPruner(criterion: criterion, allowResidual: command.pruneResidual, maximumGroupRatio: command.maxLayerRatio,
                                 statistics: provider)
        let name = loaded.graph.name ?? "custom architecture"
        let ranking = criterion.need == .none ? criterion.name : "\(criterion.name) on \(calibrationSet.label)"
        let steps = command.iterative
        command.say("Pruning \(command.model) (\(name)): \(targetDescription)\(steps > 1 ? " in \(steps) steps" : ""), ranked by \(ranking)\(command.pruneResidual ? ", residual groups included" : "")")
        let outcome: GroupPruner.Outcome
        do {
            outcome = try pruner.prune(network, to: target, steps: steps) { step, current in
                let cost = ArchitectureCost(current.architecture)
                command.say("step \(step)/\(steps): \(cost.parameters) parameters, \(cost.multiplyAccumulates) MACs"
                            + (command.finetuneEpochs > 0 ? "; fine-tuning \(command.finetuneEpochs) epoch\(command.finetuneEpochs == 1 ? "" : "s")" : ""))
                guard let train, command.finetuneEpochs > 0 else { return current }
                let recipe = try command.recipe(seed: command.seed &+ UInt64(step - 1))
                let run = recipe.makeRun(network: current, threads: command.threading.threads)
                try recipe.train(run, on: train, test: test, threads: command.threading.threads, echo: !command.json, epochs: command.finetuneEpochs)
                return run.network
            }
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
        if let train, command.finetuneEpochs > 0 {
            let recipe = try command.recipe(seed: command.seed &+ UInt64(steps - 1))
            let run = recipe.makeRun(network: outcome.network, threads: command.threading.threads)
            try recipe.train(run, on: train, test: test, threads: command.threading.threads, echo: !command.json, epochs: command.finetuneEpochs)
            fineTuned = run.network
        }
        var scratch: Network?
        var scratchEpochs: Int?
        if let train, command.scratchControl {
            let recorded = Int(loaded.metadata[Checkpoint.epochsTrainedKey] ?? "")
            guard let epochs = command.scratchEpochs ?? recorded.map({ $0 + command.finetuneEpochs * steps }) else {
                throw CLIError("\(command.model) does not record how many epochs it was trained; give --scratch-epochs N (the original training epochs plus the fine-tuning ones)")
            }
            scratchEpochs = epochs
            command.say("scratch control: the pruned architecture from a fresh initialisation, \(epochs) epoch\(epochs == 1 ? "" : "s") (seed \(command.seed))")
            var generator = SeededGenerator(seed: command.seed)
            let fresh = Network(architecture: outcome.network.architecture, generator: &generator)
            let recipe = try TrainingRecipe.parse(["--epochs", String(epochs), "--batch-size", String(command.batchSize),
                                                   "--lr", String(command.lr), "--seed", String(command.seed)] + command.recipeOptions.arguments)
            let run = recipe.makeRun(network: fresh, threads: command.threading.threads)
            try recipe.train(run, on: train, test: test, threads: command.threading.threads, echo: !command.json, epochs: epochs)
            scratch = run.network
        }
        let final = fineTuned ?? outcome.network
        var metadata = loaded.metadata.filter { ![Checkpoint.architectureKey, Checkpoint.graphKey, TrainingRun.progressKey, "format"].contains($0.key) }
        metadata.merge(command.data.metadata(for: test)) { _, new in new }
        metadata["cnnprune.group_pruning"] = String(decoding: (try? JSONEncoder().encode(changes)) ?? Data(), as: UTF8.self)
        if let trained = Int(loaded.metadata[Checkpoint.epochsTrainedKey] ?? "") {
            metadata[Checkpoint.epochsTrainedKey] = String(trained + (fineTuned == nil ? 0 : command.finetuneEpochs * steps))
        }
        do {
            try Checkpoint.save(final, to: URL(fileURLWithPath: command.output), metadata: metadata)
        } catch {
            throw CLIError((error as? AtomicFileError)?.description ?? "cannot write \(command.output): \(error.localizedDescription)")
        }
        let models = [network, outcome.network] + (fineTuned.map { [$0] } ?? []) + (scratch.map { [$0] } ?? [])
        let measured = measure(models, on: test)
        let report = Report(model: command.model, output: command.output, architecture: name, criterion: criterion.name, target: targetDescription,
                            groups: changes, before: measured[0], pruned: measured[1], fineTuned: fineTuned == nil ? nil : measured[2],
                            finetuneEpochs: command.finetuneEpochs, steps: steps,
                            calibration: criterion.need == .none ? nil : calibrationSet.description,
                            scratch: scratch == nil ? nil : measured[measured.count - 1], scratchEpochs: scratchEpochs)
        return report
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
        if let scratch = report.scratch { columns.append(("from scratch (\(report.scratchEpochs ?? 0) epochs)", scratch)) }
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
