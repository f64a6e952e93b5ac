import ArgumentParser
import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `cnnprune sweep`: rank a layer's units, mask the K least important, measure test accuracy
/// for each K.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Accuracy after masking the K least important channels of a layer, for a range of K.",
        discussion: """
        Ranks the layer's output channels (or fc1's neurons) with each criterion, then for each K \
        evaluates a fresh copy of the model with the K lowest-ranked units' weights and bias zeroed \
        on the 10,000 test images. Writes sweep.json, sweep.csv, sweep.svg and sweep.png into --output \
        and prints a table and a chart.

        --finetune-epochs N adds a fine-tuned accuracy per K: the K lowest-ranked units are removed \
        (the smaller dense network `prune` makes: the model you would ship, and faster to train than \
        a masked copy), the network is trained N epochs on the 50,000 training images with the training \
        recipe (Adam or --optimizer, fresh optimizer, --batch-size, --lr, the recipe flags; shuffled with --seed, the same order for \
        every K) and evaluated again. K = 0 is the unpruned model fine-tuned as long: the control \
        for what the extra training alone is worth. It costs N training epochs per K and criterion \
        (removal sets shared between criteria are trained once); the chart gets a dashed line per \
        criterion, the table, sweep.csv and sweep.json a fine-tuned accuracy per K. Not with \
        --seed-compatible or --keep-bias, whose masked networks are not the removed ones.

        Criteria: \(ImportanceCriteria.layerStudyNames.joined(separator: ", ")).

        Any other network (a zoo architecture, an --arch-file graph, a pruned model): --layer names \
        a channel group (`cnnprune groups --model FILE` lists them; default: the last prunable one), \
        criteria \(ImportanceCriteria.names.joined(separator: ", ")); each K masks the group's \
        channels whole (filters, biases, BatchNorms) in a fresh copy, the layers before the group \
        run once per batch for all copies. --prune-residual allows groups coupled through residual sums.
        """
    )

    @Option(help: "The model (safetensors, from cnnprune or PyTorch); several, comma-separated, sweep each alike (its files in --output/model-<i>/) and add sweep-models.json/.csv/.svg/.png: means with 95 % intervals over the models and paired comparisons with random and the first criterion.")
    var model: String

    @OptionGroup var data: DataOptions

    @Option(help: "The layer (channel group) to prune: for the SimpleCNN \(SimpleCNN.prunableLayers.joined(separator: ", ")) (default conv2); for any other network a prunable group that `cnnprune groups` lists (default: the last one).")
    var layer: String?

    @Flag(help: "Allow groups coupled through residual sums (other networks than the SimpleCNN).")
    var pruneResidual = false

    @Option(help: "Criteria, comma-separated, in the order to report them (\(ImportanceCriteria.names.joined(separator: ", "))).")
    var criterion: String = "mean-activation"

    @Option(parsing: .unconditional, help: "Numbers of units to prune: START:STOP:STEP (STOP excluded, like Python's range) or a comma list. Default: 16 counts from 0 (0:32:2 for conv2).")
    var k: String?

    @OptionGroup var calibrationOptions: CalibrationOptions

    @Flag(help: "Zero the weights only and keep the biases (the exercise's zeroing).")
    var keepBias = false

    @Flag(help: "Run the exercise's loop exactly: one model pruned in place and cumulatively, re-ranked on the test set before each K, weights zeroed, biases kept.")
    var seedCompatible = false

    @Option(parsing: .unconditional, help: "Also remove the K units, fine-tune this many epochs and report that accuracy (0: no fine-tuning).")
    var finetuneEpochs: Int = 0

    @Option(parsing: .unconditional, help: "Images per fine-tuning step (the training recipe's batch size).")
    var batchSize: Int = 64

    @Option(parsing: .unconditional, help: "Adam learning rate for fine-tuning.")
    var lr: Float = 0.001

    @OptionGroup var threading: ThreadOptions

    /// `--arch`, `--arch-file`, `--classes`, `--width-multiplier`: the architecture of a model file
    /// that records none and matches no known one.
    @OptionGroup(title: "Architecture (for files that record none)") var architecture: ArchitectureOptions

    /// Fine-tuning's optimizer, schedule and augmentation (`RecipeOptions.swift`).
    @OptionGroup(title: "Fine-tuning recipe") var recipeOptions: RecipeOptions

    @Option(help: "Directory for sweep.json, sweep.csv, sweep.svg and sweep.png.")
    var output: String = "runs/sweep"

    /// Whether the SimpleCNN study (its layers, its criteria) runs, rather than the group study.
    func isSimpleCNNStudy(_ loaded: LoadedModel) -> Bool {
        loaded.simpleCNN != nil && ((try? ImportanceCriteria.parseList(criterion, seed: calibrationOptions.seed)) ?? [])
            .allSatisfy { ImportanceCriteria.layerStudyNames.contains($0.name) }
    }

    func validate() throws {
        _ = try parseCriteria(criterion, seed: calibrationOptions.seed)
        let recipe = recipeOptions.applied(to: TrainingRecipe(epochs: finetuneEpochs, batchSize: batchSize, learningRate: lr))
        // `sweep` has always checked the warm-up against the fine-tuning's length first.
        if recipe.warmupEpochs != 0, recipe.warmupEpochs >= finetuneEpochs {
            throw ValidationError(SettingError(.warmupEpochs, value: recipe.warmupEpochs, requirement: .below(.fineTuningEpochs, value: finetuneEpochs)).commandLineDescription)
        }
        if let k { _ = try parseCounts(k) }
        if seedCompatible, let set = calibrationOptions.calibration, try parseCalibration(set) != .test {
            throw ValidationError("--seed-compatible ranks on the test set, as the exercise does; drop --calibration \(set)")
        }
        try usage { try recipe.checkLengthBatchAndRate(epochsSetting: .fineTuningEpochs) }
        if finetuneEpochs > 0 && seedCompatible {
            throw ValidationError("--finetune-epochs fine-tunes criteria ranked once; the exercise's loop (--seed-compatible) re-ranks one model in place and has no removed model per K")
        }
        if finetuneEpochs > 0 && keepBias {
            throw ValidationError("--finetune-epochs starts from the model with the units removed, which equals masking with the bias zeroed; drop --keep-bias")
        }
    }

    func run() throws { try runOneOrSeveral() }

    /// Sweeps the one model of `--model` into `--output` (`SweepStudy`); returns its criteria's
    /// curves and its classes, for a several-model summary.
    func studyOne() throws -> (curves: [ModelCurve], classes: Int) {
        try runStudy { loaded, status, start in
            let (subject, counts) = try subject(of: loaded)
            let (test, images) = try testImages(for: loaded, seed: calibrationOptions.seed, status: status)
            let study = SweepStudy(criteria: try parseCriteria(criterion, seed: calibrationOptions.seed), counts: counts, calibration: calibrationOptions.set,
                                   method: seedCompatible ? .exerciseLoop : .rankOnce(keepBias: keepBias), threads: threading.threads,
                                   modelPath: model, datasetName: data.dataset.displayName)
            let recipe = finetuneEpochs > 0
                ? recipeOptions.applied(to: FineTuning(epochs: finetuneEpochs, learningRate: lr, batchSize: batchSize, seed: calibrationOptions.seed))
                : nil
            let directory = URL(fileURLWithPath: output)
            switch subject {
            case .layer(let layer):
                return try study.runLayer(layer, of: loaded.network, model: loaded.simpleCNN!, test: test, images: images,
                                          fineTuning: recipe, progress: status, output: directory, start: start)
            case .group(let group):
                return try study.runGroup(group, of: loaded, test: test, images: images, progress: status, output: directory, start: start)
            }
        }
    }

    /// The SimpleCNN layer or the channel group to sweep and its counts (CNNStudy's
    /// `SweepSubject`); the SimpleCNN's own flags are refused on a group.
    private func subject(of loaded: LoadedModel) throws -> (subject: SweepSubject, counts: [Int]) {
        let counts = try k.map(parseCounts)
        if isSimpleCNNStudy(loaded) {
            try validateLayerName(layer ?? "conv2")
            return try SweepSubject.layer(named: layer ?? "conv2", of: loaded.network, counts: counts, fineTuned: finetuneEpochs > 0)
        }
        if seedCompatible { throw CLIError("--seed-compatible is the exercise's loop on the SimpleCNN's layers; \(model) holds \(loaded.summary) (or --layer/--criterion name a channel group study)") }
        if keepBias { throw CLIError("--keep-bias zeroes a SimpleCNN layer's weights only; a channel group is masked whole (filters, biases and BatchNorms)") }
        if finetuneEpochs > 0 { throw CLIError("--finetune-epochs in a sweep works on the SimpleCNN's layers; for a channel group use `cnnprune prune --layer GROUP --k K --finetune-epochs N`") }
        return try SweepSubject.group(named: layer, of: loaded.network, counts: counts, allowResidual: pruneResidual)
    }
}

/// Prints a one-model study's report: its header, table and chart, and the files written.
func printReport(_ report: StudyReport, since start: UInt64) {
    for line in report.header { print(line) }
    print("")
    print(report.table)
    print("")
    print(report.chart.terminalText(width: 78, height: 22))
    print("")
    print("Wrote \(report.files.joined(separator: ", ")) in \(format(seconds(since: start), 2)) s")
}
