import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// The pruning study of `cnnprune experiment` on trained SimpleCNNs: evaluate model 0, prune
/// `conv2` the exercise's way and the corrected way with every criterion (and the ablation in
/// between), measure every layer's sensitivity, remove a quarter and half of `conv2`'s channels
/// for real, fine-tune and time them — and, given several models, repeat the criteria sweeps and
/// the sensitivity on each for intervals over the models (with fine-tuning, also the recovery of
/// each model's largest removal against its K = 0 control).
///
/// ```swift
/// let study = ExperimentStudy(configuration: ExperimentConfiguration(calibration: .trainingSubset(1000), seed: 7))
/// let report = try study.run(models: [StudyModel(network: network, widths: widths, origin: .loaded(path: "model.safetensors"))],
///                            train: train, test: test)
/// print(report.corrected.points.map(\.accuracy))
/// ```
public struct ExperimentStudy: Sendable {
    /// The layer the exercise prunes.
    public static let layerName = "conv2"
    /// The criterion the sensitivity analysis ranks with (Distiller's choice: filter magnitude).
    public static let sensitivityCriterion = "l1"

    /// Calibration, seeds, fine-tuning, timing and threads.
    public var configuration: ExperimentConfiguration

    /// A study run as `configuration` says.
    public init(configuration: ExperimentConfiguration = ExperimentConfiguration()) {
        self.configuration = configuration
    }

    /// Runs the study on `models` (model 0 gets every part; the others, of the same widths, the
    /// criteria sweeps and the sensitivity), ranking on `train` or `test` as the calibration set
    /// says, evaluating on `test`, fine-tuning on `train`.
    /// - Throws: ``StudyError``.
    public func run(models: [StudyModel], train: ByteImages, test: ByteImages,
                    progress: any StudyProgress = SilentProgress()) throws -> ExperimentReport {
        let start = DispatchTime.now().uptimeNanoseconds
        guard let first = models.first else { throw StudyError.noModels }
        for model in models.dropFirst() where model.widths != first.widths {
            throw StudyError.differentWidths(model: model.origin.path, first: first.origin.path)
        }
        let threads = configuration.threads
        let seed = configuration.seed
        let calibrationSet = configuration.calibration
        let network = first.network
        var timings = ExperimentReport.Timings()
        timings.training = first.trainingSeconds

        // 1. Evaluate.
        var phase = DispatchTime.now().uptimeNanoseconds
        progress.show("evaluating on \(grouped(test.count)) test images")
        let testEvaluation = Evaluator(threads: threads).evaluate(network, on: test)
        timings.evaluation = seconds(since: phase)

        // 2. Sweep conv2: the exercise's loop, its pieces one by one, the corrected method, the other criteria.
        phase = DispatchTime.now().uptimeNanoseconds
        let layer = try studyStep { try PrunableLayer(named: Self.layerName, in: network.architecture) }
        let layers = PrunableLayer.all(in: network.architecture)
        let counts = PruningCounts.defaultCounts(units: layer.unitCount)
        let images = CalibrationImages(test: test, seed: seed, threads: threads, progress: progress, train: train)
        // One calibration pass (forward and backward) gives every criterion's statistics for every layer.
        let calibrated = try images.statistics(of: layers, in: network, on: calibrationSet, gradients: true)
        let statistics = Dictionary(uniqueKeysWithValues: zip(layers.map(\.name), calibrated))
        let plan = ExperimentReport.SweepPlan(calibration: calibrationSet, seed: seed)
        progress.show("pruning \(layer.name): \(plan.requests.count) sweeps × \(counts.count) values of K on \(grouped(test.count)) test images")
        let evaluation = MaskedEvaluation(network: network, layer: layer, data: test, threads: threads, collectStatistics: true)
        let conv2 = try studyStep {
            try Sweep.run(on: evaluation, requests: plan.requests, counts: counts) { model, set, gradients in
                if set == calibrationSet, model.parameters == network.parameters, let s = statistics[layer.name] { return s }
                return try images.statistics(of: [layer], in: model, on: set, gradients: gradients)[0]
            }
        }
        timings.sweeps = seconds(since: phase)

        // 3. Sensitivity of every layer, reusing conv2's pass over the test images.
        phase = DispatchTime.now().uptimeNanoseconds
        let sensitivityRequest = SweepRequest(criterion: try ImportanceCriteria.named(Self.sensitivityCriterion), calibration: calibrationSet)
        let sensitivity = try SensitivityAnalysis.run(network: network, request: sensitivityRequest, test: test, images: images,
                                                      threads: threads, status: progress, reusing: evaluation, precomputed: statistics)
        timings.sensitivity = seconds(since: phase)
        progress.clear()

        // 4. Remove a quarter and half of conv2's channels for real (the corrected method's
        // ranking), fine-tune the smaller model, and measure them all side by side.
        phase = DispatchTime.now().uptimeNanoseconds
        let corrected = conv2.sweeps[ExperimentReport.SweepPlan.corrected]
        let removalCounts = RemovalStudy.counts(units: layer.unitCount)
        let removal = removalCounts.isEmpty ? nil : try RemovalStudy.run(
            network: network, model: first.widths, layer: layer, sweep: corrected, counts: removalCounts, recipe: configuration.fineTuning,
            train: train, test: test, threads: threads, timingRuns: configuration.timingRuns, status: progress)
        timings.removal = seconds(since: phase)

        // 5. The other models: the criteria sweeps and the sensitivity on each.
        var seedStudy: SeedStudy?
        if models.count > 1 {
            phase = DispatchTime.now().uptimeNanoseconds
            var runs = [SeedStudy.ModelRun(path: first.origin.path, seed: seed, accuracy: testEvaluation.accuracy,
                                           criteria: Array(conv2.sweeps[ExperimentReport.SweepPlan.criteria...]), sensitivity: sensitivity)]
            // Fine-tuning recovery on every model: the removal study's largest K, fine-tuned, against
            // the unpruned model fine-tuned as long.
            var recoveryPairs: [SeedRecovery.ModelPair] = []
            let recovery = removal.flatMap { study in study.fineTuned.flatMap { row in study.recipe.map { (k: row.k, accuracy: row.measurement.accuracy, recipe: $0) } } }
            if let recovery {
                recoveryPairs.append(try SeedRecovery.pair(network: network, model: first.widths, layer: layer, ranking: corrected.ranking, k: recovery.k,
                                                           recipe: recovery.recipe, seed: seed, prunedAccuracy: recovery.accuracy,
                                                           train: train, test: test, threads: threads, progress: progress))
            }
            for (index, model) in models.enumerated().dropFirst() {
                let modelSeed = seed &+ UInt64(index)
                runs.append(try studyCriteria(of: model.network, path: model.origin.path, seed: modelSeed, layer: layer, counts: counts,
                                              train: train, test: test, progress: progress))
                if let recovery {
                    progress.clear()
                    recoveryPairs.append(try SeedRecovery.pair(network: model.network, model: first.widths, layer: layer, ranking: runs[index].criteria[0].ranking,
                                                               k: recovery.k, recipe: recovery.recipe, seed: modelSeed,
                                                               train: train, test: test, threads: threads, progress: progress))
                }
            }
            progress.clear()
            seedStudy = SeedStudy(runs: runs, layer: layer, counts: counts, classes: test.classNames.count, calibration: calibrationSet)
            if let recovery {
                seedStudy?.recovery = SeedRecovery(k: recovery.k, units: layer.unitCount, epochs: recovery.recipe.epochs, layer: layer.name, pairs: recoveryPairs)
            }
            timings.otherModels = seconds(since: phase) + models.dropFirst().compactMap(\.trainingSeconds).reduce(0, +)
        }
        timings.total = seconds(since: start)

        var report = ExperimentReport(
            origin: first.origin, network: network, evaluation: testEvaluation, classNames: test.classNames, layer: layer, counts: counts, plan: plan,
            conv2: conv2, sensitivity: sensitivity, removal: removal, unitStatistics: layers.map { ($0, statistics[$0.name]!) }, timings: timings,
            threads: threads, seed: seed, arguments: configuration.arguments)
        report.datasetName = configuration.datasetName
        report.seedStudy = seedStudy
        return report
    }

