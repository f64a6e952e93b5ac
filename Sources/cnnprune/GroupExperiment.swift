import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `cnnprune experiment` on any network other than the SimpleCNN (`--arch`, `--arch-file` or a
/// `--model` of another architecture): train or load, then CNNStudy's channel-group study
/// (evaluate, sweep one channel group with every group criterion, the sensitivity of every
/// group), and a global removal that is fine-tuned and measured through `prune`'s own run — with
/// the network's own layer names throughout.
struct GroupExperiment {
    let command: ExperimentCommand
    let train: ByteImages
    let test: ByteImages
    let status: StatusLine
    let start: UInt64

    /// The largest fraction of any group the removal step takes (`prune`'s `--max-layer-ratio` default).
    static let maximumGroupRatio = 0.9

    func run() throws {
        let directory = URL(fileURLWithPath: command.output)
        let threads = command.threading.threads
        let calibration = try parseCalibration(command.calibration)

        // 1. The model.
        let network: Network, origin: ExperimentReport.ModelOrigin, name: String
        var trainingSeconds: Double?
        if let path = command.model {
            let loaded = try ModelFile.load(path)
            try command.data.check(loaded.network, fits: test, model: path, metadata: loaded.metadata)
            network = loaded.network
            origin = .loaded(path: path)
            name = loaded.graph.name ?? "custom architecture"
        } else {
            let fresh = try command.architecture.choice.network(inputShape: train.sampleShape, defaultClasses: train.classNames.count, seed: command.recipe.seed)
            try command.data.check(fresh, fits: train, model: command.architecture.archFile ?? command.architecture.arch ?? "network")
            name = fresh.architecture.graph?.name ?? "custom architecture"
            print("Training \(name) for \(command.recipe.epochs) epochs (\(command.recipe.description))")
            let training = ExperimentTraining(recipe: command.recipe, threads: threads, directory: directory, dataMetadata: command.data.metadata(for: train))
            let trained = try TerminalTraining(recipe: command.recipe, threads: threads, echo: true).run { try training.train(fresh, train: train, test: test, progress: $0) }
            network = trained.network
            origin = trained.origin
            trainingSeconds = trained.seconds
        }

        // 2. The study: one group with every criterion, the sensitivity of every group.
        let group: ChannelGroup
        do { group = try ChannelGroups(network.architecture).studied(command.layer, allowResidual: command.pruneResidual) }
        catch let error as StudyError { throw CLIError(error.commandLineDescription(model: origin.path)) }
        let study = GroupExperimentStudy(calibration: calibration, seed: command.recipe.seed, threads: threads,
                                         pruneResidual: command.pruneResidual, datasetName: command.data.dataset.displayName)
        var report = try study.run(network: network, name: name, origin: origin, group: group, train: train, test: test, progress: status)
        if let trainingSeconds { report.timings["training"] = trainingSeconds }

        // 3. Global removal by l1, fine-tuned and measured, as `prune --global-ratio R --json` does it.
        let phase = DispatchTime.now().uptimeNanoseconds
        let target = PruningTarget.globalRatio(command.globalRatio)
        let removal = GroupRemovalStudy(target: target, criterion: "l1", allowResidual: command.pruneResidual, maximumGroupRatio: GroupExperiment.maximumGroupRatio,
                                        seed: command.recipe.seed, threads: threads, timingRuns: command.timingRuns)
        var fineTuning = command.recipe
        fineTuning.epochs = max(1, command.finetuneEpochs)
        let prune = GroupPruneJob(source: origin.path, output: directory.appendingPathComponent("pruned.safetensors").path, removal: removal,
                                  targetDescription: GroupPruneJob.describe(target, allocation: .global, maximumGroupRatio: GroupExperiment.maximumGroupRatio),
                                  recipe: fineTuning, finetuneEpochs: command.finetuneEpochs)
        report.removal = try prune.report(try ModelFile.load(origin.path), data: command.data, echo: false)
        report.globalRatio = command.globalRatio
        report.timings["removal"] = seconds(since: phase)
        report.timings["total"] = seconds(since: start)

        // 4. Files.
        let files = try report.write(to: directory)
        print(report.summary())
        print("Wrote \(files.count) files into \(directory.path) in \(format(seconds(since: start), 1)) s; read \(directory.appendingPathComponent("report.md").path)")
    }
}
