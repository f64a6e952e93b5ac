/// Where the output of one named layer can be read after a forward pass — a top-level layer's
/// output activation, or an inner layer's output inside a residual block's scratch — so that
/// pruning can gather statistics of channels that exist only inside a block
/// (`layer1.0.bn1`).
///
/// The values read are `[batch, shape…]`, sample-major, valid until the next pass over the
/// same workspace.
public struct LayerOutputTap: Sendable, Equatable {
    /// The layer's full name (`layer1.0.bn1`, `features.1`).
    public let layerName: String
    /// The per-sample shape of the layer's output.
    public let shape: [Int]
    /// The top-level layer that holds it (the block, for an inner layer).
    public let topLevelIndex: Int
    /// For an inner layer: its output's offset in the block's scratch, in units of `batch` floats.
    let scratchOffset: Int?
    /// Whether the output is a top-level activation (`Workspace.activation(topLevelIndex + 1)`,
    /// with its gradient kept in training), rather than an inner output of a block.
    public var isTopLevel: Bool { scratchOffset == nil }

    /// The top-level activations a forward pass must compute for the tap to be valid.
    public var requiredLayers: Range<Int> { 0..<(topLevelIndex + 1) }
}

extension Sequential {
    /// The same layers with every residual block keeping its inner outputs apart
    /// (`Residual.keepsInnerOutputs`): the same parameters, state and results, a little more
    /// memory, and every inner layer readable through `outputTap(ofLayer:)`.
    public func keepingInnerOutputs() throws -> Sequential {
        guard layers.contains(where: { $0 is Residual }) else { return self }
        var copy = try Sequential(inputShape: inputShape, layers: layers.map { layer in
            guard var block = layer as? Residual else { return layer }
            block.keepsInnerOutputs = true
            return block
        })
        copy.graph = graph
        return copy
    }

    /// The tap of the layer called `name` (full name, as in checkpoint tensor prefixes), or
    /// `nil` when no layer has that name. A top-level `ReLU` directly followed by a
    /// `MaxPool2D` has no tap (its output is fused away, see `Network.forward`), nor has a layer
    /// inside a residual block that shares its storage (see `keepingInnerOutputs()`).
    public func outputTap(ofLayer name: String) -> LayerOutputTap? {
        for (index, layer) in layers.enumerated() {
            if !layer.name.isEmpty && layer.name == name {
                if fusedRectifier[index] { return nil }
                return LayerOutputTap(layerName: name, shape: shapes[index + 1], topLevelIndex: index, scratchOffset: nil)
            }
            if let block = layer as? Residual, name.hasPrefix(block.name + "."),
               let inner = block.innerOutput(named: String(name.dropFirst(block.name.count + 1))) {
                return LayerOutputTap(layerName: name, shape: inner.shape, topLevelIndex: index, scratchOffset: inner.offset)
            }
        }
        return nil
    }

    /// The tap of layer `inner` of the main branch of the residual block at top-level `index`,
    /// or `nil` when there is none: no such block or layer, the branch's last layer, or a block
    /// that shares its inner storage (see `keepingInnerOutputs()`).
    public func mainBranchTap(ofBlock index: Int, layer inner: Int) -> LayerOutputTap? {
        guard layers.indices.contains(index), let block = layers[index] as? Residual,
              let output = block.mainOutput(at: inner) else { return nil }
        let local = block.main[inner].name
        return LayerOutputTap(layerName: local.isEmpty ? "" : "\(block.name).\(local)", shape: output.shape,
                              topLevelIndex: index, scratchOffset: output.offset)
    }

    /// The layer that follows the layer called `name` in the same chain (the top level, or a
    /// residual block's branch), with its full name; `nil` at the end of a chain.
    public func layer(following name: String) -> (name: String, layer: any Layer)? {
        for (index, layer) in layers.enumerated() {
            if !layer.name.isEmpty && layer.name == name {
                guard index + 1 < layers.count else { return nil }
                return (layers[index + 1].name, layers[index + 1])
            }
            if let block = layer as? Residual, name.hasPrefix(block.name + ".") {
                let local = String(name.dropFirst(block.name.count + 1))
                for branch in [block.main, block.shortcut] {
                    if let position = branch.firstIndex(where: { $0.name == local }) {
                        guard position + 1 < branch.count else { return nil }
                        let next = branch[position + 1]
                        return (next.name.isEmpty ? "" : "\(block.name).\(next.name)", next)
                    }
                }
            }
        }
        return nil
    }
}

extension Workspace {
    /// The values at `tap` for the first `batch` samples, after a forward pass over at least
    /// `tap.requiredLayers`.
    public func output(at tap: LayerOutputTap, batch: Int) -> UnsafePointer<Float> {
        if let offset = tap.scratchOffset {
            return UnsafePointer(scratch(tap.topLevelIndex) + batch * offset)
        }
        return UnsafePointer(activation(tap.topLevelIndex + 1))
    }

    /// The storage at `tap` for the first `batch` samples, to alter before a pass resumes there
    /// (`Network.forward(_:batch:resumingBlock:atMainLayer:context:)`).
    public func storage(at tap: LayerOutputTap, batch: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutablePointer(mutating: output(at: tap, batch: batch))
    }
}
