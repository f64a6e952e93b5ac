/// One training epoch of a ``TrainingRecipe``, evaluated after it: what `train --json` prints
/// and `experiment.json` records for a model the study trained.
public struct EpochRecord: Codable, Sendable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch.
    public var trainLoss: Double
    /// Training loop seconds (no evaluation).
    public var seconds: Double
    /// Training images per second.
    public var imagesPerSecond: Double
    /// Test accuracy (%) after the epoch.
    public var testAccuracy: Double
    /// Seconds of the evaluation after the epoch.
    public var evalSeconds: Double

    /// An epoch's figures.
    public init(epoch: Int, trainLoss: Double, seconds: Double, imagesPerSecond: Double, testAccuracy: Double, evalSeconds: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.testAccuracy = testAccuracy
        self.evalSeconds = evalSeconds
    }

    enum CodingKeys: String, CodingKey {
        case epoch, seconds
        case trainLoss = "train_loss"
        case imagesPerSecond = "images_per_second"
        case testAccuracy = "test_accuracy"
        case evalSeconds = "eval_seconds"
    }
}
