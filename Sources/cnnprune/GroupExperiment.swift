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

    func run() throws {
        let directory = URL(fileURLWithPath: command.output)
        let threads = command.threading.threads
        let calibration = try parseCalibration(command.calibration)

        // 1. The model.
        let network: Network, origin: ExperimentReport.ModelOrigin, name: String
        var trainingSeconds: Double?
        if let path = command.model {
            let loaded = try loadAnyModel(path)
            try command.data.check(loaded.network, fits: test, model: path, metadata: loaded.metadata)
            network = loaded.network
            origin = .loaded(path: path)
            name = loaded.graph.name ?? "custom architecture"
        } else {
            let phase = DispatchTime.now().uptimeNanoseconds
            let fresh = try command.architecture.network(inputShape: train.sampleShape, defaultClasses: train.classNames.count, seed: command.recipe.seed)
            try command.data.check(fresh, fits: train, model: command.architecture.archFile ?? command.architecture.arch ?? "network")
            name = fresh.architecture.graph?.name ?? "custom architecture"
            let recipe = "\(command.recipe.options.description(learningRate: command.recipe.lr)), batch \(command.recipe.batchSize), seed \(command.recipe.seed)"
            print("Training \(name) for \(command.recipe.epochs) epochs (\(recipe))")
            let trained = try command.recipe.train(fresh, on: train, test: test, threads: threads, echo: true)
            network = trained.network
            let path = directory.appendingPathComponent("model.safetensors")
            var metadata = command.data.metadata(for: train)
            metadata[Checkpoint.epochsTrainedKey] = String(trained.epochs.count)
            try Checkpoint.save(network, to: path, metadata: metadata)
            origin = .trained(path: path.path, epochs: trained.epochs, recipe: recipe)
            trainingSeconds = seconds(since: phase)
        }

        // 2. The study: one group with every criterion, the sensitivity of every group.
        let groups = try pruningStep { try ChannelGroups(network.architecture) }
        let group = try GroupStudy.group(command.layer, in: groups, allowResidual: command.pruneResidual, model: origin.path)
        let study = GroupExperimentStudy(calibration: calibration, seed: command.recipe.seed, threads: threads,
                                         pruneResidual: command.pruneResidual, datasetName: command.data.dataset.displayName)
        var report: GroupExperimentReport
        do {
            report = try study.run(network: network, name: name, origin: origin, group: group, train: train, test: test, progress: status)
        } catch let error as StudyError {
            throw CLIError(error)
        }
        if let trainingSeconds { report.timings["training"] = trainingSeconds }

        // 3. Global removal, fine-tuned and measured, through `prune`'s own run.
        let phase = DispatchTime.now().uptimeNanoseconds
        let prunedPath = directory.appendingPathComponent("pruned.safetensors").path
        var arguments = ["--model", origin.path, "--global-ratio", String(command.globalRatio), "--criterion", "l1",
                         "--output", prunedPath, "--finetune-epochs", String(command.finetuneEpochs), "--timing-runs", String(command.timingRuns),
                         "--batch-size", String(command.recipe.batchSize), "--lr", String(command.recipe.lr), "--seed", String(command.recipe.seed),
                         "--threads", String(threads), "--json"] + command.recipe.options.arguments + command.data.arguments
        if command.pruneResidual { arguments.append("--prune-residual") }
        let prune = try PruneCommand.parse(arguments)
        report.removal = try GroupPruneRun(command: prune, loaded: try loadAnyModel(origin.path)).report()
        report.globalRatio = command.globalRatio
        report.timings["removal"] = seconds(since: phase)
        report.timings["total"] = seconds(since: start)

        // 4. Files.
        let files: [String]
        do { files = try report.write(to: directory) } catch let error as StudyError { throw CLIError(error) }
        print(report.summary())
        print("Wrote \(files.count) files into \(directory.path) in \(format(seconds(since: start), 1)) s; read \(directory.appendingPathComponent("report.md").path)")
    }
}
