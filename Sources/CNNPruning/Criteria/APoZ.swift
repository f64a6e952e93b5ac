import CNNEngine

/// Average Percentage of Zeros (Hu et al. 2016, "Network Trimming"): the fraction of a unit's
/// outputs after the ReLU that are zero, over calibration images and positions, as a fraction
/// in 0…1. A unit that is almost always zero carries little: the *highest* APoZ is pruned first.
public struct APoZ: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "apoz" }
    public var summary: String { "fraction of zeros after ReLU (Hu et al. 2016); highest pruned first" }
    public var need: CalibrationNeed { .activations }
    public var leastImportant: ScoreOrder { .highestFirst }

    public func scores(for layer: PrunableLayer, in network: Network, statistics: UnitStatistics?) -> [Double] {
        required(statistics, for: layer).zeroFraction
    }
}

extension APoZ: GroupImportanceCriterion {
    /// For each producer of the group, the fraction of its channels' values that the ReLU zeroes, at the point that carries them; each producer's scores divided by their mean
    /// magnitude, then averaged.
    public func groupScores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        GroupScores.normalisedMean(try required(statistics, for: group).producers.map(\.zeroFraction))
    }
}
