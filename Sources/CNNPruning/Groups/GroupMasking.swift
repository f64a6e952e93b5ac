import CNNEngine

extension Network {
    /// A copy in which `units` of `group` are switched off: every producer's filter and bias and
    /// every BatchNorm's weight and bias of those channels are zeroed, so each masked channel
    /// is exactly 0 wherever it flows (through ReLU, pooling, residual sums) and adds nothing to
    /// its consumers. The architecture is unchanged; `GroupRemoval` gives the same logits with
    /// the channels gone.
    public func masking(_ units: some Sequence<Int>, of group: ChannelGroup) throws -> Network {
        var copy = self
        try copy.mask(units, of: group)
        return copy
    }

    /// Switches off `units` of `group` in place; see `masking(_:of:)`.
    public mutating func mask(_ units: some Sequence<Int>, of group: ChannelGroup) throws {
        let units = Array(units)
        for unit in units where !(0..<group.units).contains(unit) {
            throw RemovalError.unitOutOfRange(unit, layer: group.name, units: group.units, unitName: group.unitName)
        }
        for member in group.members where member.role != .consumer && member.dimension == 0 {
            // Running statistics stay: with weight and bias zeroed, a BatchNorm emits 0 whatever they are.
            if member.tensor.hasSuffix(".running_mean") || member.tensor.hasSuffix(".running_var") { continue }
            let entry = try entry(named: member.tensor)
            let slice = entry.count / group.units
            for unit in units {
                let start = entry.offset + unit * slice
                for i in start..<(start + slice) { parameters[i] = 0 }
            }
        }
    }
}
