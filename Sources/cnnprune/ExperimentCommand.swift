import ArgumentParser
import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
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

    @Option(help: "SimpleCNN only: train this many models, seeds --seed … --seed + N − 1, and repeat the conv2 criteria sweeps and the sensitivity on each, with 95 % intervals over the models (default 1: one model).")
    var seeds: Int?

    @Option(help: "SimpleCNN only: study these trained models (comma-separated safetensors files) instead of training --seeds models; model i's calibration subset and random ranking take seed --seed + i.")
    var models: String?

    @OptionGroup var recipe: TrainingRecipe

    @Option(help: "Images that rank the channels for the corrected method and the other criteria (train:N, train or test).")
    var calibration: String = CalibrationSet.default.description

    @Option(help: "Fine-tuning epochs for the model with half of conv2's channels removed (0: no fine-tuning).")
    var finetuneEpochs: Int = 2

    @Option(help: "Timed inference passes over the test set per model in the removal table (interleaved rounds); the best counts.")
    var timingRuns: Int = 5

    @OptionGroup var threading: ThreadOptions

    /// `--arch`, `--arch-file`, `--classes`, `--width-multiplier`: the study on any network.
    @OptionGroup(title: "Architecture (any network: the channel-group study)") var architecture: ArchitectureOptions

    @Option(help: "Networks other than the SimpleCNN: the channel group to sweep with every criterion (default: the last prunable group).")
    var layer: String?

    @Option(help: "Networks other than the SimpleCNN: the --global-ratio of the removal step (pruned, fine-tuned, measured).")
    var globalRatio: Double = 0.5

    @Flag(help: "Networks other than the SimpleCNN: include groups coupled through residual sums.")
    var pruneResidual = false

    /// The layer the exercise prunes.
    static let layerName = "conv2"
    /// The criterion the sensitivity analysis ranks with (Distiller's choice: filter magnitude).
    static let sensitivityCriterion = "l1"

    func validate() throws {
        _ = try parseCalibration(calibration)
        guard finetuneEpochs >= 0 else { throw ValidationError("--finetune-epochs must be 0 or more, got \(finetuneEpochs)") }
        guard timingRuns >= 1 else { throw ValidationError("--timing-runs must be at least 1, got \(timingRuns)") }
        guard globalRatio > 0 && globalRatio < 1 else { throw ValidationError("--global-ratio must be strictly between 0 and 1, got \(globalRatio)") }
        if model != nil && architecture.isGiven { throw ValidationError("--model brings its own architecture; drop --arch, --arch-file, --classes and --width-multiplier") }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        if let models {
            guard model == nil else { throw ValidationError("--model and --models exclude each other: put every model in --models") }
            guard seeds == nil else { throw ValidationError("--models sets the number of models; drop --seeds") }
            guard !architecture.isGiven else { throw ValidationError("--models bring their own architecture; drop --arch, --arch-file, --classes and --width-multiplier") }
            guard !modelPaths(models).isEmpty, modelPaths(models).allSatisfy({ !$0.isEmpty }) else {
                throw ValidationError("--models needs comma-separated model files, got '\(models)'")
            }
        }
        if let seeds, seeds > 1, model != nil { throw ValidationError("--model is one model; give several with --models, or drop --model to train --seeds \(seeds)") }
        if let seeds, seeds > 1, architecture.isGiven, !(architecture.arch == "simplecnn" && architecture.widthMultiplier == 1 && architecture.classes == nil) {
            throw ValidationError("--seeds works on the SimpleCNN only")
        }
    }

    /// `a.safetensors,b.safetensors` → the two paths.
    private func modelPaths(_ list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func run() throws {
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
        let model = givenModels?.first ?? self.model
        let modelCount = givenModels?.count ?? seeds ?? 1

        // Any other network: the channel-group study (GroupExperiment.swift).
        let isSimpleCNN: Bool
        if let model {
            isSimpleCNN = try loadAnyModel(model).simpleCNN != nil
            if !isSimpleCNN && modelCount > 1 { throw CLIError("--models works on SimpleCNN models only; \(model) is another network") }
        } else {
            isSimpleCNN = !architecture.isGiven || (architecture.arch == "simplecnn" && architecture.widthMultiplier == 1 && architecture.classes == nil)
        }
        if !isSimpleCNN {
            try GroupExperiment(command: self, train: train, test: test, status: status, start: start).run()
            return
        }

        // 1. The model: trained here, or loaded.
        var timings = ExperimentReport.Timings()
        let network: Network
        let widths: SimpleCNN
        let origin: ExperimentReport.ModelOrigin
        if let model {
            let loaded = try loadModel(model)
            try data.check(loaded.network, fits: test, model: model, metadata: loaded.metadata)
            network = loaded.network
            widths = loaded.model
            origin = .loaded(path: model)
        } else {
            widths = try data.simpleCNN(for: train)
            var generator = SeededGenerator(seed: recipe.seed)
            print("Training the SimpleCNN for \(recipe.epochs) epochs (\(recipe.options.description(learningRate: recipe.lr)), batch \(recipe.batchSize), seed \(recipe.seed))")
            let trainingStart = DispatchTime.now().uptimeNanoseconds
            let trained = try recipe.train(Network(architecture: try widths.architecture(), generator: &generator), on: train, test: test,
                                           threads: threading.threads, echo: true)
            timings.training = seconds(since: trainingStart)
            network = trained.network
            let path = directory.appendingPathComponent("model.safetensors")
            try Checkpoint.save(network, model: widths, to: path, metadata: data.metadata(for: train))
            origin = .trained(path: path.path, epochs: trained.epochs, recipe: "\(recipe.options.description(learningRate: recipe.lr)), batch \(recipe.batchSize), seed \(recipe.seed)")
        }

        // 2. Evaluate.
        var phase = DispatchTime.now().uptimeNanoseconds
        status.show("evaluating on \(grouped(test.count)) test images")
        let testEvaluation = Evaluator(threads: threading.threads).evaluate(network, on: test)
        timings.evaluation = seconds(since: phase)

        // 3. Sweep conv2: the exercise's loop, its pieces one by one, the corrected method, the other criteria.
        phase = DispatchTime.now().uptimeNanoseconds
        let layer = try pruningStep { try PrunableLayer(named: Self.layerName, in: network.architecture) }
        let layers = PrunableLayer.all(in: network.architecture)
        let counts = PruningCounts.defaultCounts(units: layer.unitCount)
        let images = CalibrationImages(data: data, test: test, seed: recipe.seed, threads: threading.threads, status: status, train: train)
        // One calibration pass (forward and backward) gives every criterion's statistics for every layer.
        let calibrated = try images.statistics(of: layers, in: network, on: calibrationSet, gradients: true)
        let statistics = Dictionary(uniqueKeysWithValues: zip(layers.map(\.name), calibrated))
        let plan = ExperimentReport.SweepPlan(calibration: calibrationSet, seed: recipe.seed)
        status.show("pruning \(layer.name): \(plan.requests.count) sweeps × \(counts.count) values of K on \(grouped(test.count)) test images")
        let evaluation = MaskedEvaluation(network: network, layer: layer, data: test, threads: threading.threads, collectStatistics: true)
        let conv2 = try pruningStep {
            try LayerSweep.run(on: evaluation, requests: plan.requests, counts: counts) { model, set, gradients in
                if set == calibrationSet, model.parameters == network.parameters, let s = statistics[layer.name] { return s }
                return try images.statistics(of: [layer], in: model, on: set, gradients: gradients)[0]
            }
        }
        timings.sweeps = seconds(since: phase)

        // 4. Sensitivity of every layer, reusing conv2's pass over the test images.
        phase = DispatchTime.now().uptimeNanoseconds
        let sensitivityRequest = SweepRequest(criterion: try ImportanceCriteria.named(Self.sensitivityCriterion), calibration: calibrationSet)
        let sensitivity = try SensitivityAnalysis.run(network: network, request: sensitivityRequest, test: test, images: images,
                                                      threads: threading.threads, status: status, reusing: evaluation, precomputed: statistics)
        timings.sensitivity = seconds(since: phase)
        status.clear()

        // 5. Remove a quarter and half of conv2's channels for real (the corrected method's
        // ranking), fine-tune the smaller model, and measure them all side by side.
        phase = DispatchTime.now().uptimeNanoseconds
        let corrected = conv2.sweeps[ExperimentReport.SweepPlan.corrected]
        let removalCounts = RemovalStudy.counts(units: layer.unitCount)
        let removal = removalCounts.isEmpty ? nil : try RemovalStudy.run(
            network: network, model: widths, layer: layer, sweep: corrected, counts: removalCounts,
            recipe: finetuneEpochs > 0 ? recipe.options.applied(to: FineTuning(epochs: finetuneEpochs, learningRate: recipe.lr, batchSize: recipe.batchSize, seed: recipe.seed)) : nil,
            train: train, test: test, threads: threading.threads, timingRuns: timingRuns, status: status)
        timings.removal = seconds(since: phase)

        // 5b. The other models: the criteria sweeps and the sensitivity on each.
        var seedStudy: SeedStudy?
        if modelCount > 1 {
            phase = DispatchTime.now().uptimeNanoseconds
            var runs = [SeedStudy.ModelRun(path: origin.path, seed: recipe.seed, accuracy: testEvaluation.accuracy,
                                           criteria: Array(conv2.sweeps[ExperimentReport.SweepPlan.criteria...]), sensitivity: sensitivity)]
            // Fine-tuning recovery on every model: the removal study's largest K, fine-tuned, against
            // the unpruned model fine-tuned as long.
            var recoveryPairs: [SeedRecovery.ModelPair] = []
            let recovery = removal.flatMap { study in study.fineTuned.flatMap { row in study.recipe.map { (k: row.k, accuracy: row.measurement.accuracy, recipe: $0) } } }
            if let recovery {
                recoveryPairs.append(try SeedRecovery.pair(network: network, model: widths, layer: layer, ranking: corrected.ranking, k: recovery.k,
                                                           recipe: recovery.recipe, seed: recipe.seed, prunedAccuracy: recovery.accuracy,
                                                           train: train, test: test, threads: threading.threads))
            }
            for index in 1..<modelCount {
                let seed = recipe.seed + UInt64(index)
                let other: Network
                let path: String
                if let givenModels {
                    let loaded = try loadModel(givenModels[index])
                    try data.check(loaded.network, fits: test, model: givenModels[index], metadata: loaded.metadata)
                    guard loaded.model == widths else { throw CLIError("\(givenModels[index]) has other layer widths than \(givenModels[0]); --models must be models of one architecture") }
                    other = loaded.network
                    path = givenModels[index]
                } else {
                    var seeded = recipe
                    seeded.seed = seed
                    var generator = SeededGenerator(seed: seed)
                    print("Model \(index + 1) of \(modelCount): training the SimpleCNN for \(recipe.epochs) epochs (seed \(seed))")
                    other = try seeded.train(Network(architecture: try widths.architecture(), generator: &generator), on: train, test: test,
                                             threads: threading.threads, echo: true).network
                    let url = directory.appendingPathComponent("model-seed\(seed).safetensors")
                    try Checkpoint.save(other, model: widths, to: url, metadata: data.metadata(for: train))
                    path = url.path
                }
                runs.append(try studyCriteria(of: other, path: path, seed: seed, layer: layer, counts: counts, calibration: calibrationSet,
                                              train: train, test: test, status: status))
                if let recovery {
                    status.clear()
                    recoveryPairs.append(try SeedRecovery.pair(network: other, model: widths, layer: layer, ranking: runs[index].criteria[0].ranking,
                                                               k: recovery.k, recipe: recovery.recipe, seed: seed,
                                                               train: train, test: test, threads: threading.threads))
                }
            }
            status.clear()
            seedStudy = SeedStudy(runs: runs, layer: layer, counts: counts, classes: test.classNames.count, calibration: calibrationSet)
            if let recovery {
                seedStudy?.recovery = SeedRecovery(k: recovery.k, units: layer.unitCount, epochs: recovery.recipe.epochs, layer: layer.name, pairs: recoveryPairs)
            }
            timings.otherModels = seconds(since: phase)
        }

        // 6. Files and report.
        var report = ExperimentReport(
            origin: origin, network: network, evaluation: testEvaluation, classNames: test.classNames, layer: layer, counts: counts, plan: plan,
            conv2: conv2, sensitivity: sensitivity, removal: removal, unitStatistics: layers.map { ($0, statistics[$0.name]!) }, timings: timings,
            threads: threading.threads, seed: recipe.seed, arguments: Array(CommandLine.arguments.dropFirst()))
        report.datasetName = data.dataset.displayName
        report.seedStudy = seedStudy
        timings.total = seconds(since: start)
        let files = try report.write(to: directory, totalSeconds: seconds(since: start))
        print(report.summary(directory: directory))
        if let seedStudy { print("\n" + seedStudy.summary()) }
        print("Wrote \(files.count) files into \(directory.path) in \(format(seconds(since: start), 1)) s; read \(directory.appendingPathComponent("report.md").path)")
    }

    /// The conv2 sweeps of every criterion (corrected method) and the sensitivity analysis on one
    /// more model of a `--seeds`/`--models` study, seeded by `seed` as model 0 is by `--seed`.
    private func studyCriteria(of network: Network, path: String, seed: UInt64, layer: PrunableLayer, counts: [Int], calibration: CalibrationSet,
                               train: ByteImages, test: ByteImages, status: StatusLine) throws -> SeedStudy.ModelRun {
        status.show("evaluating on \(grouped(test.count)) test images")
        let accuracy = Evaluator(threads: threading.threads).evaluate(network, on: test).accuracy
        let layers = PrunableLayer.all(in: network.architecture)
        let images = CalibrationImages(data: data, test: test, seed: seed, threads: threading.threads, status: status, train: train)
        let calibrated = try images.statistics(of: layers, in: network, on: calibration, gradients: true)
        let statistics = Dictionary(uniqueKeysWithValues: zip(layers.map(\.name), calibrated))
        let requests = Array(ExperimentReport.SweepPlan(calibration: calibration, seed: seed).requests[ExperimentReport.SweepPlan.criteria...])
        status.show("pruning \(layer.name) of the model with seed \(seed): \(requests.count) sweeps × \(counts.count) values of K")
        let evaluation = MaskedEvaluation(network: network, layer: layer, data: test, threads: threading.threads, collectStatistics: true)
        let sweeps = try pruningStep {
            try LayerSweep.run(on: evaluation, requests: requests, counts: counts) { model, set, gradients in
                if set == calibration, model.parameters == network.parameters, let s = statistics[layer.name] { return s }
                return try images.statistics(of: [layer], in: model, on: set, gradients: gradients)[0]
            }
        }
        let sensitivityRequest = SweepRequest(criterion: try ImportanceCriteria.named(Self.sensitivityCriterion), calibration: calibration)
        let sensitivity = try SensitivityAnalysis.run(network: network, request: sensitivityRequest, test: test, images: images,
                                                      threads: threading.threads, status: status, reusing: evaluation, precomputed: statistics)
        return SeedStudy.ModelRun(path: path, seed: seed, accuracy: accuracy, criteria: sweeps.sweeps, sensitivity: sensitivity)
    }
}
