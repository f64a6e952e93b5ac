import CNNEngine

/// The L2 (Euclidean) norm of each unit's weights, bias excluded; smallest pruned first.
/// Needs no data.
public struct L2Norm: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "l2" }
    public var summary: String { "Euclidean norm of each filter's weights; smallest pruned first, no data needed" }
    public var need: CalibrationNeed { .none }
    public var leastImportant: ScoreOrder { .lowestFirst }

    public func scores(for layer: PrunableLayer, in network: Network, statistics: UnitStatistics?) -> [Double] {
        (0..<layer.unitCount).map { unit in
            network.filter(unit, of: layer).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        }
    }
}

extension L2Norm: GroupImportanceCriterion {
    /// The mean over the group's producers of each filter's L2 norm, divided by that producer's mean.
    public func groupScores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        GroupScores.normalisedMean(try GroupScores.producerFilters(of: group, in: network).map { filters in
            filters.map { $0.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        })
    }
}
