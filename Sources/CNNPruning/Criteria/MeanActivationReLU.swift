import CNNEngine

/// The mean of the layer's output *after* the ReLU over calibration images and positions, as
/// NNI's `ActivationMeanRankFilterPruner` and Distiller compute it; lowest pruned first.
public struct MeanActivationReLU: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "mean-activation-relu" }
    public var summary: String { "mean of the output after ReLU over images and positions (NNI, Distiller); lowest pruned first" }
    public var need: CalibrationNeed { .activations }
    public var leastImportant: ScoreOrder { .lowestFirst }

    public func scores(for layer: PrunableLayer, in network: Network, statistics: UnitStatistics?) -> [Double] {
        required(statistics, for: layer).rectifiedMean
    }
}

extension MeanActivationReLU: GroupImportanceCriterion {
    /// For each producer of the group, the mean of its channels after the ReLU (at the point that carries them, rectified), over calibration images and positions; each producer's scores divided by their mean
    /// magnitude, then averaged.
    public func groupScores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        GroupScores.normalisedMean(try required(statistics, for: group).producers.map(\.rectifiedMean))
    }
}
