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

    /// The training checkpoint path: `--checkpoint`, else OUTPUT's name with `.checkpoint.safetensors`.
    var checkpointURL: URL {
        checkpoint.map { URL(fileURLWithPath: $0) } ?? TrainingSession.checkpointURL(forModel: URL(fileURLWithPath: output))
    }

    /// The recipe's settings whose flags are on the command line (a resumed run must not contradict them).
    var explicitSettings: ExplicitTrainingSettings {
        let given = GivenFlags.current
        return ExplicitTrainingSettings(
            subset: subset, seed: given.contains("--seed") ? recipe.seed : nil, batchSize: given.contains("--batch-size") ? recipe.batchSize : nil,
            learningRate: given.contains("--lr") ? recipe.learningRate : nil,
            optimizer: given.isDisjoint(with: TrainCommand.optimizerFlags) ? nil : recipe.optimizer,
            schedule: given.isDisjoint(with: TrainCommand.scheduleFlags) ? nil : recipe.schedule, augmentation: given.contains("--augment"))
    }
    static let optimizerFlags = ["--optimizer", "--momentum", "--nesterov", "--weight-decay"]
    static let scheduleFlags = ["--lr-schedule", "--lr-step-epochs", "--lr-gamma", "--warmup-epochs"]

    /// A `ResumeConflict` as the message naming the flag to drop (or, for data, the flags to pass).
    static func message(_ conflict: ResumeConflict, file: String) -> String {
        let given = GivenFlags.current
        let flag: String, value: String
        switch conflict.setting {
        case .data: return "\(file) was trained on other data (\(conflict.recorded)); this run's data is \(conflict.value): pass the --dataset, --data, --labels and --normalize of the original run"
        case .subset: (flag, value) = ("--subset", conflict.value)
        case .seed: (flag, value) = ("--seed", conflict.value)
        case .batchSize: (flag, value) = ("--batch-size", conflict.value)
        case .learningRate: (flag, value) = ("--lr", conflict.value)
        case .optimizer: (flag, value) = (optimizerFlags.first(where: given.contains) ?? "--optimizer", conflict.value)
        case .schedule: (flag, value) = (scheduleFlags.first(where: given.contains) ?? "--lr-schedule", "(schedule \(conflict.value))")
        case .augmentation: (flag, value) = ("--augment", "")
        }
        return "\(value.isEmpty ? flag : "\(flag) \(value)") contradicts \(file), which recorded \(conflict.recorded); drop \(flag) to resume the run as it was"
    }

    /// The resumed run of `--resume` (the checkpoint's errors as one line naming the file).
    func resumedRun(_ path: String) throws -> TrainingRun {
        try InputPath.check(path, what: "training checkpoint")
        do {
            return try TrainingRun(resuming: SafeTensors(contentsOf: URL(fileURLWithPath: path)), threads: threading.threads)
        } catch let error as TrainingCheckpointError {
            throw CLIError("\(path): \(error.description)")
        } catch let error as CheckpointError {
            throw CLIError("\(path): \(error.commandLineDescription)")
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }

    func run() throws {
        try checkOutputFile(output, flag: "--output")
        if checkpointEvery != nil { try checkOutputFile(checkpointURL.path, flag: "--checkpoint") }
        if let trace { try checkOutputFile(trace, flag: "--trace") }
        let resumed = try resume.map(resumedRun)
        // A resumed run trains on the subset it recorded; a --subset that contradicts it is refused below.
        let fullTrain = try data.load(.train)
        let subsetSize = subset ?? resumed.flatMap { TrainingContext(recorded: $0.context).subset }
        let train = subsetSize.map { fullTrain.selecting(Array(0..<min($0, fullTrain.count))) } ?? fullTrain
        let test = try data.load(.test)
        let context = TrainingContext(dataset: DatasetDescription(dataset: data.dataset, images: train, labels: data.dataset == .cifar100 ? data.labels.rawValue : nil).json,
                                      subset: subsetSize)
        let start: TrainingSession.Start
        if let resume, let resumed {
            do { try resumed.checkResumable(with: explicitSettings, context: context) } catch let conflict as ResumeConflict {
                throw conflict.setting == .data ? CLIError(TrainCommand.message(conflict, file: resume)) : ValidationError(TrainCommand.message(conflict, file: resume))
            }
            try data.check(resumed.network, fits: train, model: resume)
            start = .resuming(resumed)
        } else if let model {
            let loaded = try ModelFile.load(model)
            try data.check(loaded.network, fits: train, model: model, metadata: loaded.metadata)
            start = .fineTuning(loaded.network, metadata: loaded.metadata)
        } else {
            // The exercise's SimpleCNN (or --arch / --arch-file) for this data's image shape and classes.
            if !architecture.isGiven || architecture.arch == "simplecnn" { _ = try data.simpleCNN(for: train) }
            let network = try architecture.choice.network(inputShape: train.sampleShape, defaultClasses: train.classNames.count, seed: recipe.seed)
            try data.check(network, fits: train, model: architecture.archFile ?? architecture.arch ?? "simplecnn")
            start = .fresh(network)
        }
        let session = TrainingSession(start: start, recipe: recipe, threads: threading.threads, context: context,
                                      checkpointEvery: checkpointEvery, checkpointURL: checkpointURL)
        let terminal = TerminalTraining(recipe: recipe, threads: threading.threads, echo: !json)
        let run: TrainingRun
        do { run = try terminal.run { _ in try session.makeRun() } } catch TrainingSessionError.alreadyTrained(let epochs) {
            throw CLIError("\(resume ?? "") has already completed \(epochs) epochs; pass --epochs above that")
        }
        let traceRecorder = trace.map { _ in TrainingTrace.recording(run, steps: traceSteps, savedSteps: traceSavedSteps) }
        let epochs = try terminal.run { progress in
            try session.train(run, on: train, evaluatingOn: test, progress: progress) { epoch, url in
                printError("checkpoint: epoch \(epoch) saved to \(url.path)")
            }
        }
        try Checkpoint.save(run.network, to: URL(fileURLWithPath: output), metadata: session.modelMetadata(after: run, epochs: epochs, data: data.metadata(for: train)))
        if let trace, let traceRecorder {
            try traceRecorder.write(to: URL(fileURLWithPath: trace), batchSize: run.trainer.batchSize, seed: recipe.seed)
        }
        if json {
            try printJSON(TrainingReport(epochs: epochs))
        } else {
            print(String(format: "test accuracy %.2f%%, model saved to %@", epochs.last?.testAccuracy ?? 0, output))
        }
    }
}
