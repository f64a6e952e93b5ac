import CNNEngine
import Dispatch

/// What a model costs and what it is worth: its size, its work per image, its measured
/// inference speed and its test accuracy — one row of a "before / after pruning" table.
public struct ModelMeasurement: Codable, Equatable, Sendable {
    /// The widths.
    public var model: SimpleCNN
    /// Learnable scalars.
    public var parameters: Int
    /// Multiply-accumulates of one forward pass over one image (`SimpleCNN.multiplyAccumulates`).
    public var multiplyAccumulates: Int
    /// Bytes of the model's safetensors file as `Checkpoint.save` writes it (F32 tensors and the
    /// header with the widths).
    public var fileBytes: Int
    /// Test accuracy in percent.
    public var accuracy: Double
    /// Correct predictions, of `total`.
    public var correct: Int
    /// Test images evaluated.
    public var total: Int
    /// Inference speed on the test images: the best of `imagesPerSecondRuns`, or `nil` when not
    /// timed. Every run is a full evaluation pass (normalising the images included).
    public var imagesPerSecond: Double?
    /// Every timed pass, in the order run.
    public var imagesPerSecondRuns: [Double]
    /// Worker threads of the timed passes.
    public var threads: Int

    enum CodingKeys: String, CodingKey {
        case model, parameters, accuracy, correct, total, threads
        case multiplyAccumulates = "macs"
        case fileBytes = "file_bytes"
        case imagesPerSecond = "images_per_second"
        case imagesPerSecondRuns = "images_per_second_runs"
    }

    /// The size and work of `network` (widths `model`), with the accuracy of `evaluation` and no timing.
    public init(network: Network, model: SimpleCNN, evaluation: Evaluation, threads: Int = 1) {
        self.model = model
        parameters = network.parameters.count
        multiplyAccumulates = ArchitectureCost(network.architecture).multiplyAccumulates
        fileBytes = Checkpoint.safeTensors(of: network, model: model).encoded().count
        accuracy = evaluation.accuracy
        correct = evaluation.correct
        total = evaluation.total
        imagesPerSecond = nil
        imagesPerSecondRuns = []
        self.threads = threads
    }

    /// Measures `network` (widths `model`) on `data`: accuracy and the best of `timingRuns`
    /// timed evaluation passes with `threads` workers. See `measure(_:on:threads:timingRuns:)`
    /// to time several models fairly on a shared machine.
    public init<Data: LabeledImages>(measuring network: Network, model: SimpleCNN, on data: Data, threads: Int, timingRuns: Int = 3) {
        self = ModelMeasurement.measure([(network, model)], on: data, threads: threads, timingRuns: timingRuns)[0]
    }

    /// Measures several models on `data`, timing them in turn — round 1 times every model once,
    /// then round 2, … — so that load from other processes falls on all of them alike; each
    /// model's speed is its best round. A first untimed pass per model warms its workspaces.
    /// - Parameters:
    ///   - models: networks with their widths.
    ///   - data: the test images.
    ///   - threads: evaluation workers (as `Evaluator(threads:)`).
    ///   - timingRuns: timed passes per model; 0 measures accuracy only.
    public static func measure<Data: LabeledImages>(_ models: [(network: Network, model: SimpleCNN)], on data: Data,
                                                    threads: Int, timingRuns: Int = 3) -> [ModelMeasurement] {
        let evaluators = models.map { _ in Evaluator(threads: threads) }
        var results = zip(models, evaluators).map { entry, evaluator in
            ModelMeasurement(network: entry.network, model: entry.model,
                             evaluation: evaluator.evaluate(entry.network, on: data), threads: threads)
        }
        for _ in 0..<max(0, timingRuns) {
            for (index, entry) in models.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = evaluators[index].evaluate(entry.network, on: data)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                results[index].imagesPerSecondRuns.append(Double(data.count) / max(seconds, 1e-9))
            }
        }
        for index in results.indices {
            results[index].imagesPerSecond = results[index].imagesPerSecondRuns.max()
        }
        return results
    }
}

