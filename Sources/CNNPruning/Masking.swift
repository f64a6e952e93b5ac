import CNNEngine

extension Network {
    /// A copy in which `units` of `layer` are switched off: their filters (weights) zeroed and,
    /// unless `keepBias`, their biases too. The architecture is unchanged — this is masking, not
    /// removal — so the copy evaluates, saves and loads like any network.
    ///
    /// With the bias zeroed a masked unit outputs exactly 0 and contributes nothing downstream.
    /// With `keepBias` (the exercise's way, as `torch.nn.utils.prune` does too) it still emits
    /// the constant `bias` at every position, `max(bias, 0)` after the ReLU.
    /// - Parameters:
    ///   - units: indices in `0..<layer.unitCount`; repeats are harmless.
    ///   - layer: the layer, found in this network's architecture.
    ///   - keepBias: zero the weights only.
    public func masking(_ units: some Sequence<Int>, of layer: PrunableLayer, keepBias: Bool = false) -> Network {
        var copy = self
        copy.mask(units, of: layer, keepBias: keepBias)
        return copy
    }

    /// Switches off `units` of `layer` in place; see `masking(_:of:keepBias:)`.
    public mutating func mask(_ units: some Sequence<Int>, of layer: PrunableLayer, keepBias: Bool = false) {
        let filter = layer.weight.count / layer.unitCount
        for unit in units {
            precondition((0..<layer.unitCount).contains(unit), "unit \(unit) is not in 0..<\(layer.unitCount) of \(layer.name)")
            let start = layer.weight.offset + unit * filter
            for i in start..<(start + filter) { parameters[i] = 0 }
            if !keepBias { parameters[layer.bias.offset + unit] = 0 }
        }
    }

    /// The weights of `unit` of `layer` (its filter or weight row), in storage order.
    public func filter(_ unit: Int, of layer: PrunableLayer) -> ArraySlice<Float> {
        let filter = layer.weight.count / layer.unitCount
        let start = layer.weight.offset + unit * filter
        return parameters[start..<(start + filter)]
    }

    /// The bias of `unit` of `layer`.
    public func bias(_ unit: Int, of layer: PrunableLayer) -> Float {
        parameters[layer.bias.offset + unit]
    }
}
