import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNStudy
import Foundation

/// `cnnprune train`: the exercise's training recipe (Adam, cross-entropy, batch 64) by default,
/// or another optimizer, schedule and augmentation (`RecipeOptions`).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network (the SimpleCNN by default, or --arch / --arch-file) on CIFAR-10 and save it as safetensors.",
        discussion: "Prints mean training loss, test accuracy, seconds and images/s per epoch. Pass --model to continue training (fine-tune) an existing checkpoint of any architecture."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var architecture: ArchitectureOptions
    @OptionGroup var threading: ThreadOptions
    /// `--epochs`, `--batch-size`, `--lr`, `--seed` and the recipe flags.
    @OptionGroup var training: TrainingOptions

    /// The recipe the flags describe.
    var recipe: TrainingRecipe { training.recipe }

    /// The recipe run with this command's threads and output.
    var terminal: TerminalTraining { TerminalTraining(recipe: recipe, threads: threading.threads, echo: !json) }

    @Option(help: "Checkpoint to start from instead of a fresh initialisation.")
    var model: String?

    @Option(help: "Where to save the trained model.")
    var output: String = "model.safetensors"

    @Flag(help: "Print one JSON object with every epoch's figures at the end.")
    var json = false

    @Option(parsing: .unconditional, help: "Save a resumable training checkpoint (model + optimizer state + position) every N epochs.")
    var checkpointEvery: Int?

    @Option(help: "Where training checkpoints go (default: OUTPUT with .checkpoint.safetensors).")
    var checkpoint: String?

    @Option(help: "Continue the run saved in this training checkpoint up to --epochs in total (its optimizer, schedule, augmentation, batch size and learning rate come from the checkpoint).")
    var resume: String?

    @Option(help: ArgumentHelp("Record a step-by-step trace (initial parameters, batches, losses, parameters after --trace-at steps) for replay by another implementation.", visibility: .hidden))
    var trace: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Steps recorded by --trace.", visibility: .hidden))
    var traceSteps = 200

    @Option(help: ArgumentHelp("Steps after which --trace stores the parameters (comma list).", visibility: .hidden))
    var traceAt = "1,10,50,100,200"

    /// The steps of `--trace-at`.
    var traceSavedSteps: [Int] { traceAt.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    @Option(parsing: .unconditional, help: "Train on the first N training images only (a shorter epoch, for quick runs and benchmarks); evaluation still uses the whole test set.")
    var subset: Int?

    func validate() throws {
        if trace != nil {
            guard traceSteps > 0 else { throw ValidationError("--trace-steps must be positive, got \(traceSteps)") }
            guard traceAt.split(separator: ",").allSatisfy({ Int($0.trimmingCharacters(in: .whitespaces)).map { $0 > 0 } ?? false }) else {
                throw ValidationError("--trace-at must be a comma list of positive step numbers, got '\(traceAt)'")
            }
            if resume != nil { throw ValidationError("--trace records a run from its start; it cannot be combined with --resume") }
        }
        if let checkpointEvery, checkpointEvery <= 0 {
            throw ValidationError("--checkpoint-every must be positive, got \(checkpointEvery)")
        }
        if let subset, subset <= 0 { throw ValidationError("--subset must be positive, got \(subset)") }
        if resume != nil && model != nil { throw ValidationError("--resume and --model cannot be combined") }
        if OutputPath.sameFile(checkpointURL, URL(fileURLWithPath: output)) {
            throw ValidationError("--checkpoint and --output name the same file (\(output)): the final model would overwrite the training checkpoint; give them different paths")
        }
        if let resume, OutputPath.sameFile(URL(fileURLWithPath: resume), URL(fileURLWithPath: output)) {
            throw ValidationError("--resume and --output name the same file (\(output)): the final model would overwrite the checkpoint it resumes; give another --output")
        }
        if (resume != nil || model != nil) && architecture.isGiven {
            throw ValidationError("--arch, --arch-file, --classes and --width-multiplier build a new network; a --model or --resume file records its own")
        }
    }

    /// The key of the training subset's size in a run's context (absent: the whole training set).
    static let subsetKey = "subset"
    /// The key of the data set's description in a run's context.
    static let datasetKey = "dataset"

    /// What determines the run besides the recipe: the data set (name, image shape, classes,
    /// labels, normalisation) and the subset trained on.
    func runContext(train: ByteImages, subset: Int?) -> [String: String] {
        var context = [TrainCommand.datasetKey: DatasetDescription(dataset: data.dataset, images: train, labels: data.dataset == .cifar100 ? data.labels.rawValue : nil).json]
        if let subset { context[TrainCommand.subsetKey] = String(subset) }
        return context
    }

    /// Refuses to resume `run` with flags or data that contradict what its checkpoint recorded.
    func checkResumable(_ run: TrainingRun, file: String, context: [String: String]) throws {
        let given = GivenFlags.current
        func refuse(_ flag: String, _ value: String, _ recorded: String) -> Error {
            ValidationError("\(value.isEmpty ? flag : "\(flag) \(value)") contradicts \(file), which recorded \(recorded); drop \(flag) to resume the run as it was")
        }
        let recordedSubset = run.context[TrainCommand.subsetKey]
        if let subset, !run.context.isEmpty, recordedSubset != String(subset) {
            throw refuse("--subset", String(subset), recordedSubset.map { "a subset of \($0) images" } ?? "the whole training set")
        }
        if given.contains("--seed"), recipe.seed != run.seed { throw refuse("--seed", String(recipe.seed), "seed \(run.seed)") }
        if given.contains("--batch-size"), recipe.batchSize != run.trainer.batchSize {
            throw refuse("--batch-size", String(recipe.batchSize), "batch size \(run.trainer.batchSize)")
        }
        if given.contains("--lr"), recipe.learningRate != run.schedule.baseLearningRate {
            throw refuse("--lr", String(recipe.learningRate), "learning rate \(run.schedule.baseLearningRate)")
        }
        let optimizerFlags = ["--optimizer", "--momentum", "--nesterov", "--weight-decay"]
        if !given.isDisjoint(with: optimizerFlags), recipe.optimizer != run.optimizerSettings {
            throw refuse(optimizerFlags.first(where: given.contains)!, recipe.optimizer.description, run.optimizerSettings.description)
        }
        let scheduleFlags = ["--lr-schedule", "--lr-step-epochs", "--lr-gamma", "--warmup-epochs"]
        if let flag = scheduleFlags.first(where: given.contains) {
            // Compared over the recorded horizon: only --epochs may change it.
            var recorded = recipe
            recorded.learningRate = run.schedule.baseLearningRate
            recorded.epochs = run.schedule.epochs
            let wanted = recorded.schedule
            if wanted != run.schedule { throw refuse(flag, "(schedule \(wanted.shape.rawValue))", "schedule \(run.schedule.shape.rawValue) with \(run.schedule.warmupEpochs) warm-up epochs") }
        }
        if given.contains("--augment"), run.augmentation == nil { throw refuse("--augment", "", "no augmentation") }
        if let recorded = run.context[TrainCommand.datasetKey], let current = context[TrainCommand.datasetKey], recorded != current {
            throw CLIError("\(file) was trained on other data (\(recorded)); this run's data is \(current): pass the --dataset, --data, --labels and --normalize of the original run")
        }
    }

    /// The training checkpoint path: `--checkpoint`, else OUTPUT's name with `.checkpoint.safetensors`.
    var checkpointURL: URL {
        if let checkpoint { return URL(fileURLWithPath: checkpoint) }
        let out = URL(fileURLWithPath: output)
        return out.deletingPathExtension().appendingPathExtension("checkpoint.safetensors")
    }

    func run() throws {
        try checkOutputFile(output, flag: "--output")
        if checkpointEvery != nil { try checkOutputFile(checkpointURL.path, flag: "--checkpoint") }
        if let trace { try checkOutputFile(trace, flag: "--trace") }
        let run: TrainingRun
        // Metadata of a `--model` file worth keeping (e.g. its pruning history), so that
        // fine-tuning a pruned model does not forget how it was made.
        var inherited: [String: String] = [:]
        var resumed: TrainingRun?
        if let resume {
            try checkReadableFile(resume, what: "training checkpoint")
            do {
                resumed = try TrainingRun(resuming: SafeTensors(contentsOf: URL(fileURLWithPath: resume)), threads: threading.threads)
            } catch let error as TrainingCheckpointError {
                throw CLIError("\(resume): \(error.description)")
            } catch let error as CheckpointError {
                throw CLIError("\(resume): \(error.commandLineDescription)")
            } catch {
                throw CLIError("\(resume): \(error)")
            }
        }
        // A resumed run trains on the subset it recorded; a --subset that contradicts it is refused below.
        let recordedSubset = resumed?.context[TrainCommand.subsetKey].flatMap { Int($0) }
        let fullTrain = try data.load(.train)
        let subsetSize = subset ?? recordedSubset
        let train = subsetSize.map { fullTrain.selecting(Array(0..<min($0, fullTrain.count))) } ?? fullTrain
        let test = try data.load(.test)
        let context = runContext(train: train, subset: subsetSize)
        if let resume, let resumed {
            run = resumed
            try checkResumable(run, file: resume, context: context)
            try data.check(run.network, fits: train, model: resume)
            guard run.epochsCompleted < recipe.epochs else {
                throw CLIError("\(resume) has already completed \(run.epochsCompleted) epochs; pass --epochs above that")
            }
            // The recipe comes from the checkpoint; only the run's length follows --epochs.
            run.schedule.epochs = recipe.epochs
        } else if let model {
            let loaded = try loadAnyModel(model)
            try data.check(loaded.network, fits: train, model: model, metadata: loaded.metadata)
            inherited = loaded.metadata.filter { ![Checkpoint.architectureKey, Checkpoint.graphKey, TrainingRun.progressKey, "format"].contains($0.key) }
            run = try terminal.makeRun(from: loaded.network)
        } else {
            // The exercise's SimpleCNN (or --arch / --arch-file) for this data's image shape and classes.
            if !architecture.isGiven || architecture.arch == "simplecnn" { _ = try data.simpleCNN(for: train) }
            let network = try architecture.network(inputShape: train.sampleShape, defaultClasses: train.classNames.count, seed: recipe.seed)
            try data.check(network, fits: train, model: architecture.archFile ?? architecture.arch ?? "simplecnn")
            run = try terminal.makeRun(from: network)
        }
        run.context = context
        inherited.merge(data.metadata(for: train)) { _, new in new }
        var traceRecorder: TrainingTrace?
        if trace != nil {
            let recorder = TrainingTrace(initial: run.network, steps: traceSteps, savedSteps: traceSavedSteps,
                                         network: { [unowned run] in run.network },
                                         moments: { [unowned run] in (run.trainer.optimizer as? Adam).map { ($0.firstMoment, $0.secondMoment) } })
            run.trainer.stepObserver = { recorder.record(indices: $0, summedLoss: $1) }
            traceRecorder = recorder
        }
        let checkpointURL = self.checkpointURL
        let epochs = try terminal.train(run, on: train, test: test) { run in
            guard let every = checkpointEvery, run.epochsCompleted % every == 0 else { return }
            try run.checkpoint().write(to: checkpointURL)
            printError("checkpoint: epoch \(run.epochsCompleted) saved to \(checkpointURL.path)")
        }
        let before = resume == nil ? Int(inherited[Checkpoint.epochsTrainedKey] ?? "") ?? 0 : 0
        inherited[Checkpoint.epochsTrainedKey] = String(before + (resume == nil ? epochs.count : run.epochsCompleted))
        try Checkpoint.save(run.network, to: URL(fileURLWithPath: output), metadata: inherited)
        if let trace, let traceRecorder {
            try traceRecorder.write(to: URL(fileURLWithPath: trace), batchSize: run.trainer.batchSize, seed: recipe.seed)
        }
        if json {
            try printJSON(TrainingReport(epochs: epochs, testAccuracy: rounded(epochs.last?.testAccuracy ?? 0), matrixProducts: BLAS.backend.rawValue))
        } else {
            print(String(format: "test accuracy %.2f%%, model saved to %@", epochs.last?.testAccuracy ?? 0, output))
        }
    }
}

/// `train --json` output.
struct TrainingReport: Codable {
    var epochs: [EpochRecord]
    var testAccuracy: Double
    /// The library that ran the matrix products (`BLAS.backend`: onednn, openblas, accelerate).
    var matrixProducts: String?
    enum CodingKeys: String, CodingKey {
        case epochs
        case testAccuracy = "test_accuracy"
        case matrixProducts = "matrix_products"
    }
}