/// Before and after pruning (and fine-tuning), with the ratios people ask for.
public struct PruningOutcome: Codable, Equatable, Sendable {
    /// The layer pruned, e.g. `conv2`.
    public var layer: String
    /// The criterion that ranked the units, e.g. `l1`.
    public var criterion: String
    /// What ranked the units, e.g. `train:5000`, or `none` for criteria that need no data.
    public var calibration: String
    /// Units removed in total.
    public var count: Int
    /// The removed units, ascending, as indices of the original model's layer.
    public var removed: [Int]
    /// The original model.
    public var before: ModelMeasurement
    /// The pruned model straight after removal (after the last step of an iterative run, so the
    /// earlier steps' fine-tuning is in it).
    public var pruned: ModelMeasurement
    /// The pruned model after its final fine-tuning, if any.
    public var fineTuned: ModelMeasurement?
    /// Each step of an iterative run (one step otherwise).
    public var steps: [PruningStep]

    enum CodingKeys: String, CodingKey {
        case layer, criterion, calibration, count, removed, before, pruned, steps
        case fineTuned = "fine_tuned"
    }

    /// An outcome from its parts (see the properties).
    public init(layer: String, criterion: String, calibration: String, count: Int, removed: [Int],
                before: ModelMeasurement, pruned: ModelMeasurement, fineTuned: ModelMeasurement?, steps: [PruningStep]) {
        self.layer = layer
        self.criterion = criterion
        self.calibration = calibration
        self.count = count
        self.removed = removed
        self.before = before
        self.pruned = pruned
        self.fineTuned = fineTuned
        self.steps = steps
    }

    /// The model that was kept: fine-tuned if it was, else the pruned one.
    public var final: ModelMeasurement { fineTuned ?? pruned }

    /// Parameters after ÷ before.
    public var parameterRatio: Double { Double(pruned.parameters) / Double(before.parameters) }
    /// Multiply-accumulates after ÷ before.
    public var multiplyAccumulateRatio: Double { Double(pruned.multiplyAccumulates) / Double(before.multiplyAccumulates) }
    /// The speed-up of each timing round: the final model's images per second ÷ the original's
    /// in the same round. The two passes of a round run back to back, so load from other
    /// processes mostly cancels out of the ratio.
    public var speedUpByRound: [Double] {
        zip(final.imagesPerSecondRuns, before.imagesPerSecondRuns).map { $1 > 0 ? $0 / $1 : 0 }
    }
    /// The median of `speedUpByRound`, or `nil` when the models were not timed.
    public var speedUp: Double? {
        let ratios = speedUpByRound.sorted()
        guard !ratios.isEmpty else { return nil }
        let middle = ratios.count / 2
        return ratios.count % 2 == 1 ? ratios[middle] : (ratios[middle - 1] + ratios[middle]) / 2
    }
    /// The accuracy kept, in percentage points: final − before.
    public var accuracyChange: Double { final.accuracy - before.accuracy }
}

/// One step of (iterative) pruning.
public struct PruningStep: Codable, Equatable, Sendable {
    /// 1-based.
    public var step: Int
    /// Units removed in this step, as indices of the *original* model's layer, ascending.
    public var removed: [Int]
    /// Units removed so far, this step's included.
    public var totalRemoved: Int
    /// The layer's width after this step.
    public var width: Int
    /// Test accuracy straight after this step's removal, in percent.
    public var accuracy: Double
    /// Test accuracy after this step's fine-tuning, if any.
    public var fineTunedAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case step, removed, width, accuracy
        case totalRemoved = "total_removed"
        case fineTunedAccuracy = "fine_tuned_accuracy"
    }

    /// A step from its parts (see the properties).
    public init(step: Int, removed: [Int], totalRemoved: Int, width: Int, accuracy: Double, fineTunedAccuracy: Double?) {
        self.step = step
        self.removed = removed
        self.totalRemoved = totalRemoved
        self.width = width
        self.accuracy = accuracy
        self.fineTunedAccuracy = fineTunedAccuracy
    }
}
