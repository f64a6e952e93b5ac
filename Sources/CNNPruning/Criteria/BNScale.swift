import CNNEngine

/// `|γ|`, the BatchNorm scale of each channel (Liu et al. 2017, "Learning Efficient
/// Convolutional Networks through Network Slimming"): a channel the BatchNorm multiplies by
/// almost 0 contributes almost nothing. Averaged over the group's BatchNorms (each divided by
/// its mean); smallest pruned first. Needs no data.
public struct BNScale: GroupImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "bn-scale" }
    public var leastImportant: ScoreOrder { .lowestFirst }
    public var need: CalibrationNeed { .none }

    public func groupScores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        guard !group.normalizations.isEmpty else {
            throw PruningError.notPrunable(group.name, reason: "criterion bn-scale needs a BatchNorm after the group's layers, and it has none")
        }
        return GroupScores.normalisedMean(try group.normalizations.map { layer in
            try network.tensor(named: "\(layer).weight").scalars.map { Double(abs($0)) }
        })
    }
}
