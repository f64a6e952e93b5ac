import CNNEngine
import CNNPruning

/// What a sweep masks, with the K values it measures: a layer of the SimpleCNN (the exercise's
/// study, ``SweepStudy/runLayer(_:of:model:test:images:fineTuning:progress:output:start:)``) or a
/// channel group of any network (``SweepStudy/runGroup(_:of:test:images:progress:output:start:)``).
public enum SweepSubject {
    /// A SimpleCNN layer's output channels (or fc1's neurons).
    case layer(PrunableLayer)
    /// A channel group, masked whole.
    case group(ChannelGroup)

    /// Why a fine-tuned sweep cannot measure the counts asked for.
    public struct FineTuningCountError: Error, Equatable, CustomStringConvertible {
        /// The layer.
        public var layer: String
        /// Its units.
        public var units: Int
        /// What its units are called ("channel", "neuron").
        public var unitName: String
        /// The count that removes every unit.
        public var count: Int

        /// One line naming the layer, its units and the count.
        public var description: String {
            "a fine-tuned sweep must leave at least one \(unitName) for every K: \(layer) has \(units), so K must be 0…\(units - 1), got \(count)"
        }
    }

    /// The SimpleCNN layer `name` of `network` and the K values to measure: `counts`, or 16
    /// counts from 0 (`PruningCounts.defaultCounts(units:)`), each checked against the layer.
    /// - Parameters:
    ///   - name: one of `SimpleCNN.prunableLayers`.
    ///   - network: the SimpleCNN.
    ///   - counts: the K values asked for, or nil for the default ones.
    ///   - fineTuned: whether the removed model is fine-tuned per K, which needs a unit left at every K.
    /// - Returns: the subject and its counts.
    /// - Throws: `PruningError` for an unknown layer or a count out of range;
    ///   ``FineTuningCountError`` when a fine-tuned count would remove every unit.
    public static func layer(named name: String, of network: Network, counts: [Int]?, fineTuned: Bool) throws -> (subject: SweepSubject, counts: [Int]) {
        let layer = try PrunableLayer(named: name, in: network.architecture)
        let counts = counts ?? PruningCounts.defaultCounts(units: layer.unitCount)
        try PruningCounts.validate(counts, for: layer)
        if fineTuned, let last = counts.last, last >= layer.unitCount {
            throw FineTuningCountError(layer: layer.name, units: layer.unitCount, unitName: layer.unitName, count: last)
        }
        return (.layer(layer), counts)
    }

    /// The channel group `name` of `network` (default: its last prunable group) and the K
    /// values to measure: `counts`, or 16 counts from 0, each 0…the group's channels.
    /// - Parameters:
    ///   - name: a group's name, or nil for the last prunable group.
    ///   - network: any network.
    ///   - counts: the K values asked for, or nil for the default ones.
    ///   - allowResidual: whether groups coupled through residual sums may be studied.
    /// - Returns: the subject and its counts.
    /// - Throws: what `ChannelGroups.studied(_:allowResidual:)` throws; `PruningError`
    ///   for a network whose groups cannot be found or a count out of range.
    public static func group(named name: String?, of network: Network, counts: [Int]?, allowResidual: Bool) throws -> (subject: SweepSubject, counts: [Int]) {
        let group = try ChannelGroups(network.architecture).studied(name, allowResidual: allowResidual)
        let counts = counts ?? PruningCounts.defaultCounts(units: group.units)
        for count in counts where !(0...group.units).contains(count) {
            throw PruningError.countOutOfRange(count, layer: group.name, units: group.units, unitName: "channel")
        }
        return (.group(group), counts)
    }
}

extension ChannelGroups {
    /// The group a study asks for by `name`, checked to be prunable; without a name, the last
    /// prunable group (the analogue of "the last conv layer").
    /// - Parameters:
    ///   - name: the group's name, or nil.
    ///   - allowResidual: whether groups coupled through residual sums may be studied.
    /// - Returns: the group.
    /// - Throws: `StudyError.noPrunableGroup` when no group is prunable (and no name given);
    ///   `PruningError.unknownLayer` for an unknown name; `StudyError.notPrunable` for a group
    ///   that cannot be pruned.
    public func studied(_ name: String?, allowResidual: Bool) throws -> ChannelGroup {
        let prunable = prunable(allowResidual: allowResidual)
        guard let name else {
            guard let last = prunable.last else { throw StudyError.noPrunableGroup(residualExcluded: !allowResidual) }
            return last
        }
        guard let group = group(named: name) else { throw PruningError.unknownLayer(name, valid: prunable.map(\.name)) }
        guard group.isPrunable(allowResidual: allowResidual) else { throw StudyError.notPrunable(group, allowResidual: allowResidual) }
        return group
    }
}
