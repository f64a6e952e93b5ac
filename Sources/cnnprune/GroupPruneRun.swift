import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `cnnprune prune` on channel groups (CNNStudy's `GroupPruneJob`) from the command line: the
/// data set read, the fine-tuning and scratch training drawn on the terminal, progress printed.
extension GroupPruneJob {
    /// Reads `data`, prunes `loaded`, fine-tunes, saves and measures; returns the report.
    /// - Parameters:
    ///   - loaded: the model file pruned, as it loaded.
    ///   - data: the data set (`--data`, `--dataset`, …): the test set measured, the training set fine-tuned on.
    ///   - echo: whether progress lines and epoch lines go to stdout (else stderr, under `--json`).
    func report(_ loaded: LoadedModel, data: DataOptions, echo: Bool) throws -> GroupPruneReport {
        let test = try data.load(.test)
        try data.check(loaded.network, fits: test, model: source, metadata: loaded.metadata)
        let images = CalibrationImages(data: data, test: test, seed: removal.seed, threads: removal.threads, status: StatusLine())
        let train = trains ? try data.load(.train) : nil
        let threads = removal.threads
        return try run(loaded, test: test, images: images, extraMetadata: data.metadata(for: test),
                       train: train.map { train in { recipe, network in
                           try TerminalTraining(recipe: recipe, threads: threads, echo: echo).train(network, on: train, test: test).network
                       } },
                       say: { sayProgress($0, toStdout: echo) })
    }

    /// The job `prune` asks for on channel groups: its target, criterion, calibration, budget,
    /// steps, fine-tuning recipe and scratch control.
    init(command: PruneCommand, loaded: LoadedModel) throws {
        let target: PruningTarget
        if let ratio = command.ratio { target = .uniformRatio(ratio) }
        else if let ratio = command.globalRatio { target = .globalRatio(ratio) }
        else if let fraction = command.targetMacs { target = .multiplyAccumulates(fraction) }
        else if let fraction = command.targetParams { target = .parameters(fraction) }
        else {
            // A named group that cannot be pruned: the message with the flag that may allow it.
            if let groups = try? ChannelGroups(loaded.network.architecture), let group = groups.group(named: command.layer),
               let why = group.whyNotPrunableWithFlag(allowResidual: command.pruneResidual) {
                throw CLIError(PruningError.notPrunable(command.layer, reason: why).description)
            }
            target = .count(command.k ?? 0, group: command.layer)
        }
        // Validated by the command.
        let allocation = BudgetAllocation(rawValue: command.allocation) ?? .global
        let removal = GroupRemovalStudy(target: target, criterion: command.criterion, calibration: try command.calibration.map(parseCalibration) ?? .default,
                                        allowResidual: command.pruneResidual, maximumGroupRatio: command.maxLayerRatio, allocation: allocation,
                                        steps: command.iterative, seed: command.seed, threads: command.threading.threads, timingRuns: command.timingRuns)
        self.init(source: command.model, output: command.output, removal: removal,
                  targetDescription: GroupPruneJob.describe(target, allocation: allocation, maximumGroupRatio: command.maxLayerRatio),
                  recipe: command.fineTuningRecipe, finetuneEpochs: command.finetuneEpochs,
                  scratchControl: command.scratchControl ? command.scratchEpochs.map(ScratchLength.epochs) ?? .asPruned : nil)
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
