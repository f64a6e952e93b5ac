import CNNEngine

/// The L1 norm of each unit's weights — a convolution filter `weight[u, :, :, :]` or a weight
/// row `weight[u, :]`, bias excluded (Li et al. 2017, "Pruning Filters for Efficient ConvNets");
/// smallest pruned first. Needs no data. For a channel group, the mean over its producers of
/// each filter's L1 norm divided by that producer's mean.
public struct L1Norm: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "l1" }
    public var summary: String { "sum of |weight| of each filter (Li et al. 2017); smallest pruned first, no data needed" }
    public var need: CalibrationNeed { .none }
    public var leastImportant: ScoreOrder { .lowestFirst }

    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        producer.filters(in: network).map { $0.reduce(0.0) { $0 + Double(abs($1)) } }
    }
}