    /// The conv2 sweeps of every criterion (corrected method) and the sensitivity analysis on one
    /// more model of a multi-model study, seeded by `seed` as model 0 is by the configuration's seed.
    private func studyCriteria(of network: Network, path: String, seed: UInt64, layer: PrunableLayer, counts: [Int],
                               train: ByteImages, test: ByteImages, progress: any StudyProgress) throws -> SeedStudy.ModelRun {
        let threads = configuration.threads
        let calibration = configuration.calibration
        progress.show("evaluating on \(grouped(test.count)) test images")
        let accuracy = Evaluator(threads: threads).evaluate(network, on: test).accuracy
        let layers = PrunableLayer.all(in: network.architecture)
        let images = CalibrationImages(test: test, seed: seed, threads: threads, progress: progress, train: train)
        let calibrated = try images.statistics(of: layers, in: network, on: calibration, gradients: true)
        let statistics = Dictionary(uniqueKeysWithValues: zip(layers.map(\.name), calibrated))
        let requests = Array(ExperimentReport.SweepPlan(calibration: calibration, seed: seed).requests[ExperimentReport.SweepPlan.criteria...])
        progress.show("pruning \(layer.name) of the model with seed \(seed): \(requests.count) sweeps × \(counts.count) values of K")
        let evaluation = MaskedEvaluation(network: network, layer: layer, data: test, threads: threads, collectStatistics: true)
        let sweeps = try studyStep {
            try Sweep.run(on: evaluation, requests: requests, counts: counts) { model, set, gradients in
                if set == calibration, model.parameters == network.parameters, let s = statistics[layer.name] { return s }
                return try images.statistics(of: [layer], in: model, on: set, gradients: gradients)[0]
            }
        }
        let sensitivityRequest = SweepRequest(criterion: try ImportanceCriteria.named(Self.sensitivityCriterion), calibration: calibration)
        let sensitivity = try SensitivityAnalysis.run(network: network, request: sensitivityRequest, test: test, images: images,
                                                      threads: threads, status: progress, reusing: evaluation, precomputed: statistics)
        return SeedStudy.ModelRun(path: path, seed: seed, accuracy: accuracy, criteria: sweeps.sweeps, sensitivity: sensitivity)
    }
}
