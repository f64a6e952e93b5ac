import CNNEngine

/// Filter pruning via the geometric median (He et al. 2019): a filter close to the geometric
/// median of its layer's filters is the most replaceable by the others. As in the paper's
/// implementation, the distance to the median is measured by each filter's summed Euclidean
/// distance to all the other filters of its layer; averaged over the group's producers (each
/// divided by its mean); smallest pruned first. Needs no data.
public struct FPGM: GroupImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "fpgm" }
    public var leastImportant: ScoreOrder { .lowestFirst }
    public var need: CalibrationNeed { .none }

    public func groupScores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        GroupScores.normalisedMean(try GroupScores.producerFilters(of: group, in: network).map(FPGM.summedDistances))
    }

    /// `Σ_j ‖f_i − f_j‖` for every filter `i`.
    static func summedDistances(_ filters: [ArraySlice<Float>]) -> [Double] {
        var totals = [Double](repeating: 0, count: filters.count)
        for i in filters.indices {
            for j in (i + 1)..<filters.count {
                var squared = 0.0
                for (a, b) in zip(filters[i], filters[j]) {
                    let d = Double(a) - Double(b)
                    squared += d * d
                }
                let distance = squared.squareRoot()
                totals[i] += distance
                totals[j] += distance
            }
        }
        return totals
    }
}
