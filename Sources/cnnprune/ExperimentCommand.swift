import ArgumentParser
import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `cnnprune experiment`: the whole pruning exercise in one command, with a report.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "The whole study in one command: train (or reuse --model), evaluate, prune conv2 the exercise's way and the corrected way with every criterion, measure each layer's sensitivity, remove channels for real and fine-tune, and write report.md.",
        discussion: """
        Writes into --output: report.md (figures, tables, charts and a plain-language reading), \
        experiment.json, exercise.png/.svg (the exercise's loop against the corrected method), \
        ablation.png/.svg (what each of the loop's mistakes costs), sweep.json/.csv/.svg/.png (every \
        conv2 sweep; the chart compares the criteria), sensitivity.json/.csv/.svg/.png, and \
        model.safetensors when it trains. Downloads CIFAR-10 if the data directory is missing.

        Its last section removes a quarter and half of conv2's channels for real (K = 8 and 16, \
        ranked by the corrected method), fine-tunes the smaller model --finetune-epochs epochs with \
        the training recipe (--batch-size, --lr, --seed) and measures all of them side by side: \
        parameters, multiply-accumulates, file size, inference images/s (--timing-runs interleaved \
        rounds) and test accuracy. The fine-tuning (an epoch is a pass over 50,000 images) and the \
        timing take most of the run time; --finetune-epochs 0 --timing-runs 1 make it quick.

        With --seeds N (N > 1) it trains N SimpleCNNs, seeds --seed … --seed + N − 1 (or studies the \
        --models given), repeats the conv2 sweeps of every criterion and the sensitivity analysis on \
        each, and adds seeds.json/.csv/.svg/.png and a report section with 95 % intervals over the \
        models and paired comparisons against random and mean-activation (paired t, Holm-corrected). \
        The exercise's loop, the ablation and the removal stay on model 0 only.
        """
    )

    @OptionGroup var data: DataOptions

    @Option(help: "Directory for the report and its files.")
    var output: String = "runs/experiment"
    @Option(help: "Use this trained model (safetensors) instead of training one.")
    var model: String?
    @Option(parsing: .unconditional, help: "SimpleCNN only: train this many models, seeds --seed … --seed + N − 1, and repeat the conv2 criteria sweeps and the sensitivity on each, with 95 % intervals over the models (default 1: one model).")
    var seeds: Int?
    @Option(help: "SimpleCNN only: study these trained models (comma-separated safetensors files) instead of training --seeds models; model i's calibration subset and random ranking take seed --seed + i.")
    var models: String?

    /// `--epochs`, `--batch-size`, `--lr`, `--seed` and the recipe flags.
    @OptionGroup var training: TrainingOptions

    /// The training recipe the flags describe (fine-tuning is a copy of it, shorter).
    var recipe: TrainingRecipe { training.recipe }
    @Option(help: "Images that rank the channels for the corrected method and the other criteria (train:N, train or test).")
    var calibration: String = CalibrationSet.default.description
    @Option(parsing: .unconditional, help: "Fine-tuning epochs for the model with half of conv2's channels removed (0: no fine-tuning).")
    var finetuneEpochs: Int = 2
    @Option(parsing: .unconditional, help: "Timed inference passes over the test set per model in the removal table (interleaved rounds); the best counts.")
    var timingRuns: Int = 5
    @OptionGroup var threading: ThreadOptions

    /// `--arch`, `--arch-file`, `--classes`, `--width-multiplier`: the study on any network.
    @OptionGroup(title: "Architecture (any network: the channel-group study)") var architecture: ArchitectureOptions

    @Option(help: "Networks other than the SimpleCNN: the channel group to sweep with every criterion (default: the last prunable group).")
    var layer: String?
    @Option(parsing: .unconditional, help: "Networks other than the SimpleCNN: the --global-ratio of the removal step (pruned, fine-tuned, measured).")
    var globalRatio: Double = 0.5
    @Flag(help: "Networks other than the SimpleCNN: include groups coupled through residual sums.")
    var pruneResidual = false

    func validate() throws {
        _ = try parseCalibration(calibration)
        try usage {
            try SettingError.check(finetuneEpochs, .fineTuningEpochs)
            try SettingError.check(timingRuns, .timingRuns)
            try SettingError.checkFraction(globalRatio, .globalRatio)
        }
        if model != nil && architecture.isGiven { throw ValidationError("--model brings its own architecture; drop --arch, --arch-file, --classes and --width-multiplier") }
        if let seeds { try usage { try SettingError.check(seeds, .seeds) } }
        let modelCount = models.map { modelPaths($0).count } ?? seeds ?? 1
        if UInt64.max - recipe.seed < UInt64(max(modelCount - 1, 0)) {
            throw ValidationError("--seed \(recipe.seed) with \(modelCount) models needs seeds up to --seed + \(modelCount - 1), past the largest 64-bit seed \(UInt64.max)")
        }
        if let models {
            guard model == nil else { throw ValidationError("--model and --models exclude each other: put every model in --models") }
            guard seeds == nil else { throw ValidationError("--models sets the number of models; drop --seeds") }
            guard !architecture.isGiven else { throw ValidationError("--models bring their own architecture; drop --arch, --arch-file, --classes and --width-multiplier") }
            guard !modelPaths(models).isEmpty, modelPaths(models).allSatisfy({ !$0.isEmpty }) else {
                throw ValidationError("--models needs comma-separated model files, got '\(models)'")
            }
        }
        if let seeds, seeds > 1, model != nil { throw ValidationError("--model is one model; give several with --models, or drop --model to train --seeds \(seeds)") }
        if let seeds, seeds > 1, !architecture.isExerciseSimpleCNN { throw ValidationError("--seeds works on the SimpleCNN only") }
    }

    /// `a.safetensors,b.safetensors` → the two paths.
    private func modelPaths(_ list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func run() throws {
        let outputLock = try lockOutputDirectory(output)
        defer { withExtendedLifetime(outputLock) {} }
        let start = DispatchTime.now().uptimeNanoseconds
        let directory = URL(fileURLWithPath: output)
        let status = StatusLine()
        defer { status.clear() }
        let calibrationSet = try parseCalibration(calibration)

        status.show("reading \(data.dataset.displayName)")
        let test = try data.load(.test, downloadIfMissing: true)
        let train = try data.load(.train, downloadIfMissing: true)
        status.clear()

        // Several models (--seeds N, --models): model 0 gets every study, the others the criteria sweeps and sensitivity.
        let givenModels = models.map(modelPaths)
        if let givenModels { try validateModelFiles(givenModels) }
        let model = givenModels?.first ?? self.model
        let modelCount = givenModels?.count ?? seeds ?? 1

        // Any other network: the channel-group study (GroupExperiment.swift).
        let isSimpleCNN: Bool
        if let model {
            isSimpleCNN = try ModelFile.load(model).simpleCNN != nil
            if !isSimpleCNN && modelCount > 1 { throw CLIError("--models works on SimpleCNN models only; \(model) is another network") }
        } else {
            isSimpleCNN = architecture.isExerciseSimpleCNN
        }
        if !isSimpleCNN {
            try GroupExperiment(command: self, train: train, test: test, status: status, start: start).run()
            return
        }

        // The models, trained here or loaded; the study itself is CNNStudy's.
        let training = ExperimentTraining(recipe: recipe, threads: threading.threads, directory: directory, dataMetadata: data.metadata(for: train))
        var studyModels: [StudyModel] = []
        for index in 0..<max(modelCount, 1) {
            if let path = index == 0 ? model : givenModels?[index] {
                let loaded = try loadModel(path)
                try data.check(loaded.network, fits: test, model: path, metadata: loaded.metadata)
                if index > 0, loaded.model != studyModels[0].widths {
                    throw CLIError("\(path) has other layer widths than \(givenModels![0]); --models must be models of one architecture")
                }
                studyModels.append(StudyModel(network: loaded.network, widths: loaded.model, origin: .loaded(path: path)))
                continue
            }
            let widths = try studyModels.first?.widths ?? data.simpleCNN(for: train)
            let seeded = training.recipe(ofModel: index)
            print(index == 0 ? "Training the SimpleCNN for \(recipe.epochs) epochs (\(seeded.description))"
                             : "Model \(index + 1) of \(modelCount): training the SimpleCNN for \(recipe.epochs) epochs (seed \(seeded.seed))")
            studyModels.append(try TerminalTraining(recipe: seeded, threads: threading.threads, echo: true).run {
                try training.trainSimpleCNN(widths, model: index, train: train, test: test, progress: $0)
            })
        }

        var fineTuningRecipe = recipe
        fineTuningRecipe.epochs = finetuneEpochs
        let fineTuning = finetuneEpochs > 0 ? FineTuning(fineTuningRecipe) : nil
        let study = ExperimentStudy(configuration: ExperimentConfiguration(
            calibration: calibrationSet, seed: recipe.seed, fineTuning: fineTuning, timingRuns: timingRuns, threads: threading.threads,
            datasetName: data.dataset.displayName, arguments: Array(CommandLine.arguments.dropFirst())))
        let report = try study.run(models: studyModels, train: train, test: test, progress: status)
        let files = try report.write(to: directory, totalSeconds: seconds(since: start))
        print(report.summary(directory: directory))
        if let seedStudy = report.seedStudy { print("\n" + seedStudy.summary()) }
        print("Wrote \(files.count) files into \(directory.path) in \(format(seconds(since: start), 1)) s; read \(directory.appendingPathComponent("report.md").path)")
    }
}
