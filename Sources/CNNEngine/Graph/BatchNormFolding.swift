/// A network's inference function with every `BatchNorm2D` that directly follows a `Conv2D`
/// folded into that convolution, as ONNX Runtime, TensorRT and `torch.ao`'s `fuse_modules` do
/// before they run a model.
///
/// In inference a BatchNorm is an affine map per channel, `y = x·s + t` with
/// `s = γ / √(running_var + ε)` and `t = β − running_mean·s`, so a convolution followed by it
/// equals one convolution with weights `W·s` (per output channel) and bias `b·s + t`. The
/// folded network skips a pass over every such BatchNorm's output and, inside residual blocks,
/// lets the branch's last convolution write straight into the block's output.
///
/// A `ReLU` right after such a convolution (or any other) is fused into it too
/// (`Conv2D.rectifiesOutput`), and so is a 2×2, stride-2 max-pool after that (or right after
/// the convolution) where the convolution can pool its own output (`Conv2D.canPoolOutput`: the
/// direct kernel of input layers, and Winograd's, whose 2×2 output tiles are the pooling
/// windows): one or two passes fewer over the activations, and the unpooled map is never
/// written. A ReLU before a max-pool that cannot be fused stays with it (they run as one pass).
/// Networks without BatchNorm get these fusions too.
///
/// The logits equal the unfolded network's up to Float round-off (the scale is applied to the
/// weights before the sums instead of to the sums; fusions change no value); a channel masked
/// to exact zeros (filter, bias, γ and β) stays exactly zero. Training-mode passes differ (batch
/// statistics), so the folded network is for inference only: `Evaluator` runs it, and nothing saves it.
/// Its `Sequential.graph` still records the function it computes — each fused convolution as
/// the convolution, ReLU and max-pool it stands for (`Layer.specs`) — so that a graph read from
/// it, saved or exported, never describes another network.
public struct BatchNormFolding: Sendable {
    /// The folded network: the same layers, less each folded BatchNorm (its convolution has a
    /// bias), each fused ReLU (its convolution rectifies) and each fused max-pool (its
    /// convolution pools).
    public let network: Network
    /// The full names of the BatchNorms folded away (`layer1.0.bn1`, `features.1`), in order.
    public let foldedBatchNorms: [String]

