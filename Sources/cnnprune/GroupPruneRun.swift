import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

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
        case .multiplyAccumulates(let f): return "--target-macs \(f) (\(allocationDescription))"
        case .parameters(let f): return "--target-params \(f) (\(allocationDescription))"
        }
    }

    /// How the budget is shared among the groups (validated by the command).
    var allocation: BudgetAllocation { BudgetAllocation(rawValue: command.allocation) ?? .global }

    private var allocationDescription: String {
        switch allocation {
        case .global: return "global, max \(command.maxLayerRatio) per group"
        case .uniform: return "the same fraction of every group, max \(command.maxLayerRatio)"
        }
    }

    /// Prunes, fine-tunes, saves and measures (CNNStudy's `GroupRemovalStudy`, trained with the
    /// command's recipe); returns the figures (`run` prints them).
    func report() throws -> Report {
        let network = loaded.network
        let test = try command.data.load(.test)
        try command.data.check(network, fits: test, model: command.model, metadata: loaded.metadata)
        let status = StatusLine()
        let images = CalibrationImages(data: command.data, test: test, seed: command.seed, threads: command.threading.threads, status: status)
        let calibrationSet = try command.calibration.map(parseCalibration) ?? .default
        let train = command.finetuneEpochs > 0 || command.scratchControl ? try command.data.load(.train) : nil
        let name = loaded.graph.name ?? "custom architecture"
        let steps = command.iterative
        let removal = GroupRemovalStudy(target: target, criterion: command.criterion, calibration: calibrationSet, allowResidual: command.pruneResidual,
                                   maximumGroupRatio: command.maxLayerRatio, allocation: allocation, steps: steps, seed: command.seed,
                                   threads: command.threading.threads, timingRuns: command.timingRuns)
        if let criterion = try? ImportanceCriteria.named(command.criterion, seed: command.seed) {
            let ranking = criterion.need == .none ? criterion.name : "\(criterion.name) on \(calibrationSet.label)"
            command.say("Pruning \(command.model) (\(name)): \(targetDescription)\(steps > 1 ? " in \(steps) steps" : ""), ranked by \(ranking)\(command.pruneResidual ? ", residual groups included" : "")")
        }
        var fineTune: ((Network, Int) throws -> Network)?
        if let train, command.finetuneEpochs > 0 {
            fineTune = { current, step in
                let recipe = try command.recipe(seed: command.seed &+ UInt64(step - 1))
                let run = try recipe.makeRun(network: current, threads: command.threading.threads)
                try recipe.train(run, on: train, test: test, threads: command.threading.threads, echo: !command.json, epochs: command.finetuneEpochs)
                return run.network
            }
        }
        var trainFromScratch: ((Network) throws -> Network)?
        var scratchEpochs: Int?
        if let train, command.scratchControl {
            let recorded = Int(loaded.metadata[Checkpoint.epochsTrainedKey] ?? "")
            guard let epochs = command.scratchEpochs ?? recorded.map({ $0 + command.finetuneEpochs * steps }) else {
                throw CLIError("\(command.model) does not record how many epochs it was trained; give --scratch-epochs N (the original training epochs plus the fine-tuning ones)")
            }
            scratchEpochs = epochs
            trainFromScratch = { fresh in
                command.say("scratch control: the pruned architecture from a fresh initialisation, \(epochs) epoch\(epochs == 1 ? "" : "s") (seed \(command.seed))")
                let recipe = try TrainingRecipe.parse(["--epochs", String(epochs), "--batch-size", String(command.batchSize),
                                                       "--lr", String(command.lr), "--seed", String(command.seed)] + command.recipeOptions.arguments)
                let run = try recipe.makeRun(network: fresh, threads: command.threading.threads)
                try recipe.train(run, on: train, test: test, threads: command.threading.threads, echo: !command.json, epochs: epochs)
                return run.network
            }
        }
        let result: GroupRemovalStudy.Result
        do {
            result = try removal.run(network: network, test: test, calibration: images, fineTune: fineTune, trainFromScratch: trainFromScratch) { event in
                switch event {
                case .step(let step, let cost):
                    command.say("step \(step)/\(steps): \(cost.parameters) parameters, \(cost.multiplyAccumulates) MACs"
                                + (command.finetuneEpochs > 0 ? "; fine-tuning \(command.finetuneEpochs) epoch\(command.finetuneEpochs == 1 ? "" : "s")" : ""))
                case .changes(let changes):
                    for change in changes { command.say("  \(change.name): \(change.before) → \(change.after) channels") }
                }
            }
        } catch let error as StudyError {
            throw CLIError(error)
        }
        var metadata = loaded.metadata.filter { ![Checkpoint.architectureKey, Checkpoint.graphKey, TrainingRun.progressKey, "format"].contains($0.key) }
        metadata.merge(command.data.metadata(for: test)) { _, new in new }
        metadata["cnnprune.group_pruning"] = String(decoding: (try? JSONEncoder().encode(result.changes)) ?? Data(), as: UTF8.self)
        if let trained = Int(loaded.metadata[Checkpoint.epochsTrainedKey] ?? "") {
            metadata[Checkpoint.epochsTrainedKey] = String(trained + (result.fineTuned == nil ? 0 : command.finetuneEpochs * steps))
        }
        do {
            try Checkpoint.save(result.final, to: URL(fileURLWithPath: command.output), metadata: metadata)
        } catch {
            throw CLIError((error as? AtomicFileError)?.description ?? "cannot write \(command.output): \(error.localizedDescription)")
        }
        return Report(model: command.model, output: command.output, architecture: name, criterion: result.criterionName, target: targetDescription,
                      groups: result.changes, before: result.before, pruned: result.prunedMeasurement, fineTuned: result.fineTunedMeasurement,
                      finetuneEpochs: command.finetuneEpochs, steps: steps, calibration: result.calibrationDescription,
                      scratch: result.scratchMeasurement, scratchEpochs: scratchEpochs)
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
