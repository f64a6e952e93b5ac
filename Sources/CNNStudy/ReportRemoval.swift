import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// `experiment`'s removal study: the corrected method's lowest-ranked channels of the layer
/// physically removed (a quarter and half of them, K = 8 and 16 of conv2's 32), the larger
/// removal fine-tuned, and every model measured side by side — parameters, multiply-accumulates,
/// file size, inference speed (timed in interleaved rounds) and test accuracy.
public struct RemovalStudy: Sendable {
    /// One model of the table.
    public struct Row: Sendable {
        /// `original`, `pruned K = 8`, …
        public var name: String
        /// Units removed.
        public var k: Int
        /// Fine-tuning epochs after the removal (0: none).
        public var epochs: Int
        /// Parameters, multiply-accumulates, file size, images/s and test accuracy.
        public var measurement: ModelMeasurement
        /// Median of the per-round ratios of this model's images/s to the original's (1 for the original).
        public var speedUp: Double?
        /// The sweep's masked accuracy at this K (weights and bias zeroed), for the removed rows.
        public var maskedAccuracy: Double?
        /// The masked twin's correctly classified test images.
        public var maskedCorrect: Int?
    }

    /// The layer whose channels are removed.
    public let layer: PrunableLayer
    /// The corrected method's request: criterion and calibration set.
    public let criterion: String
    /// The calibration set of the ranking.
    public let calibration: CalibrationSet
    /// The units removed for the largest K, ascending.
    public let removed: [Int]
    /// The fine-tuning recipe, or `nil` when `--finetune-epochs 0`.
    public let recipe: FineTuning?
    /// Mean training loss of each fine-tuning epoch.
    public let trainLosses: [Double]
    /// Training images per fine-tuning epoch.
    public let trainingImages: Int
    /// The table: the original, each removal, and the fine-tuned model if any.
    public let rows: [Row]
    /// Timing rounds.
    public let timingRuns: Int
    /// Threads.
    public let threads: Int
    /// Seconds fine-tuning, and in all (removal, fine-tuning, timing).
    public let fineTuningSeconds: Double
    /// Seconds of the whole removal study (removal, fine-tuning, timing).
    public let seconds: Double

    /// The K values studied for a layer of `units` units: a quarter and half (8 and 16 of 32),
    /// those that leave at least one unit.
    public static func counts(units: Int) -> [Int] {
        Array(Set([units / 4, units / 2].filter { $0 >= 1 && $0 < units })).sorted()
    }

