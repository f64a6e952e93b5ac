import CNNEngine

/// The exercise's criterion: the mean of the layer's output *before* the ReLU over all
/// calibration images and positions; the lowest mean is the least important.
///
/// For `conv2` of the SimpleCNN that is the mean of `activation(4)`, PyTorch's
/// `model.conv2(x).mean(dim=(0, 2, 3))`. The mean is taken over all observations at once, in
/// Double (PyTorch's reference takes the mean of per-batch means in Float; on the peer's model
/// both give the same ranking). For a channel group, each producer's channels are read where
/// they are carried (after the BatchNorm, before the ReLU), and each producer's scores are
/// divided by their mean magnitude, then averaged.
public struct MeanActivation: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "mean-activation" }
    public var summary: String { "mean of the output before ReLU over images and positions (the exercise's criterion); lowest pruned first" }
    public var need: CalibrationNeed { .activations }
    public var leastImportant: ScoreOrder { .lowestFirst }

    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        try required(statistics, for: producer).mean
    }
}
