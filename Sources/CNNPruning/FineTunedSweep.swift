import CNNEngine

/// How to fine-tune a pruned network: the training recipe (Adam by default, or any optimizer, schedule and augmentation; softmax cross-entropy,
/// shuffled mini-batches, as `cnnprune train`) run for a few epochs from the pruned weights,
/// with a fresh optimizer.
///
/// Two networks fine-tuned with the same recipe on the same data see the same batches in the
/// same order, so their accuracies differ only by what was pruned.
public struct FineTuning: Sendable, Equatable {
    /// Epochs over the training data, at least 1.
    public var epochs: Int
    /// Adam's learning rate.
    public var learningRate: Float
    /// Images per training step.
    public var batchSize: Int
    /// Seeds the shuffling (there is no initialisation to seed: training starts from the given weights).
    public var seed: UInt64
    /// The optimizer (default: Adam, the exercise's).
    public var optimizer = OptimizerSettings()
    /// The schedule's shape, milestones, gamma and warm-up (nil: a constant rate); its peak rate
    /// and length are always `learningRate` and `epochs`.
    public var schedule: LearningRateSchedule?
    /// Crops and flips of the training images (nil: none).
    public var augmentation: Augmentation?

    /// The exercise's recipe (`cnnprune train`'s defaults): lr 0.001, batches of 64.
    public init(epochs: Int, learningRate: Float = 0.001, batchSize: Int = 64, seed: UInt64 = 0) {
        precondition(epochs >= 1, "fine-tuning needs at least one epoch")
        precondition(batchSize >= 1, "the batch size must be positive")
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.seed = seed
    }

    /// The schedule and augmentation in words for reports, "" for the exercise's recipe
    /// (e.g. ", cosine schedule, 1 warm-up epoch, crop + flip augmentation").
    public var scheduleDescription: String {
        var text = ""
        if let schedule {
            switch schedule.shape {
            case .constant: break
            case .step: text += ", step schedule at epochs \(schedule.milestones.map(String.init).joined(separator: ", ")) (×\(schedule.gamma))"
            case .cosine: text += ", cosine schedule"
            }
            if schedule.warmupEpochs > 0 { text += ", \(schedule.warmupEpochs) warm-up epoch\(schedule.warmupEpochs == 1 ? "" : "s")" }
        }
        if augmentation != nil { text += ", crop + flip augmentation" }
        return text
    }

    /// Trains `network` (widths `model`) for `epochs` on `data`.
    /// - Parameters:
    ///   - network: the starting point.
    ///   - model: its widths.
    ///   - data: the training images.
    ///   - threads: training workers; the result is reproducible bit for bit for a given count.
    ///   - progress: called after every batch (`BatchProgress.epoch` is 1-based).
    /// - Returns: the trained network (same widths) and each epoch's mean training loss.
    /// - Throws: `NonFiniteLossError` if the loss diverges.
    public func train<Data: LabeledImages>(_ network: Network, model: SimpleCNN, on data: Data, threads: Int,
                                           progress: ((BatchProgress) -> Void)? = nil) throws -> (network: Network, losses: [Double]) {
        var schedule = self.schedule ?? .constant(learningRate, epochs: epochs)
        schedule.baseLearningRate = learningRate
        schedule.epochs = epochs
        let run = TrainingRun(network: network, optimizer: optimizer, schedule: schedule, augmentation: augmentation,
                              batchSize: batchSize, threads: threads, seed: seed)
        var losses: [Double] = []
        for _ in 0..<epochs {
            losses.append(try run.runEpoch(on: data, progress: progress).trainLoss)
        }
        return (run.network, losses)
    }
}

/// Accuracy after removing K units and fine-tuning, at one K.
public struct FineTunedPoint: Sendable, Equatable {
    /// Units removed.
    public var k: Int
    /// The removed units, ascending, as indices of the original layer.
    public var removed: [Int]
    /// The layer's width after the removal.
    public var width: Int
    /// Parameters of the smaller network.
    public var parameters: Int
    /// Mean training loss of each fine-tuning epoch.
    public var trainLosses: [Double]
    /// Correctly classified evaluation images after fine-tuning.
    public var correct: Int
    /// Evaluation images.
    public var total: Int
    /// Accuracy after fine-tuning, in percent.
    public var accuracy: Double { total == 0 ? 0 : 100 * Double(correct) / Double(total) }

    /// The result at one K (see the properties).
    public init(k: Int, removed: [Int], width: Int, parameters: Int, trainLosses: [Double], correct: Int, total: Int) {
        self.k = k
        self.removed = removed
        self.width = width
        self.parameters = parameters
        self.trainLosses = trainLosses
        self.correct = correct
        self.total = total
    }
}

