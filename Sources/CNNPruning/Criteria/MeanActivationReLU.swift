import CNNEngine

/// The mean of the layer's output *after* the ReLU over calibration images and positions, as
/// NNI's `ActivationMeanRankFilterPruner` and Distiller compute it; lowest pruned first. For a
/// channel group, read where each producer's channels are carried (rectified there); each
/// producer's scores divided by their mean magnitude, then averaged.
public struct MeanActivationReLU: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "mean-activation-relu" }
    public var summary: String { "mean of the output after ReLU over images and positions (NNI, Distiller); lowest pruned first" }
    public var need: CalibrationNeed { .activations }
    public var leastImportant: ScoreOrder { .lowestFirst }

    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        try required(statistics, for: producer).rectifiedMean
    }
}
