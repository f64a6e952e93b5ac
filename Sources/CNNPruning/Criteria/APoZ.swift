import CNNEngine

/// Average Percentage of Zeros (Hu et al. 2016, "Network Trimming"): the fraction of a unit's
/// outputs after the ReLU that are zero, over calibration images and positions, as a fraction
/// in 0…1. A unit that is almost always zero carries little: the *highest* APoZ is pruned first.
/// For a channel group, each producer's scores divided by their mean, then averaged.
public struct APoZ: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "apoz" }
    public var summary: String { "fraction of zeros after ReLU (Hu et al. 2016); highest pruned first" }
    public var need: CalibrationNeed { .activations }
    public var leastImportant: ScoreOrder { .highestFirst }

    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        try required(statistics, for: producer).zeroFraction
    }
}