/// The fine-tuned companion of a rank-once `Sweep`: for each ranking and each K, the K
/// lowest-ranked units are **removed** (`GroupRemoval` of the layer's group, a smaller dense network), the smaller
/// network is fine-tuned, and its accuracy measured.
///
/// Fine-tuning trains the removed network — the model that ships — not a masked copy. With the
/// bias kept, a masked unit still fires and its zeroed weights receive gradients and grow back;
/// with the bias zeroed too they stay at zero (the unit's output is 0 before the ReLU, whose
/// gradient there is 0), so a masked copy would train the same network, only slower. Removal
/// gives exactly the masked network's logits with the bias zeroed, so before fine-tuning each
/// point equals the sweep's bias-zeroed masked point at the same K.
///
/// K = 0 fine-tunes the unpruned network with the same recipe: the control that shows what the
/// extra training alone is worth. Removal sets shared between rankings (K = 0 always is) are
/// fine-tuned once.
///
/// ```swift
/// let points = try FineTunedSweep.run(network: network, model: model, layer: "conv2",
///                                     rankings: [sweep.ranking], counts: [0, 8, 16],
///                                     fineTuning: FineTuning(epochs: 2), training: train,
///                                     evaluationData: test, threads: 2)
/// print(points[0].map(\.accuracy))
/// ```
public enum FineTunedSweep {
    /// Where a run stands, for a progress display.
    public struct Progress: Sendable {
        /// The network being fine-tuned, 1-based, of `jobs` (distinct removal sets).
        public var job: Int
        /// Networks to fine-tune in all.
        public var jobs: Int
        /// Its K, and the index of the first ranking that asked for it.
        public var k: Int
        /// The index of the first ranking that asked for this K.
        public var ranking: Int
        /// Epochs per network.
        public var epochs: Int
        /// The current batch.
        public var batch: BatchProgress
        /// Fraction of all training batches of the run done, 0…1.
        public var fraction: Double {
            let perJob = Double(epochs * batch.batchCount)
            guard perJob > 0, jobs > 0 else { return 0 }
            let done = Double(job - 1) * perJob + Double(batch.epoch - 1) * Double(batch.batchCount) + Double(batch.batch)
            return min(1, done / (perJob * Double(jobs)))
        }
    }

    /// Removes, fine-tunes and evaluates for every ranking and every K.
    ///
    /// - Parameters:
    ///   - network: the trained network, of widths `model`.
    ///   - model: its widths.
    ///   - layer: `conv1`, `conv2` or `fc1`.
    ///   - rankings: unit indices, least important first (`CriterionSweep.ranking`); K = n removes
    ///     the first n.
    ///   - counts: the K values, each below the layer's width (at least one unit must stay).
    ///   - fineTuning: the recipe, the same for every K.
    ///   - training: the fine-tuning images.
    ///   - evaluationData: the images the accuracy is measured on.
    ///   - threads: workers for training and evaluation.
    ///   - progress: called after every training batch.
    ///   - onPoint: called as each point is finished (ranking index, point), in order.
    /// - Returns: one array of points per ranking, in `counts` order.
    /// - Throws: `PruningError` for an unknown layer, `RemovalError.noUnitsLeft` for a K that
    ///   leaves no unit (before any training), `RemovalError.unitOutOfRange` for a bad ranking,
    ///   `NonFiniteLossError` if fine-tuning diverges.
    public static func run<Training: LabeledImages, Test: LabeledImages>(
        network: Network, model: SimpleCNN, layer: String, rankings: [[Int]], counts: [Int], fineTuning: FineTuning,
        training: Training, evaluationData: Test, threads: Int,
        progress: ((Progress) -> Void)? = nil, onPoint: ((_ ranking: Int, _ point: FineTunedPoint) -> Void)? = nil
    ) throws -> [[FineTunedPoint]] {
        let prunable = try PrunableLayer(named: layer, in: network.architecture)
        for k in counts where k < 0 || k >= prunable.unitCount {
            if k < 0 { throw PruningError.countOutOfRange(k, layer: layer, units: prunable.unitCount, unitName: prunable.unitName) }
            throw RemovalError.noUnitsLeft(layer: layer, units: prunable.unitCount, unitName: prunable.unitName)
        }
        // The distinct removal sets, in the order they are first asked for.
        var jobs: [(set: [Int], k: Int, ranking: Int)] = []
        var jobIndex: [[Int]: Int] = [:]
        for (r, ranking) in rankings.enumerated() {
            for k in counts {
                let set = Array(ranking.prefix(k)).sorted()
                if jobIndex[set] == nil {
                    jobIndex[set] = jobs.count
                    jobs.append((set, k, r))
                }
            }
        }
        let evaluator = Evaluator(threads: max(1, threads))
        var finished: [Int: FineTunedPoint] = [:]
        var results: [[FineTunedPoint]] = rankings.map { _ in [] }
        for (r, ranking) in rankings.enumerated() {
            for k in counts {
                let set = Array(ranking.prefix(k)).sorted()
                let index = jobIndex[set]!
                if let point = finished[index] {
                    var copy = point
                    copy.k = k
                    results[r].append(copy)
                    onPoint?(r, copy)
                    continue
                }
                let job = jobs[index]
                let removal = try GroupRemoval(removing: job.set, of: prunable.group, from: network)
                let tuned = try fineTuning.train(removal.network, model: try removal.simpleCNN, on: training, threads: max(1, threads)) { batch in
                    progress?(Progress(job: index + 1, jobs: jobs.count, k: k, ranking: r, epochs: fineTuning.epochs, batch: batch))
                }
                let evaluation = evaluator.evaluate(tuned.network, on: evaluationData)
                let point = FineTunedPoint(k: k, removed: removal.removed, width: removal.kept.count,
                                           parameters: removal.network.parameters.count, trainLosses: tuned.losses,
                                           correct: evaluation.correct, total: evaluation.total)
                finished[index] = point
                results[r].append(point)
                onPoint?(r, point)
            }
        }
        return results
    }

    /// The number of networks `run` trains for these rankings and counts (distinct removal sets).
    public static func jobCount(rankings: [[Int]], counts: [Int]) -> Int {
        Set(rankings.flatMap { ranking in counts.map { Array(ranking.prefix($0)).sorted() } }).count
    }
}
