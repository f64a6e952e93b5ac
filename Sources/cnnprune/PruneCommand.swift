import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `cnnprune prune`: physically remove the K least important channels (or neurons) of a layer
/// and save the smaller model, with its size, work, speed and accuracy before and after.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the K least important channels of a layer and save the smaller, faster model.",
        discussion: """
        Ranks the layer's output channels (or fc1's neurons) with the criterion, removes the K least \
        important — the layer's weight and bias lose them and the next layer's weight loses the \
        matching inputs (conv2's input channels, fc1's 64 features per conv2 channel, fc2's inputs) — \
        and saves the smaller dense model. Prints parameters, file size, multiply-accumulates per \
        image, inference images/s on the test set (best of --timing-runs passes, models timed in turn) \
        and test accuracy, before and after.

        --finetune-epochs N trains the pruned model N epochs with the training recipe (Adam or --optimizer and the recipe flags, \
        --batch-size, --lr, --seed). --iterative STEPS reaches K in STEPS equal steps (⌊K·i/STEPS⌋ \
        removed after step i), re-ranking on the current model and fine-tuning between steps, as \
        Torch-Pruning's iterative_steps does.

        The output records its widths and the pruning history in the safetensors metadata: \
        evaluate, sweep, prune and train --model load it without flags.

        Criteria: \(ImportanceCriteria.layerStudyNames.joined(separator: ", ")).
        """
    )

    @Option(help: "The model to prune (safetensors, from cnnprune or PyTorch; may already be pruned); several, comma-separated, prune each alike into --output with -<i> before its extension, and report the accuracies' means with 95 % intervals over the models.")
    var model: String

    @OptionGroup var data: DataOptions

    @Option(help: "The layer to prune: \(SimpleCNN.prunableLayers.joined(separator: ", ")).")
    var layer: String = "conv2"

    @Option(parsing: .unconditional, help: "Channels (or neurons) to remove from --layer (a SimpleCNN layer, or any network's channel group: see `cnnprune groups`); at least one must stay.")
    var k: Int?

    @Option(parsing: .unconditional, help: "Remove this fraction of every prunable channel group (any architecture).")
    var ratio: Double?

    @Option(parsing: .unconditional, help: "Remove this fraction of all prunable channels, ranked across groups on normalised scores (any architecture).")
    var globalRatio: Double?

    @Option(parsing: .unconditional, help: "Prune until the multiply-accumulates are at most this fraction (shared among the groups as --allocation says).")
    var targetMacs: Double?

    @Option(parsing: .unconditional, help: "Prune until the parameters are at most this fraction (shared among the groups as --allocation says).")
    var targetParams: Double?

    @Option(help: "With --target-macs or --target-params: global (channels ranked across groups on normalised scores, in steps of 5 % of those left, at most --max-layer-ratio of any group) or uniform (the smallest fraction, in 1 % steps, removed from every group alike that meets the target).")
    var allocation: String = "global"

    @Option(parsing: .unconditional, help: "With a global target: the largest fraction of any group's channels that may go.")
    var maxLayerRatio: Double = 0.9

    @Flag(help: "Also prune channel groups coupled through residual sums (every branch feeding the sum loses the channel).")
    var pruneResidual = false

    @Option(help: "The importance criterion (SimpleCNN layers: \(ImportanceCriteria.layerStudyNames.joined(separator: ", ")); channel groups: \(ImportanceCriteria.names.joined(separator: ", "))).")
    var criterion: String = "l1"

    @Option(help: "Images that rank the units, for data-driven criteria: train:N (a seeded subset of N training images), train (all 50,000) or test (the evaluation data). Default: train:5000.")
    var calibration: String?

    @Option(help: "Where to save the pruned model (written atomically).")
    var output: String

    @Option(parsing: .unconditional, help: "Fine-tuning epochs after each pruning step (0: no fine-tuning).")
    var finetuneEpochs: Int = 0

    @Option(parsing: .unconditional, help: "Reach K in this many equal steps, re-ranking and fine-tuning between them.")
    var iterative: Int = 1

    @Flag(help: "The control of Liu et al. 2019: also train the pruned architecture from a fresh initialisation (--scratch-epochs, the fine-tuning recipe) and report its accuracy beside the pruned-and-fine-tuned one (channel-group pruning).")
    var scratchControl = false

    @Option(parsing: .unconditional, help: "Epochs of the --scratch-control run: the total the pruned model saw (default: the epochs recorded in the model file plus the fine-tuning epochs).")
    var scratchEpochs: Int?

    @Option(parsing: .unconditional, help: "Images per fine-tuning step.")
    var batchSize: Int = 64

    @Option(parsing: .unconditional, help: "Adam learning rate for fine-tuning.")
    var lr: Float = 0.001

    @Option(parsing: .unconditional, help: "Seed of the calibration subset, the random criterion and the fine-tuning shuffle (step i uses SEED + i − 1).")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Timed inference passes over the test set per model; the best counts.")
    var timingRuns: Int = 5

    @OptionGroup var threading: ThreadOptions

    /// `--arch`, `--arch-file`, `--classes`, `--width-multiplier`: the architecture of a model file
    /// that records none and matches no known one.
    @OptionGroup(title: "Architecture (for files that record none)") var architecture: ArchitectureOptions

    /// Fine-tuning's optimizer, schedule and augmentation (`RecipeOptions.swift`).
    @OptionGroup(title: "Fine-tuning recipe") var recipeOptions: RecipeOptions

    @Flag(help: "Print one JSON object at the end (fine-tuning progress goes to stderr).")
    var json = false

    /// Whether a target for channel groups of any architecture was given.
    var isGroupTarget: Bool { ratio != nil || globalRatio != nil || targetMacs != nil || targetParams != nil || pruneResidual || scratchControl }

    func validate() throws {
        let targets = [k != nil, ratio != nil, globalRatio != nil, targetMacs != nil, targetParams != nil].filter { $0 }.count
        guard targets == 1 else {
            throw ValidationError(targets == 0 ? "give one target: --k N, --ratio R, --global-ratio R, --target-macs F or --target-params F"
                                               : "give only one of --k, --ratio, --global-ratio, --target-macs and --target-params")
        }
        try usage {
            for (setting, value) in [(SettingError.Setting.uniformRatio, ratio), (.globalRatio, globalRatio), (.multiplyAccumulatesFraction, targetMacs),
                                     (.parametersFraction, targetParams), (.maximumGroupRatio, maxLayerRatio)] {
                if let value { try SettingError.checkFraction(value, setting) }
            }
        }
        guard BudgetAllocation(rawValue: allocation) != nil else {
            throw ValidationError("--allocation must be \(BudgetAllocation.allCases.map(\.rawValue).joined(separator: " or ")), got '\(allocation)'")
        }
        if allocation != BudgetAllocation.global.rawValue && targetMacs == nil && targetParams == nil {
            throw ValidationError("--allocation applies to --target-macs and --target-params only")
        }
        if isGroupTarget || k != nil {
            if !isGroupTarget { _ = try parseCriteria(criterion, seed: seed) }
            try usage {
                if !isGroupTarget, let k { try SettingError.check(k, .count) }
                try SettingError.checkPruningSteps(iterative, count: k, capped: isGroupTarget)
            }
            if isGroupTarget { _ = try parseCriteria(criterion, seed: seed) }
        }
        if let calibration { _ = try parseCalibration(calibration) }
        if let scratchEpochs { try usage { try SettingError.check(scratchEpochs, .scratchEpochs) } }
        if scratchEpochs != nil && !scratchControl { throw ValidationError("--scratch-epochs sets the length of --scratch-control; pass --scratch-control too") }
        try usage {
            try recipeOptions.applied(to: TrainingRecipe(epochs: finetuneEpochs, batchSize: batchSize, learningRate: lr))
                .checkLengthBatchAndRate(epochsSetting: .fineTuningEpochs)
            try SettingError.check(timingRuns, .timingRuns)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("--output \(output) is a folder; give the path of the .safetensors file to write")
        }
        do { try checkOutputFile(output, flag: "--output") } catch let error as CLIError { throw ValidationError(error.description) }
    }

    func run() throws {
        let files = ModelList.files(model)
        if files.count > 1 {
            try validateModelFiles(files, fallback: architecture.fallback(for: data))
            try MultiModelPruneRun(command: self, models: files).run()
            return
        }
        let result = try pruneOne()
        if json { try printJSON(result.report) } else { print(result.text) }
    }

    /// Prunes `--model` to `--output` (and fine-tunes, and measures); returns what `run` prints.
    func pruneOne() throws -> PruneRunResult {
        let general = try ModelFile.load(model, fallback: architecture.fallback(for: data))
        try checkStudyMemory(general.network, threads: threading.threads, model: model)
        if isGroupTarget || general.simpleCNN == nil || !ImportanceCriteria.layerStudyNames.contains(criterion) {
            return PruneRunResult(try GroupPruneJob(command: self, loaded: general).report(general, data: data, echo: !json), timingRuns: timingRuns)
        }
        let status = StatusLine()
        defer { status.clear() }
        let loaded = try loadModel(model)
        let calibrationSet = try calibration.map(parseCalibration) ?? .default
        let study = LayerRemovalStudy(layer: layer, count: k!, steps: iterative, criterion: try parseCriteria(criterion, seed: seed)[0],
                                      calibrationLabel: calibrationSet.description, finetuneEpochs: finetuneEpochs,
                                      threads: threading.threads, timingRuns: timingRuns)
        let job = LayerPruneJob(study: study, calibration: calibrationSet, source: model, output: output)
        _ = try job.check(loaded.model)

        status.show("reading the \(data.dataset.displayName) test set")
        let test = try data.load(.test)
        try data.check(loaded.network, fits: test, model: model, metadata: loaded.metadata)
        let images = CalibrationImages(data: data, test: test, seed: seed, threads: threading.threads, status: status)
        let train = finetuneEpochs > 0 ? try images.trainingSet() : nil
        let fineTune = train.map { train in { (network: Network, step: Int) in try fineTuning(step: step).train(network, on: train, test: test).network } }
        return try job.run(network: loaded.network, model: loaded.model, metadata: loaded.metadata, test: test, images: images,
                           extraMetadata: data.metadata(for: test), fineTune: fineTune, say: say)
    }

    /// The fine-tuning recipe from this command's flags (`--finetune-epochs`, `--batch-size`,
    /// `--lr`, `--seed` and the recipe flags).
    var fineTuningRecipe: TrainingRecipe {
        recipeOptions.applied(to: TrainingRecipe(epochs: max(1, finetuneEpochs), batchSize: batchSize, learningRate: lr, seed: seed))
    }

    /// The fine-tuning after pruning step `step` (1-based): the recipe seeded SEED + step − 1.
    func fineTuning(step: Int) -> TerminalTraining {
        TerminalTraining(recipe: fineTuningRecipe.forPruningStep(step), threads: threading.threads, echo: !json)
    }

    /// Prints a progress line: to stdout, or to stderr under `--json`.
    func say(_ line: String) { sayProgress(line, toStdout: !json) }
}
