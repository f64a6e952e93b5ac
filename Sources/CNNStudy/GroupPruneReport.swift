import CNNEngine

/// A global removal on channel groups, measured: what `cnnprune prune --json` prints for any
/// architecture, and `removal` in the channel-group study's `experiment.json`.
public struct GroupPruneReport: Codable, Sendable {
    /// One model's figures.
    public struct Measurement: Codable, Sendable {
        /// Parameters.
        public var parameters: Int
        /// Multiply-accumulates per image.
        public var multiplyAccumulates: Int
        /// Size of the safetensors file.
        public var fileBytes: Int
        /// Test accuracy (%).
        public var accuracy: Double
        /// Inference images/s, best round.
        public var imagesPerSecond: Double

        /// A model's figures.
        public init(parameters: Int, multiplyAccumulates: Int, fileBytes: Int, accuracy: Double, imagesPerSecond: Double) {
            self.parameters = parameters
            self.multiplyAccumulates = multiplyAccumulates
            self.fileBytes = fileBytes
            self.accuracy = accuracy
            self.imagesPerSecond = imagesPerSecond
        }

        enum CodingKeys: String, CodingKey {
            case parameters, accuracy
            case multiplyAccumulates = "macs"
            case fileBytes = "file_bytes"
            case imagesPerSecond = "images_per_second"
        }
    }

    /// One group's change.
    public struct GroupChange: Codable, Sendable {
        /// The group's name.
        public var name: String
        /// Channels before.
        public var before: Int
        /// Channels after.
        public var after: Int
        /// The removed channels.
        public var removed: [Int]

        /// A group's change.
        public init(name: String, before: Int, after: Int, removed: [Int]) {
            self.name = name
            self.before = before
            self.after = after
            self.removed = removed
        }
    }

    /// The model file pruned.
    public var model: String
    /// The pruned model's file.
    public var output: String
    /// The architecture's name.
    public var architecture: String
    /// The criterion's name.
    public var criterion: String
    /// The pruning target in words (`--global-ratio 0.5 (max 0.9 per group)`).
    public var target: String
    /// Every group that lost channels.
    public var groups: [GroupChange]
    /// The original model.
    public var before: Measurement
    /// The pruned model, before fine-tuning.
    public var pruned: Measurement
    /// The pruned model after fine-tuning, if any.
    public var fineTuned: Measurement?
    /// Fine-tuning epochs per step.
    public var finetuneEpochs: Int
    /// Pruning steps (`--iterative`), fine-tuned between them.
    public var steps: Int = 1
    /// The calibration set of a data-driven criterion.
    public var calibration: String?
    /// The pruned architecture trained from a fresh initialisation (`--scratch-control`).
    public var scratch: Measurement?
    /// The epochs of that training.
    public var scratchEpochs: Int?

    /// A removal's figures.
    public init(model: String, output: String, architecture: String, criterion: String, target: String, groups: [GroupChange],
                before: Measurement, pruned: Measurement, fineTuned: Measurement?, finetuneEpochs: Int, steps: Int = 1,
                calibration: String?, scratch: Measurement?, scratchEpochs: Int?) {
        self.model = model
        self.output = output
        self.architecture = architecture
        self.criterion = criterion
        self.target = target
        self.groups = groups
        self.before = before
        self.pruned = pruned
        self.fineTuned = fineTuned
        self.finetuneEpochs = finetuneEpochs
        self.steps = steps
        self.calibration = calibration
        self.scratch = scratch
        self.scratchEpochs = scratchEpochs
    }

    enum CodingKeys: String, CodingKey {
        case model, output, architecture, criterion, target, groups, before, pruned, steps, calibration, scratch
        case fineTuned = "fine_tuned"
        case finetuneEpochs = "finetune_epochs"
        case scratchEpochs = "scratch_epochs"
    }

    /// One line: parameters, MACs, speed and accuracy before and after.
    public var summaryLine: String {
        let final = fineTuned ?? pruned
        return "Removal (\(target)): parameters \(before.parameters) → \(final.parameters), MACs \(before.multiplyAccumulates) → \(final.multiplyAccumulates) "
            + "(\(format(Double(before.multiplyAccumulates) / Double(max(final.multiplyAccumulates, 1)), 2))× fewer), "
            + "\(format(final.imagesPerSecond / max(before.imagesPerSecond, 1), 2))× faster, accuracy \(format(before.accuracy, 2)) → \(format(pruned.accuracy, 2)) % pruned"
            + (fineTuned.map { " → \(format($0.accuracy, 2)) % after \(plural(finetuneEpochs, "fine-tuning epoch"))" } ?? "")
    }
}