    /// Folds every BatchNorm that directly follows a convolution, at the top level and inside
    /// residual blocks (main branch and shortcut), and fuses ReLUs and max-pools into the
    /// convolutions before them. A network with nothing to fold or fuse is returned as it is.
    public init(_ network: Network) {
        guard network.architecture.layers.contains(where: BatchNormFolding.mayFold) else {
            self.network = network
            self.foldedBatchNorms = []
            return
        }
        let architecture = network.architecture
        var values: [String: [Float]] = [:]
        for entry in architecture.parameterEntries {
            values[entry.name] = Array(network.parameters[entry.offset..<(entry.offset + entry.count)])
        }
        for entry in architecture.stateEntries {
            values[entry.name] = Array(network.state[entry.offset..<(entry.offset + entry.count)])
        }
        var folded: [String] = []
        let layers = BatchNormFolding.fold(architecture.layers, prefix: "", values: &values, folded: &folded)
        guard let bound = try? Sequential(inputShape: architecture.inputShape, layers: layers) else {
            self.network = network
            self.foldedBatchNorms = []
            return
        }
        var parameters = [Float](repeating: 0, count: bound.parameterCount)
        for entry in bound.parameterEntries {
            parameters.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: values[entry.name]!)
        }
        var state = [Float](repeating: 0, count: bound.stateCount)
        for entry in bound.stateEntries {
            state.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: values[entry.name]!)
        }
        self.network = Network(architecture: bound, parameters: parameters, state: state)
        self.foldedBatchNorms = folded
    }

    /// Whether `layer` may be folded away or fused into a convolution: a BatchNorm or a ReLU,
    /// at the top level or in a residual block, or a max-pool.
    private static func mayFold(_ layer: any Layer) -> Bool {
        if layer is BatchNorm2D || layer is ReLU || layer is MaxPool2D { return true }
        if let block = layer as? Residual { return (block.main + block.shortcut).contains(where: mayFold) }
        return false
    }

    /// `layers` with each convolution–BatchNorm pair replaced by one convolution with a bias,
    /// whose values go into `values` under the convolution's full name (`prefix` + name).
    private static func fold(_ layers: [any Layer], prefix: String, values: inout [String: [Float]], folded: inout [String]) -> [any Layer] {
        var result: [any Layer] = []
        var index = 0
        while index < layers.count {
            let layer = layers[index]
            if let block = layer as? Residual {
                let inner = prefix + block.name + "."
                var copy = Residual(name: block.name,
                                    main: fold(block.main, prefix: inner, values: &values, folded: &folded),
                                    shortcut: fold(block.shortcut, prefix: inner, values: &values, folded: &folded),
                                    rectifiesOutput: block.rectifiesOutput)
                copy.keepsInnerOutputs = block.keepsInnerOutputs
                result.append(copy)
                index += 1
                continue
            }
            if let convolution = layer as? Conv2D, index + 1 < layers.count, let norm = layers[index + 1] as? BatchNorm2D,
               let weight = values[prefix + convolution.name + ".weight"],
               let gamma = values[prefix + norm.name + ".weight"], let beta = values[prefix + norm.name + ".bias"],
               let mean = values[prefix + norm.name + ".running_mean"], let variance = values[prefix + norm.name + ".running_var"] {
                let channels = convolution.outputChannels
                let bias = convolution.bias ? values[prefix + convolution.name + ".bias"] : nil
                let perChannel = weight.count / channels
                var foldedWeight = weight
                var foldedBias = [Float](repeating: 0, count: channels)
                for c in 0..<channels {
                    let scale = gamma[c] / (variance[c] + norm.epsilon).squareRoot()
                    for i in (c * perChannel)..<((c + 1) * perChannel) { foldedWeight[i] = weight[i] * scale }
                    foldedBias[c] = beta[c] + ((bias?[c] ?? 0) - mean[c]) * scale
                }
                var withBias = convolution
                withBias.bias = true
                values[prefix + convolution.name + ".weight"] = foldedWeight
                values[prefix + convolution.name + ".bias"] = foldedBias
                folded.append(prefix + norm.name)
                index += 2
                result.append(fusingRectifier(withBias, at: index, of: layers, skipping: &index))
                continue
            }
            if let convolution = layer as? Conv2D {
                index += 1
                result.append(fusingRectifier(convolution, at: index, of: layers, skipping: &index))
                continue
            }
            result.append(layer)
            index += 1
        }
        return result
    }

    /// `convolution` with what follows it at `layers[next]` fused into it, and `index` moved past
    /// what was fused: a `ReLU`, then a 2×2, stride-2 `MaxPool2D` where the convolution can pool
    /// its output (`Conv2D.canPoolOutput`); nothing for a convolution that is not plain. A ReLU whose max-pool cannot be fused is left with
    /// it: the two already run as one pass (`Network.forward`).
    private static func fusingRectifier(_ convolution: Conv2D, at next: Int, of layers: [any Layer], skipping index: inout Int) -> Conv2D {
        var fused = convolution, position = next
        guard convolution.isPlain else {
            // The general path (grouped, dilated, rectangular) fuses nothing.
            index = next
            return convolution
        }
        if position < layers.count, layers[position] is ReLU {
            fused.rectifiesOutput = true
            position += 1
        }
        guard position < layers.count, let pool = layers[position] as? MaxPool2D else {
            index = position
            return fused
        }
        if pool.kernelSize == 2 && pool.stride == 2 && pool.window.isPlain && fused.canPoolOutput {
            fused.poolsOutput = true
            index = position + 1
            return fused
        }
        return convolution
    }
}

extension Network {
    /// This network for inference with its BatchNorms folded into the convolutions before them
    /// (see `BatchNormFolding`); `self` when it has none to fold.
    public var foldingBatchNorm: Network { BatchNormFolding(self).network }
}
