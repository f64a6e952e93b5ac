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
    /// The model file pruned (as given), and what it loaded as.
    let model: String
    let loaded: LoadedModel
    /// The data set (`--data`, `--dataset`, …): the test set measured, the training set fine-tuned on.
    let data: DataOptions
    /// Where the pruned model is saved.
    let output: String
    /// The removal itself: target, criterion, calibration, residual groups, steps, seed, threads,
    /// timing (CNNStudy).
    let removal: GroupRemovalStudy
    /// The target in the command line's words, as the report records it (e.g. `--global-ratio 0.5 (max 0.9 per group)`).
    let targetDescription: String
    /// The training recipe of the fine-tuning (for `finetuneEpochs`, step i seeded SEED + i − 1)
    /// and of the scratch control (for its own epochs).
    let recipe: TrainingRecipe
    /// Fine-tuning epochs after each step (0: none).
    let finetuneEpochs: Int
    /// The scratch control (the pruned architecture trained from a fresh initialisation), nil for none.
    let scratchControl: ScratchLength?
    /// Whether progress lines and epoch lines go to stdout (else stderr, under `--json`).
    let echo: Bool

    /// One model's figures (the types live in CNNStudy, whose channel-group study reports them).
    typealias Measurement = GroupPruneReport.Measurement
    /// One group's change.
    typealias GroupChange = GroupPruneReport.GroupChange
    /// `prune --json` for channel groups.
    typealias Report = GroupPruneReport

    /// How long the scratch control trains.
    enum ScratchLength {
        /// This many epochs (`--scratch-epochs`).
        case epochs(Int)
        /// As many as the pruned model saw: the epochs its file records plus the fine-tuning ones.
        case asPruned
    }

    /// Prints a progress line: to stdout, or to stderr under `--json`.
    private func say(_ line: String) {
        if echo { print(line); fflush(nil) } else { printError(line) }
    }

    /// Prunes, fine-tunes, saves and measures (CNNStudy's `GroupRemovalStudy`, trained with the
    /// recipe); returns the figures (`run` prints them).
    func report() throws -> Report {
        let network = loaded.network
        let threads = removal.threads
        let test = try data.load(.test)
        try data.check(network, fits: test, model: model, metadata: loaded.metadata)
        let status = StatusLine()
        let images = CalibrationImages(data: data, test: test, seed: removal.seed, threads: threads, status: status)
        let train = finetuneEpochs > 0 || scratchControl != nil ? try data.load(.train) : nil
        let name = loaded.graph.name ?? "custom architecture"
        let steps = removal.steps
        if let criterion = try? ImportanceCriteria.named(removal.criterion, seed: removal.seed) {
            let ranking = criterion.need == .none ? criterion.name : "\(criterion.name) on \(removal.calibration.label)"
            say("Pruning \(model) (\(name)): \(targetDescription)\(steps > 1 ? " in \(steps) steps" : ""), ranked by \(ranking)\(removal.allowResidual ? ", residual groups included" : "")")
        }
        var fineTune: ((Network, Int) throws -> Network)?
        if let train, finetuneEpochs > 0 {
            var fineTuning = recipe
            fineTuning.epochs = finetuneEpochs
            fineTune = { current, step in
                try TerminalTraining(recipe: fineTuning.forPruningStep(step), threads: threads, echo: echo).train(current, on: train, test: test).network
            }
        }
        var trainFromScratch: ((Network) throws -> Network)?
        var scratchEpochs: Int?
        if let train, let scratchControl {
            let recorded = Int(loaded.metadata[Checkpoint.epochsTrainedKey] ?? "")
            let given: Int? = if case .epochs(let epochs) = scratchControl { epochs } else { nil }
            guard let epochs = given ?? recorded.map({ $0 + finetuneEpochs * steps }) else {
                throw CLIError("\(model) does not record how many epochs it was trained; give --scratch-epochs N (the original training epochs plus the fine-tuning ones)")
            }
            scratchEpochs = epochs
            var recipe = self.recipe
            recipe.epochs = epochs
            trainFromScratch = { fresh in
                say("scratch control: the pruned architecture from a fresh initialisation, \(epochs) epoch\(epochs == 1 ? "" : "s") (seed \(recipe.seed))")
                return try TerminalTraining(recipe: recipe, threads: threads, echo: echo).train(fresh, on: train, test: test).network
            }
        }
        let result: GroupRemovalStudy.Result
        do {
            result = try removal.run(network: network, test: test, calibration: images, fineTune: fineTune, trainFromScratch: trainFromScratch) { event in
                switch event {
                case .step(let step, let cost):
                    say("step \(step)/\(steps): \(cost.parameters) parameters, \(cost.multiplyAccumulates) MACs"
                        + (finetuneEpochs > 0 ? "; fine-tuning \(finetuneEpochs) epoch\(finetuneEpochs == 1 ? "" : "s")" : ""))
                case .changes(let changes):
                    for change in changes { say("  \(change.name): \(change.before) → \(change.after) channels") }
                }
            }
        } catch let error as StudyError {
            throw CLIError(error)
        }
        var metadata = loaded.metadata.filter { ![Checkpoint.architectureKey, Checkpoint.graphKey, TrainingRun.progressKey, "format"].contains($0.key) }
        metadata.merge(data.metadata(for: test)) { _, new in new }
        metadata["cnnprune.group_pruning"] = String(decoding: (try? JSONEncoder().encode(result.changes)) ?? Data(), as: UTF8.self)
        if let trained = Int(loaded.metadata[Checkpoint.epochsTrainedKey] ?? "") {
            metadata[Checkpoint.epochsTrainedKey] = String(trained + (result.fineTuned == nil ? 0 : finetuneEpochs * steps))
        }
        do {
            try Checkpoint.save(result.final, to: URL(fileURLWithPath: output), metadata: metadata)
        } catch {
            throw CLIError((error as? AtomicFileError)?.description ?? "cannot write \(output): \(error.localizedDescription)")
        }
        return Report(model: model, output: output, architecture: name, criterion: result.criterionName, target: targetDescription,
                      groups: result.changes, before: result.before, pruned: result.prunedMeasurement, fineTuned: result.fineTunedMeasurement,
                      finetuneEpochs: finetuneEpochs, steps: steps, calibration: result.calibrationDescription,
                      scratch: result.scratchMeasurement, scratchEpochs: scratchEpochs)
    }
}

