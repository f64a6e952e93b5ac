import CNNPruning
import CNNStudy

/// Choosing what the channel-group commands study, from their flags: `--criterion` and `--layer`.
extension GroupStudy {
    /// Parses `--criterion a,b,…` as group criteria, turning an unknown name into a CLI error.
    static func criteria(_ text: String, seed: UInt64) throws -> [any ImportanceCriterion] {
        do { return try ImportanceCriteria.parseList(text, seed: seed) } catch let error as PruningError { throw CLIError(error.description) }
    }

    /// The group called `name` (default: the last prunable group, the analogue of "the last
    /// conv layer"), checked to be prunable.
    static func group(_ name: String?, in groups: ChannelGroups, allowResidual: Bool, model: String) throws -> ChannelGroup {
        let prunable = groups.prunable(allowResidual: allowResidual)
        guard let name else {
            guard let last = prunable.last else {
                throw CLIError("\(model): has no prunable channel group\(allowResidual ? "" : " (groups coupled through residual sums need --prune-residual)")")
            }
            return last
        }
        guard let group = groups.group(named: name) else {
            throw CLIError(PruningError.unknownLayer(name, valid: prunable.map(\.name)).description)
        }
        if let why = group.whyNotPrunableWithFlag(allowResidual: allowResidual) { throw CLIError(PruningError.notPrunable(name, reason: why).description) }
        return group
    }
}
