import CNNEngine

/// The L2 (Euclidean) norm of each unit's weights, bias excluded; smallest pruned first.
/// Needs no data. For a channel group, the mean over its producers of each filter's L2 norm
/// divided by that producer's mean.
public struct L2Norm: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "l2" }
    public var summary: String { "Euclidean norm of each filter's weights; smallest pruned first, no data needed" }
    public var need: CalibrationNeed { .none }
    public var leastImportant: ScoreOrder { .lowestFirst }

    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        producer.filters(in: network).map { $0.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
    }
}
