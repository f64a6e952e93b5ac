import CNNEngine

/// What one forward pass of an architecture costs, for any architecture: learnable parameters
/// and multiply-accumulates per image (convolutions and linear layers, the rest is negligible),
/// in total and per layer. The one cost model of every study: the SimpleCNN's reports read
/// their figures here too.
public struct ArchitectureCost: Sendable, Equatable {
    /// Learnable scalars.
    public var parameters: Int
    /// Multiply-accumulates of one forward pass over one image.
    public var multiplyAccumulates: Int
    /// Multiply-accumulates per image of each convolution and linear layer, by full name
    /// (`conv1`, `layer1.0.conv1`).
    public var multiplyAccumulatesByLayer: [String: Int]

    /// The cost of `architecture`.
    public init(_ architecture: Sequential) {
        parameters = architecture.parameterCount
        var byLayer: [String: Int] = [:]
        var macs = 0
        for (index, layer) in architecture.layers.enumerated() {
            macs += ArchitectureCost.macs(layer, prefix: "", output: architecture.shapes[index + 1], into: &byLayer)
        }
        multiplyAccumulates = macs
        multiplyAccumulatesByLayer = byLayer
    }

    static func macs(_ layer: any Layer, prefix: String, output: [Int], into byLayer: inout [String: Int]) -> Int {
        let name = prefix + layer.name
        switch layer {
        case let conv as Conv2D:
            let macs = output.reduce(1, *) * conv.inputChannelsPerGroup * conv.geometry.taps
            byLayer[name, default: 0] += macs
            return macs
        case let linear as Linear:
            let macs = linear.inputFeatures * linear.outputFeatures
            byLayer[name, default: 0] += macs
            return macs
        case let block as Residual:
            let inner = name.isEmpty ? "" : name + "."
            var total = 0
            for (index, layer) in block.main.enumerated() {
                total += macs(layer, prefix: inner, output: block.mainShapes[index + 1], into: &byLayer)
            }
            for (index, layer) in block.shortcut.enumerated() {
                total += macs(layer, prefix: inner, output: block.shortcutShapes[index + 1], into: &byLayer)
            }
            return total
        default:
            return 0
        }
    }
}
