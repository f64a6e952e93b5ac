import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStatistics
import Foundation

/// `experiment --seeds N` with fine-tuning: on every model, its largest removal (the corrected
/// ranking's lowest K units) fine-tuned with the experiment's recipe, against the unpruned model
/// fine-tuned exactly as long (the K = 0 control), so that the report can say whether the
/// recovery is complete — and how sure that is — from N models instead of one.
public struct SeedRecovery {
    /// One model's pair of fine-tuned accuracies (%).
    public struct ModelPair {
        /// The model's seed.
        public var seed: UInt64
        /// Its largest removal, fine-tuned.
        public var pruned: Double
        /// The unpruned model fine-tuned as long (the K = 0 control).
        public var control: Double

        /// One model's pair.
        public init(seed: UInt64, pruned: Double, control: Double) {
            self.seed = seed
            self.pruned = pruned
            self.control = control
        }
    }

    /// The units removed from each model.
    public let k: Int
    /// The layer's units before removal.
    public let units: Int
    /// Fine-tuning epochs of both the pruned model and its control.
    public let epochs: Int
    /// The layer's name.
    public let layer: String
    /// One pair per model, model 0 first.
    public let pairs: [ModelPair]
    /// The paired comparison of the pruned models with their controls.
    public let comparison: RecoveryComparison

    /// Compares `pairs`, paired by model.
    public init(k: Int, units: Int, epochs: Int, layer: String, pairs: [ModelPair]) {
        self.k = k
        self.units = units
        self.epochs = epochs
        self.layer = layer
        self.pairs = pairs
        comparison = RecoveryComparison(pruned: pairs.map(\.pruned), control: pairs.map(\.control))
    }

    /// Fine-tunes `network` with `recipe` and returns its test accuracy.
    static func fineTunedAccuracy(of network: Network, model: SimpleCNN, what: String, recipe: FineTuning,
                                  train: ByteImages, test: ByteImages, threads: Int, progress: any StudyProgress) throws -> Double {
        defer { progress.clear() }
        let tuned: (network: Network, losses: [Double])
        do {
            tuned = try recipe.train(network, model: model, on: train, threads: threads) { batch in
                let done = Double((batch.epoch - 1) * batch.batchCount + batch.batch) / Double(recipe.epochs * batch.batchCount)
                progress.fineTuning(what, batch: batch, epochs: recipe.epochs, fraction: done)
            }
        } catch let error as NonFiniteLossError {
            throw StudyError.fineTuningDiverged(error)
        }
        return Evaluator(threads: threads).evaluate(tuned.network, on: test).accuracy
    }

    /// One model's pair: its lowest-ranked `k` units of `layer` removed and fine-tuned, and the
    /// unpruned model fine-tuned as long. `prunedAccuracy`, when given, is the pruned model's
    /// fine-tuned accuracy measured already (model 0's, by the removal study).
    static func pair(network: Network, model: SimpleCNN, layer: PrunableLayer, ranking: [Int], k: Int, recipe: FineTuning,
                     seed: UInt64, prunedAccuracy: Double? = nil, train: ByteImages, test: ByteImages, threads: Int,
                     progress: any StudyProgress) throws -> ModelPair {
        var seeded = recipe
        seeded.seed = seed
        let pruned: Double
        if let prunedAccuracy {
            pruned = prunedAccuracy
        } else {
            let removal = try studyStep { try GroupRemoval(removing: ranking.prefix(k), of: layer.group, from: network) }
            pruned = try fineTunedAccuracy(of: removal.network, model: try studyStep { try removal.simpleCNN }, what: "seed \(seed): fine-tuning \(layer.name) with K = \(k) removed",
                                           recipe: seeded, train: train, test: test, threads: threads, progress: progress)
        }
        let control = try fineTunedAccuracy(of: network, model: model, what: "seed \(seed): fine-tuning the unpruned control",
                                            recipe: seeded, train: train, test: test, threads: threads, progress: progress)
        return ModelPair(seed: seed, pruned: pruned, control: control)
    }

    // MARK: Report

    /// The report's paragraph.
    public func markdown() -> [String] {
        let percent = Int((100 * Double(k) / Double(units)).rounded())
        var md = ["Fine-tuning recovery: on every model, \(layer) with its \(k) lowest-ranked of \(units) channels (\(percent) %) removed and fine-tuned \(plural(epochs, "epoch")), against the same model fine-tuned \(plural(epochs, "epoch")) unpruned (the K = 0 control, which separates the recovery from the extra training itself), paired by model:"]
        md.append("")
        md.append("| seed | pruned + fine-tuned | control (K = 0) + fine-tuned | difference |")
        md.append("|---:|---:|---:|---:|")
        for pair in pairs {
            md.append("| \(pair.seed) | \(format(pair.pruned, 2)) % | \(format(pair.control, 2)) % | \(signed(pair.pruned - pair.control)) |")
        }
        md.append("")
        md.append(capitalized(comparison.sentence) + ".")
        md.append("")
        return md
    }

    struct Document: Encodable {
        var layer: String
        var k: Int
        var epochs: Int
        var pruned: [Double]
        var control: [Double]
        var difference: SeedStudy.EstimateDocument
        var pValue: Double?
        var sentence: String

        enum CodingKeys: String, CodingKey {
            case layer, k, epochs, pruned, control, difference, sentence
            case pValue = "p_value"
        }
    }

    var document: Document {
        let differences = pairs.map { $0.pruned - $0.control }
        return Document(layer: layer, k: k, epochs: epochs, pruned: pairs.map { rounded($0.pruned, 4) }, control: pairs.map { rounded($0.control, 4) },
                        difference: SeedStudy.EstimateDocument(MeanEstimate(differences), perModel: differences),
                        pValue: comparison.comparison.test.map { rounded($0.pValue, 6) }, sentence: comparison.sentence)
    }

    private func signed(_ value: Double) -> String { (value >= 0 ? "+" : "−") + format(abs(value), 2) }
}