    /// Removes `sweep`'s lowest-ranked units of `layer` for each of `counts`, fine-tunes the
    /// largest removal with `recipe` (if any) on `train`, and measures every model on `test`.
    public static func run(network: Network, model: SimpleCNN, layer: PrunableLayer, sweep: CriterionSweep, counts: [Int],
                           recipe: FineTuning?, train: ByteImages, test: ByteImages, threads: Int, timingRuns: Int,
                           status: any StudyProgress) throws -> RemovalStudy {
        let start = DispatchTime.now().uptimeNanoseconds
        var models: [(network: Network, model: SimpleCNN)] = [(network, model)]
        var names = ["original"]
        var ks = [0]
        var epochs = [0]
        var removed: [Int] = []
        var largest: (removal: GroupRemoval, model: SimpleCNN)?
        for k in counts {
            let removal = try studyStep { try GroupRemoval(removing: sweep.ranking.prefix(k), of: layer.group, from: network) }
            let smaller = try studyStep { try removal.simpleCNN }
            models.append((removal.network, smaller))
            names.append("pruned K = \(k)")
            ks.append(k)
            epochs.append(0)
            removed = removal.removed
            largest = (removal, smaller)
        }
        var losses: [Double] = []
        let fineTuningStart = DispatchTime.now().uptimeNanoseconds
        if let recipe, let largest {
            status.clear()
            defer { status.clear() }
            let k = largest.removal.removed.count
            let tuned: (network: Network, losses: [Double])
            do {
                tuned = try recipe.train(largest.removal.network, model: largest.model, on: train, threads: threads) { batch in
                    let done = Double((batch.epoch - 1) * batch.batchCount + batch.batch) / Double(recipe.epochs * batch.batchCount)
                    status.fineTuning("fine-tuning \(layer.name) with K = \(k) removed", batch: batch, epochs: recipe.epochs, fraction: done)
                }
            } catch let error as NonFiniteLossError {
                throw StudyError.fineTuningDiverged(error)
            }
            losses = tuned.losses
            models.append((tuned.network, largest.model))
            names.append("pruned K = \(k) + fine-tuned \(plural(recipe.epochs, "epoch"))")
            ks.append(k)
            epochs.append(recipe.epochs)
        }
        let fineTuningSeconds = recipe == nil ? 0 : CNNStudy.seconds(since: fineTuningStart)
        status.show("timing \(models.count) models: \(timingRuns) interleaved rounds over \(grouped(test.count)) test images")
        let measured = ModelMeasurement.measure(models, on: test, threads: threads, timingRuns: timingRuns)
        status.clear()
        let rows = measured.indices.map { i -> Row in
            let masked = ks[i] > 0 ? sweep.points.first { $0.k == ks[i] } : nil
            let outcome = PruningOutcome(layer: layer.name, criterion: sweep.request.criterion.name, calibration: sweep.request.calibration.description,
                                         count: ks[i], removed: [], before: measured[0], pruned: measured[i], fineTuned: nil, steps: [])
            return Row(name: names[i], k: ks[i], epochs: epochs[i], measurement: measured[i], speedUp: outcome.speedUp,
                       maskedAccuracy: masked?.accuracy, maskedCorrect: masked?.correct)
        }
        return RemovalStudy(layer: layer, criterion: sweep.request.criterion.name, calibration: sweep.request.calibration,
                            removed: removed, recipe: recipe, trainLosses: losses, trainingImages: train.count, rows: rows, timingRuns: timingRuns,
                            threads: threads, fineTuningSeconds: fineTuningSeconds, seconds: CNNStudy.seconds(since: start))
    }

    /// The unpruned model's row.
    public var original: Row { rows[0] }
    /// The fine-tuned row, if any.
    public var fineTuned: Row? { rows.last { $0.epochs > 0 } }
    /// The removed rows without fine-tuning.
    public var pruned: [Row] { rows.filter { $0.k > 0 && $0.epochs == 0 } }

    // MARK: Text

