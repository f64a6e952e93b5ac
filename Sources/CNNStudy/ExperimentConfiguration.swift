import CNNPruning

/// How ``ExperimentStudy`` runs: which images rank the channels, the seeds, the fine-tuning of the
/// removed model, the timing, the threads, and what the report says about the run.
///
/// The defaults are `cnnprune experiment`'s: rank on 5,000 seeded training images, no fine-tuning
/// (the command line sets two epochs of its training recipe), five timing rounds.
public struct ExperimentConfiguration: Sendable {
    /// The images that rank `conv2`'s channels for the corrected method and the other criteria.
    public var calibration: CalibrationSet = .default
    /// Seeds model 0's calibration subset and random criterion (model *i* of a multi-model study
    /// takes `seed + i`); the report names it in the commands that reproduce the removal.
    public var seed: UInt64 = 0
    /// The fine-tuning of the model with half of `conv2`'s channels removed; `nil`: none.
    public var fineTuning: FineTuning?
    /// Timed inference passes over the test set per model of the removal table (interleaved rounds).
    public var timingRuns = 5
    /// Threads of every pass.
    public var threads = 1
    /// The data set's name in the report's prose (`CIFAR-10`, `Fashion-MNIST`).
    public var datasetName = "CIFAR-10"
    /// The command line the report says generated it (without the program name); a program may
    /// leave it empty.
    public var arguments: [String] = []

    /// A configuration; every value can also be set afterwards.
    public init(calibration: CalibrationSet = .default, seed: UInt64 = 0, fineTuning: FineTuning? = nil, timingRuns: Int = 5,
                threads: Int = 1, datasetName: String = "CIFAR-10", arguments: [String] = []) {
        self.calibration = calibration
        self.seed = seed
        self.fineTuning = fineTuning
        self.timingRuns = timingRuns
        self.threads = threads
        self.datasetName = datasetName
        self.arguments = arguments
    }
}
