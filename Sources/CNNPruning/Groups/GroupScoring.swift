import CNNEngine

/// How a pruner turns a criterion into one score per channel of a group.
public enum GroupScoring: Sendable, Equatable {
    /// The group's scores (`ImportanceCriterion.scores(for:in:statistics:)`): each producer's
    /// scores divided by their mean magnitude and averaged, so that groups compare with one
    /// another; `random` draws from the seed mixed with the group's name.
    case group
    /// The scores of the group's one producer as the criterion gives them
    /// (`ImportanceCriterion.scores(of:in:statistics:)`): not normalised, and `random` drawn
    /// from the seed alone — the SimpleCNN study's scores of a layer, which is a group with one
    /// producer. A group with several producers cannot be scored this way.
    case producer

    /// The scores of `group` in `network` by `criterion`.
    /// - Parameters:
    ///   - group: the channels to score.
    ///   - criterion: the criterion.
    ///   - network: the network holding their weights.
    ///   - statistics: the group's calibration statistics, when the criterion needs data.
    /// - Throws: the criterion's errors; `PruningError.notPrunable` for `.producer` scoring of a
    ///   group with several producers.
    public func scores(of group: ChannelGroup, by criterion: any ImportanceCriterion, in network: Network,
                       statistics: GroupStatistics?) throws -> [Double] {
        switch self {
        case .group:
            return try criterion.scores(for: group, in: network, statistics: statistics)
        case .producer:
            let producers = try group.producerChannels(in: network.architecture)
            guard producers.count == 1 else {
                throw PruningError.notPrunable(group.name, reason: "its \(producers.count) producers are scored as a group, not as one layer")
            }
            return try criterion.scores(of: producers[0], in: network, statistics: statistics?.producers.first)
        }
    }
}