extension GroupPruneRun {
    /// The run `prune` asks for on channel groups: its target, criterion, calibration, budget,
    /// steps, fine-tuning recipe and scratch control.
    init(command: PruneCommand, loaded: LoadedModel) throws {
        let target: PruningTarget
        if let ratio = command.ratio { target = .uniformRatio(ratio) }
        else if let ratio = command.globalRatio { target = .globalRatio(ratio) }
        else if let fraction = command.targetMacs { target = .multiplyAccumulates(fraction) }
        else if let fraction = command.targetParams { target = .parameters(fraction) }
        else { target = .count(command.k ?? 0, group: command.layer) }
        // Validated by the command.
        let allocation = BudgetAllocation(rawValue: command.allocation) ?? .global
        let removal = GroupRemovalStudy(target: target, criterion: command.criterion, calibration: try command.calibration.map(parseCalibration) ?? .default,
                                        allowResidual: command.pruneResidual, maximumGroupRatio: command.maxLayerRatio, allocation: allocation,
                                        steps: command.iterative, seed: command.seed, threads: command.threading.threads, timingRuns: command.timingRuns)
        self.init(model: command.model, loaded: loaded, data: command.data, output: command.output, removal: removal,
                  targetDescription: GroupPruneRun.describe(target, allocation: allocation, maximumGroupRatio: command.maxLayerRatio),
                  recipe: command.fineTuningRecipe, finetuneEpochs: command.finetuneEpochs,
                  scratchControl: command.scratchControl ? command.scratchEpochs.map(ScratchLength.epochs) ?? .asPruned : nil,
                  echo: !command.json)
    }

    /// A target in `prune`'s flags, e.g. `--global-ratio 0.5 (max 0.9 per group)`.
    static func describe(_ target: PruningTarget, allocation: BudgetAllocation, maximumGroupRatio: Double) -> String {
        let shared = switch allocation {
        case .global: "global, max \(maximumGroupRatio) per group"
        case .uniform: "the same fraction of every group, max \(maximumGroupRatio)"
        }
        switch target {
        case .count(let k, let group): return "--k \(k) of \(group)"
        case .uniformRatio(let r): return "--ratio \(r)"
        case .globalRatio(let r): return "--global-ratio \(r) (max \(maximumGroupRatio) per group)"
        case .multiplyAccumulates(let f): return "--target-macs \(f) (\(shared))"
        case .parameters(let f): return "--target-params \(f) (\(shared))"
        }
    }
}