    /// The table for the terminal.
    public func table() -> String {
        let headers = ["", "\(layer.name) width", "parameters", "MACs/image", "file bytes", "images/s", "speed-up", "accuracy"]
        var cells = [headers]
        for row in rows {
            let m = row.measurement
            cells.append([row.name, String((try? m.model.width(ofLayer: layer.name)) ?? 0), grouped(m.parameters), grouped(m.multiplyAccumulates),
                          grouped(m.fileBytes), grouped(Int((m.imagesPerSecond ?? 0).rounded())),
                          row.speedUp.map { format($0, 2) + "×" } ?? "–", format(m.accuracy, 2) + " %"])
        }
        let widths = headers.indices.map { c in cells.map { $0[c].count }.max() ?? 0 }
        return cells.map { line in
            line.enumerated().map { c, text in c == 0 ? text.padding(toLength: widths[0], withPad: " ", startingAt: 0) : pad(text, widths[c]) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The section of report.md.
    public func markdown(number: Int, modelPath: String, seed: UInt64) -> [String] {
        var md: [String] = []
        let units = layer.unitCount
        let o = original.measurement
        md.append("## \(number). Removing the channels for real: smaller, faster — and fine-tuned")
        md.append("")
        md.append("Sections 1–3 *mask* channels to measure what they are worth. To ship a smaller, faster model, `cnnprune prune` **removes** them: `\(layer.name)`'s weight and bias lose the channels, and `\(layer.consumerName)` loses the \(consumerInputs) each of them fed it. The result is an ordinary, smaller dense network that saves, loads, runs and trains like any other.")
        md.append("")
        md.append("The channels removed are the corrected method's choice: the lowest-ranked by **\(criterion)**, ranked once on \(calibration.label) as in section 1 — the exercise's own criterion, used correctly, so the rows below continue that curve. (Section 2 compares the other criteria.)")
        md.append("")
        md.append("| model | `\(layer.name)` channels | parameters | multiply-accumulates per image | file size | images/s | speed-up | test accuracy |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for row in rows {
            let m = row.measurement
            let width = (try? m.model.width(ofLayer: layer.name)) ?? 0
            let ratio = { (value: Int, base: Int) in value == base ? "" : " (\(format(100 * Double(value) / Double(base), 0)) %)" }
            md.append("| \(row.name) | \(width) | \(grouped(m.parameters))\(ratio(m.parameters, o.parameters)) | \(grouped(m.multiplyAccumulates))\(ratio(m.multiplyAccumulates, o.multiplyAccumulates)) | \(megabytes(m.fileBytes)) | \(grouped(Int((m.imagesPerSecond ?? 0).rounded()))) | \(row.speedUp.map { format($0, 2) + "×" } ?? "–") | **\(format(m.accuracy, 2)) %** |")
        }
        md.append("")

        // Removal is masking made permanent.
        let agreeing = pruned.filter { $0.maskedCorrect == $0.measurement.correct }
        if !pruned.isEmpty {
            if agreeing.count == pruned.count {
                md.append("Straight after removal the accuracies are exactly the masked ones of section 1 at K = \(pruned.map { String($0.k) }.joined(separator: " and ")) — removal is masking (weights and bias) made permanent — but the network is now smaller.")
            } else {
                let notes = pruned.compactMap { row -> String? in
                    guard let masked = row.maskedCorrect, masked != row.measurement.correct else { return nil }
                    return "K = \(row.k): \(abs(masked - row.measurement.correct)) of \(grouped(row.measurement.total)) images"
                }
                md.append("Straight after removal the accuracies match the masked ones of section 1 up to Float rounding in the sums (\(notes.joined(separator: "; ")) classified differently).")
            }
            md.append("")
        }

        // Speed.
        if let half = pruned.last, let speedUp = half.speedUp {
            let macRatio = Double(half.measurement.multiplyAccumulates) / Double(o.multiplyAccumulates)
            var line = "**Speed.** Each model made \(timingRuns) timed pass\(timingRuns == 1 ? "" : "es") over the \(grouped(o.total)) test images with \(plural(threads, "thread")), in interleaved rounds (every model once per round), so load from other processes falls on all of them alike; images/s is the best round, and the speed-up is the median over rounds of the model's images/s divided by the original's in the same round. "
            line += "Removing \(half.k) of \(units) channels makes inference **\(format(speedUp, 2))× as fast**"
            if let quarter = pruned.first, quarter.k != half.k, let s = quarter.speedUp { line += " (K = \(quarter.k): \(format(s, 2))×)" }
            line += ", for \(format(100 * macRatio, 0)) % of the multiply-accumulates."
            if speedUp < 1 / macRatio {
                let c1 = ((try? o.model.architecture()).map { ArchitectureCost($0).multiplyAccumulatesByLayer["conv1"] ?? 0 }) ?? 0
                line += " That is less than the multiply-accumulates alone would give (\(format(1 / macRatio, 2))×): part of each pass does not shrink — `conv1` (\(format(100 * Double(c1) / Double(o.multiplyAccumulates), 0)) % of the original's multiply-accumulates) is untouched, and so is the work outside them: reading and normalising the images, `conv1`'s ReLU and pooling."
            }
            md.append(line)
            md.append("")
        }

        // Fine-tuning.
        if let tuned = fineTuned, let recipe {
            let before = rows.first { $0.k == tuned.k && $0.epochs == 0 }?.measurement.accuracy ?? 0
            let after = tuned.measurement.accuracy
            let gap = o.accuracy - after
            md.append("**Why fine-tune.** The channels that stay, and `fc1` above them, were trained together with the removed ones: `fc1` still weighs inputs that are now gone, and with \(tuned.k) of \(units) channels removed the accuracy falls from \(format(o.accuracy, 2)) % to \(format(before, 2)) %. A little more training lets the rest of the network take over their work. The fine-tuning trains the removed network itself — the model that ships — so each epoch is cheaper, and what is removed stays removed.")
            md.append("")
            var result = "Here the K = \(tuned.k) model was trained \(plural(recipe.epochs, "epoch")) on the \(grouped(trainingImages)) training images (\(format(fineTuningSeconds, 0)) s) with the training recipe (\(recipe.optimizer.description) with a fresh optimizer, lr \(recipe.learningRate)\(recipe.scheduleDescription), batches of \(recipe.batchSize), shuffle seed \(recipe.seed); training loss " + trainLosses.map { format($0, 4) }.joined(separator: " → ") + "). "
            result += "It comes back from \(format(before, 2)) % to **\(format(after, 2)) %**, "
            if gap <= 0 {
                result += "\(format(-gap, 2)) points above the original's \(format(o.accuracy, 2)) %, with \(format(100 * Double(tuned.measurement.parameters) / Double(o.parameters), 0)) % of its parameters."
            } else if gap <= 2 {
                result += "within \(format(gap, 2)) points of the original's \(format(o.accuracy, 2)) %, with \(format(100 * Double(tuned.measurement.parameters) / Double(o.parameters), 0)) % of its parameters."
            } else {
                result += "still \(format(gap, 2)) points below the original's \(format(o.accuracy, 2)) %. With only \(plural(recipe.epochs, "epoch")) of fine-tuning a model that has lost \(format(100 * Double(tuned.k) / Double(units), 0)) % of a layer can stay a few points below the original; more epochs (`--finetune-epochs`) give it more time to recover."
            }
            md.append(result)
            md.append("")
            md.append("Fine-tuning the *unpruned* model as long is the control that separates the recovery from the extra training itself: `cnnprune sweep --model \(modelPath) --criterion \(criterion) --calibration \(calibration.description) --k 0,\(pruned.map { String($0.k) }.joined(separator: ",")) --finetune-epochs \(recipe.epochs)` reports it at K = 0, next to each K's fine-tuned accuracy.")
            md.append("")
        }

        if recipe == nil {
            md.append("No fine-tuning in this run (`--finetune-epochs 0`): the removed models keep the accuracy of their masked twins. `--finetune-epochs N` trains the smallest one N epochs and adds it to the table.")
            md.append("")
        }
        md.append("To make the smallest model of the table as a file (same ranking\(recipe != nil ? ", same fine-tuning" : ""); with the same number of threads the same weights):")
        md.append("")
        md.append("```sh")
        var command = "cnnprune prune --model \(modelPath) --layer \(layer.name) --k \(pruned.last?.k ?? 0) --criterion \(criterion) --calibration \(calibration.description) --seed \(seed)"
        if let recipe {
            command += " --finetune-epochs \(recipe.epochs)"
            if recipe.learningRate != 0.001 { command += " --lr \(recipe.learningRate)" }
            if recipe.batchSize != 64 { command += " --batch-size \(recipe.batchSize)" }
        }
        command += " --threads \(threads) --output \(layer.name)-\(pruned.last?.k ?? 0).safetensors"
        md.append(command)
        md.append("```")
        md.append("")
        return md
    }

    /// What one removed unit fed its consumer, e.g. `64 input features (one per position of its 8 × 8 pooled map …)`.
    private var consumerInputs: String {
        switch layer.name {
        case "conv1": return "input channel"
        case "conv2":
            let side = original.measurement.model.finalMapSize
            return "\(side * side) input features (one per position of its \(side) × \(side) pooled map, in PyTorch's flatten order)"
        default: return "input feature"
        }
    }

    /// `2,129,648` bytes → `2.13 MB`.
    private func megabytes(_ bytes: Int) -> String { "\(format(Double(bytes) / 1e6, 2)) MB" }

    // MARK: JSON

    /// `removal` in `experiment.json`: the table's figures and how they were obtained.
    public struct Document: Encodable, Sendable {
        /// One model of the table.
        public struct Model: Encodable, Sendable {
            /// The name.
            public var name: String
            /// Units masked (or removed).
            public var k: Int
            /// The layer's width.
            public var width: Int
            /// Fine-tuning epochs (0: none).
            public var finetuneEpochs: Int
            /// Parameters.
            public var parameters: Int
            /// Multiply-accumulates per image.
            public var macs: Int
            /// Size of the safetensors file.
            public var fileBytes: Int
            /// Inference images/s, best round.
            public var imagesPerSecond: Double?
            /// Inference images/s of every round.
            public var imagesPerSecondRuns: [Double]
            /// Median per-round speed-up against the original.
            public var speedUp: Double?
            /// Test accuracy (%).
            public var accuracy: Double
            /// Test images classified correctly.
            public var correct: Int
            /// Test images.
            public var total: Int
            /// The masked twin's accuracy in the sweep.
            public var maskedAccuracy: Double?

            enum CodingKeys: String, CodingKey {
                case name, k, width, parameters, macs, accuracy, correct, total
                case finetuneEpochs = "finetune_epochs"
                case fileBytes = "file_bytes"
                case imagesPerSecond = "images_per_second"
                case imagesPerSecondRuns = "images_per_second_runs"
                case speedUp = "speed_up"
                case maskedAccuracy = "masked_accuracy"
            }
        }

        /// The layer (or channel group) name.
        public var layer: String
        /// The criterion's name.
        public var criterion: String
        /// The calibration set, as given on the command line (`train:5000`).
        public var calibration: String
        /// The removed units.
        public var removed: [Int]
        /// Fine-tuning epochs (0: none).
        public var finetuneEpochs: Int
        /// Learning rate.
        public var learningRate: Double?
        /// Batch size.
        public var batchSize: Int?
        /// Seed.
        public var seed: UInt64?
        /// Mean training loss of each fine-tuning epoch.
        public var trainLosses: [Double]
        /// Timing rounds.
        public var timingRuns: Int
        /// Threads.
        public var threads: Int
        /// Seconds of fine-tuning.
        public var fineTuningSeconds: Double
        /// Seconds the step took.
        public var seconds: Double
        /// One entry per model.
        public var models: [Model]

        enum CodingKeys: String, CodingKey {
            case layer, criterion, calibration, removed, threads, seconds, models, seed
            case finetuneEpochs = "finetune_epochs"
            case learningRate = "learning_rate"
            case batchSize = "batch_size"
            case trainLosses = "train_losses"
            case timingRuns = "timing_runs"
            case fineTuningSeconds = "fine_tuning_seconds"
        }
    }

    /// `removal` in `experiment.json`.
    public var document: Document {
        Document(
            layer: layer.name, criterion: criterion, calibration: calibration.description, removed: removed,
            finetuneEpochs: recipe?.epochs ?? 0, learningRate: recipe.map { Double(String($0.learningRate)) ?? Double($0.learningRate) },
            batchSize: recipe?.batchSize, seed: recipe?.seed, trainLosses: trainLosses.map { rounded($0, 4) },
            timingRuns: timingRuns, threads: threads, fineTuningSeconds: rounded(fineTuningSeconds, 3), seconds: rounded(seconds, 3),
            models: rows.map { row in
                let m = row.measurement
                return Document.Model(
                    name: row.name, k: row.k, width: (try? m.model.width(ofLayer: layer.name)) ?? 0, finetuneEpochs: row.epochs,
                    parameters: m.parameters, macs: m.multiplyAccumulates, fileBytes: m.fileBytes,
                    imagesPerSecond: m.imagesPerSecond.map { $0.rounded() }, imagesPerSecondRuns: m.imagesPerSecondRuns.map { $0.rounded() },
                    speedUp: row.speedUp.map { rounded($0, 3) }, accuracy: rounded(m.accuracy), correct: m.correct, total: m.total,
                    maskedAccuracy: row.maskedAccuracy.map { rounded($0) })
            })
    }
}

