import CNNEngine

/// `|γ|`, the BatchNorm scale of each channel (Liu et al. 2017, "Learning Efficient
/// Convolutional Networks through Network Slimming"): a channel the BatchNorm multiplies by
/// almost 0 contributes almost nothing. Averaged over the group's BatchNorms (each divided by
/// its mean); smallest pruned first. Needs no data.
public struct BNScale: ImportanceCriterion {
    /// The criterion; it has no settings.
    public init() {}
    public var name: String { "bn-scale" }
    public var summary: String { "|γ| of the BatchNorm after each channel (Liu et al. 2017); smallest pruned first, no data needed" }
    public var leastImportant: ScoreOrder { .lowestFirst }
    public var need: CalibrationNeed { .none }

    /// `|γ|` of the BatchNorm right after the producer.
    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        guard let normalization = producer.normalization else {
            throw PruningError.notPrunable(producer.name, reason: "criterion bn-scale needs a BatchNorm after the layer, and it has none")
        }
        return try scales(of: normalization, in: network)
    }

    /// The mean over every BatchNorm of the group of `|γ|`, each divided by its mean.
    public func scores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        guard !group.normalizations.isEmpty else {
            throw PruningError.notPrunable(group.name, reason: "criterion bn-scale needs a BatchNorm after the group's layers, and it has none")
        }
        return ImportanceScores.normalisedMean(try group.normalizations.map { try scales(of: $0, in: network) })
    }

    private func scales(of layer: String, in network: Network) throws -> [Double] {
        try network.tensor(named: "\(layer).weight").scalars.map { Double(abs($0)) }
    }
}
