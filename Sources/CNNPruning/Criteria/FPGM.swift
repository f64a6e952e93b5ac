import CNNEngine

/// Filter pruning via the geometric median (He et al. 2019): a filter close to the geometric
/// median of its layer's filters is the most replaceable by the others. As in the paper's
/// implementation, the distance to the median is measured by each filter's summed Euclidean
/// distance to all the other filters of its layer; averaged over the group's producers (each
/// divided by its mean); smallest pruned first. Needs no data.
public struct FPGM: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "fpgm" }
    public var summary: String { "summed distance of each filter to the layer's other filters (He et al. 2019); smallest pruned first, no data needed" }
    public var leastImportant: ScoreOrder { .lowestFirst }
    public var need: CalibrationNeed { .none }

    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        FPGM.summedDistances(producer.filters(in: network))
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
