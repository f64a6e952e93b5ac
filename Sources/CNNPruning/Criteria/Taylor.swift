import CNNEngine

/// First-order Taylor expansion (Molchanov et al. 2017): the change in loss from removing a unit
/// is estimated as `|mean over images and positions of a · ∂L/∂a|`, with `a` the unit's
/// activation and `L` each image's cross-entropy loss; smallest pruned first.
///
/// Computed on the pre-activation `z` and `∂L/∂z`, which gives the same products as the
/// post-ReLU `a · ∂L/∂a` (both vanish where `z ≤ 0`). Needs a forward and backward pass over the
/// calibration images. For a channel group, each producer's channels are read after their
/// BatchNorm (`GroupStatistics`); each producer's scores divided by their mean, then averaged.
public struct Taylor: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "taylor" }
    public var summary: String { "|mean of activation × loss gradient| (Molchanov et al. 2017); smallest pruned first" }
    public var need: CalibrationNeed { .gradients }
    public var leastImportant: ScoreOrder { .lowestFirst }

    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        let statistics = try required(statistics, for: producer)
        let n = Double(max(statistics.observations, 1))
        return statistics.gradientProductSum!.map { abs($0 / n) }
    }
}
