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
        guard recipeOptions.warmupEpochs == 0 || recipeOptions.warmupEpochs < finetuneEpochs else {
            throw ValidationError("--warmup-epochs (\(recipeOptions.warmupEpochs)) must be below --finetune-epochs (\(finetuneEpochs))")
        }
        if let k { _ = try parseCounts(k) }
        if seedCompatible, let set = calibrationOptions.calibration, try parseCalibration(set) != .test {
            throw ValidationError("--seed-compatible ranks on the test set, as the exercise does; drop --calibration \(set)")
        }
        try validateEpochs(finetuneEpochs, flag: "--finetune-epochs", minimum: 0)
        try validateBatchSize(batchSize)
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a positive finite number, got \(lr)") }
        if finetuneEpochs > 0 && seedCompatible {
            throw ValidationError("--finetune-epochs fine-tunes criteria ranked once; the exercise's loop (--seed-compatible) re-ranks one model in place and has no removed model per K")
        }
        if finetuneEpochs > 0 && keepBias {
            throw ValidationError("--finetune-epochs starts from the model with the units removed, which equals masking with the bias zeroed; drop --keep-bias")
        }
    }

    func run() throws {
        let modelList = modelFiles(model)
        guard modelList.count > 1 else { _ = try sweepOne(); return }
        let outputLock = try lockOutputDirectory(output)
        defer { withExtendedLifetime(outputLock) {} }
        try validateModelFiles(modelList, fallback: architecture.fallback(for: data))
        try MultiModelSweepRun(command: self, models: modelList).run()
    }

    /// Sweeps the one model of `--model` into `--output`; returns its criteria's curves and its
    /// classes, for a several-model summary.
    func sweepOne() throws -> (curves: [ModelCurve], classes: Int) {
        let outputLock = try lockOutputDirectory(output)
        defer { withExtendedLifetime(outputLock) {} }
        let start = DispatchTime.now().uptimeNanoseconds
        let status = StatusLine()
        defer { status.clear() }
        let general = try loadAnyModel(model, fallback: architecture.fallback(for: data))
        try checkStudyMemory(general.network, threads: threading.threads, model: model)
        guard isSimpleCNNStudy(general) else {
            return try runGroups(general, start: start, status: status)
        }
        let loaded = try loadModel(model)
        let network = loaded.network
        let layer = self.layer ?? "conv2"
        try validateLayerName(layer)
        let prunable = try pruningStep { try PrunableLayer(named: layer, in: network.architecture) }
        let counts = try k.map(parseCounts) ?? PruningCounts.defaultCounts(units: prunable.unitCount)
        try pruningStep { try PruningCounts.validate(counts, for: prunable) }
        if finetuneEpochs > 0, let last = counts.last, last >= prunable.unitCount {
            throw CLIError("with --finetune-epochs every K must leave at least one \(prunable.unitName): \(prunable.name) has \(prunable.unitCount), so K must be 0…\(prunable.unitCount - 1), got \(last)")
        }
        let criteria = try parseCriteria(criterion, seed: calibrationOptions.seed)
        let calibration: CalibrationSet = seedCompatible ? .test : calibrationOptions.set

        status.show("reading the \(data.dataset.displayName) test set")
        let test = try data.load(.test)
        try data.check(loaded.network, fits: test, model: model, metadata: loaded.metadata)
        let images = CalibrationImages(data: data, test: test, seed: calibrationOptions.seed, threads: threading.threads, status: status)
        let requests = criteria.map { criterion in
            SweepRequest(criterion: criterion, calibration: calibration,
                         method: seedCompatible ? .exerciseLoop : .rankOnce(keepBias: keepBias),
                         label: seedCompatible ? "\(criterion.name) (exercise's loop)" : criterion.name)
        }
        status.show("evaluating \(requests.count) × \(counts.count) masked models on \(grouped(test.count)) test images")
        let result = try pruningStep {
            try LayerSweep.run(network: network, layer: prunable, requests: requests, counts: counts, evaluationData: test,
                               threads: threading.threads, statistics: images.provider(for: prunable))
        }
        status.clear()
        let sweeps = result.sweeps
        let baseline = result.baseline.accuracy
        let classes = network.architecture.outputShape.reduce(1, *)
        let fineTuned = finetuneEpochs > 0
            ? try fineTune(sweeps, network: network, model: loaded.model, layer: prunable, counts: counts, images: images, test: test, status: status)
            : nil
        let how = seedCompatible ? "the exercise's loop" : (keepBias ? "bias kept" : "weights and bias zeroed")
        let chart = ReportFiles.accuracyChart(
            title: "Pruning \(prunable.name): \(how), ranked on \(calibrationTitle(calibration, criteria))",
            layer: prunable, sweeps: sweeps, classes: classes, fineTuned: fineTuned)
        let document = ReportFiles.sweepDocument(
            model: model, layer: prunable, calibration: calibration, sweeps: sweeps, evaluationImages: test.count,
            baseline: baseline, seconds: seconds(since: start), seedCompatible: seedCompatible, keepBias: keepBias, fineTuned: fineTuned,
            datasetName: data.dataset.displayName)
        let files = try ReportFiles.write(document, csv: ReportFiles.sweepCSV(sweeps, fineTuned: fineTuned), chart: chart,
                                          to: URL(fileURLWithPath: output), base: "sweep")

        print("Pruning \(prunable.name) (\(prunable.unitCount) \(prunable.unitName)s) of \(model): test accuracy \(format(baseline, 2)) % unpruned")
        print("Ranking: \(criteria.map(\.name).joined(separator: ", ")) on \(calibration.label)"
              + (criteria.allSatisfy { $0.need == .none } ? " (unused: these criteria read the weights only)" : ""))
        print("Masking: \(ReportFiles.methodDescription(requests[0].method))")
        if let fineTuned {
            print("Fine-tuned: \(FineTuningDocument.text(fineTuned.recipe)) (\(plural(fineTuned.networksTrained, "network")) trained in \(format(fineTuned.seconds, 1)) s)")
        }
        print("")
        print(ReportFiles.table(sweeps, fineTuned: fineTuned))
        print("")
        print(chart.terminalText(width: 78, height: 22))
        print("")
        print("Wrote \(files.joined(separator: ", ")) in \(format(seconds(since: start), 2)) s")
        return (ModelCurve.sweep(document.criteria), classes)
    }

    /// Removes each sweep's K lowest-ranked units, fine-tunes and evaluates (`FineTunedSweep`),
    /// with a live progress line on a terminal.
    private func fineTune(_ sweeps: [CriterionSweep], network: Network, model: SimpleCNN, layer: PrunableLayer, counts: [Int],
                          images: CalibrationImages, test: ByteImages, status: StatusLine) throws -> FineTunedResults {
        let start = DispatchTime.now().uptimeNanoseconds
        let train = try images.trainingSet()
        status.clear()
        let recipe = recipeOptions.applied(to: FineTuning(epochs: finetuneEpochs, learningRate: lr, batchSize: batchSize, seed: calibrationOptions.seed))
        let rankings = sweeps.map(\.ranking)
        let names = sweeps.map(\.request.label)
        let jobs = FineTunedSweep.jobCount(rankings: rankings, counts: counts)
        let progress = FineTuneProgress()
        defer { progress.clear() }
        progress.note("fine-tuning \(plural(jobs, "network")) × \(plural(finetuneEpochs, "epoch")) on \(grouped(train.count)) training images")
        let points: [[FineTunedPoint]]
        do {
            points = try FineTunedSweep.run(
                network: network, model: model, layer: layer.name, rankings: rankings, counts: counts, fineTuning: recipe,
                training: train, evaluationData: test, threads: threading.threads,
                progress: { progress.update($0, names: names, layer: layer.name) },
                onPoint: { r, point in
                    let before = sweeps[r].points.first { $0.k == point.k }.map { format($0.accuracy, 2) + " %" } ?? "–"
                    progress.note("\(names[r]), K = \(point.k): \(before) → \(format(point.accuracy, 2)) % fine-tuned")
                })
        } catch let error as NonFiniteLossError {
            throw CLIError("fine-tuning diverged: \(error.commandLineDescription); try a smaller --lr")
        } catch let error as RemovalError {
            throw CLIError(error.description)
        }
        return FineTunedResults(recipe: recipe, points: points, trainingImages: train.count, networksTrained: jobs,
                                threads: threading.threads, seconds: seconds(since: start))
    }

    private func calibrationTitle(_ set: CalibrationSet, _ criteria: [any ImportanceCriterion]) -> String {
        if criteria.allSatisfy({ $0.need == .none }) { return "weights" }
        switch set {
        case .test: return "the test set"
        case .training: return "the training set"
        case .trainingSubset(let n): return "\(grouped(n)) train images"
        }
    }
}

