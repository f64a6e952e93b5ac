import CNNEngine

/// First-order Taylor expansion (Molchanov et al. 2017): the change in loss from removing a unit
/// is estimated as `|mean over images and positions of a · ∂L/∂a|`, with `a` the unit's
/// activation and `L` each image's cross-entropy loss; smallest pruned first.
///
/// Computed on the pre-activation `z` and `∂L/∂z`, which gives the same products as the
/// post-ReLU `a · ∂L/∂a` (both vanish where `z ≤ 0`). Needs a forward and backward pass over the
/// calibration images.
public struct Taylor: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "taylor" }
    public var summary: String { "|mean of activation × loss gradient| (Molchanov et al. 2017); smallest pruned first" }
    public var need: CalibrationNeed { .gradients }
    public var leastImportant: ScoreOrder { .lowestFirst }

    public func scores(for layer: PrunableLayer, in network: Network, statistics: UnitStatistics?) -> [Double] {
        let statistics = required(statistics, for: layer)
        let n = Double(max(statistics.observations, 1))
        return statistics.gradientProductSum!.map { abs($0 / n) }
    }
}

extension Taylor: GroupImportanceCriterion {
    /// For each producer of the group, `|Σ a · ∂L/∂a| / observations` of its channels at the
    /// point that carries them (after its BatchNorm), from `GroupStatistics`; each producer's
    /// scores divided by their mean, then averaged.
    public func groupScores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        GroupScores.normalisedMean(try required(statistics, for: group).producers.map { statistics in
            let n = Double(max(statistics.observations, 1))
            return statistics.gradientProductSum!.map { abs($0 / n) }
        })
    }
}
