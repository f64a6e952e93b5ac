import CNNEngine

/// A network's channel groups as a document — what `cnnprune groups --json` prints: each group's
/// size, whether it may be pruned (and why not), and the tensor slices it spans.
public struct ChannelGroupListing: Codable, Sendable, Equatable {
    /// One channel group.
    public struct Entry: Codable, Sendable, Equatable {
        /// The group's name (its first producer).
        public var name: String
        /// Its channels.
        public var units: Int
        /// Whether it may be pruned.
        public var prunable: Bool
        /// Why it may not be, if so.
        public var reason: String?
        /// Whether it meets a residual sum.
        public var residual: Bool
        /// The layers whose outputs it is.
        public var producers: [String]
        /// The normalisation layers over it.
        public var normalizations: [String]
        /// The tensor slices pruned together.
        public var members: [GroupMember]
    }

    /// The architecture's name (`custom architecture` for one without).
    public var architecture: String
    /// The groups, in network order.
    public var groups: [Entry]

    /// The listing of `groups` in the network `architecture`.
    /// - Parameters:
    ///   - architecture: the network's name.
    ///   - groups: its channel groups.
    ///   - allowResidual: whether groups coupled through a residual sum count as prunable.
    public init(architecture: String, groups: ChannelGroups, allowResidual: Bool) {
        self.architecture = architecture
        self.groups = groups.groups.map { group in
            Entry(name: group.name, units: group.units, prunable: group.isPrunable(allowResidual: allowResidual),
                  reason: group.whyNotPrunable(allowResidual: allowResidual), residual: group.isResidual,
                  producers: group.producers, normalizations: group.normalizations, members: group.members)
        }
    }
}
