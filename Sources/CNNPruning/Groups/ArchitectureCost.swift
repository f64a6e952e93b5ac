import CNNEngine

/// What one forward pass of an architecture costs, for any architecture: learnable parameters
/// and multiply-accumulates per image (convolutions and linear layers, the rest is negligible).
public struct ArchitectureCost: Sendable, Equatable {
    /// Learnable scalars.
    public var parameters: Int
    /// Multiply-accumulates of one forward pass over one image.
    public var multiplyAccumulates: Int

    /// The cost of `architecture`.
    public init(_ architecture: Sequential) {
        parameters = architecture.parameterCount
        var macs = 0
        for (index, layer) in architecture.layers.enumerated() {
            macs += ArchitectureCost.macs(layer, output: architecture.shapes[index + 1])
        }
        multiplyAccumulates = macs
    }

    static func macs(_ layer: any Layer, output: [Int]) -> Int {
        switch layer {
        case let conv as Conv2D:
            return output.reduce(1, *) * conv.inputChannels * conv.kernelSize * conv.kernelSize
        case let linear as Linear:
            return linear.inputFeatures * linear.outputFeatures
        case let block as Residual:
            var total = 0
            for (index, inner) in block.main.enumerated() { total += macs(inner, output: block.mainShapes[index + 1]) }
            for (index, inner) in block.shortcut.enumerated() { total += macs(inner, output: block.shortcutShapes[index + 1]) }
            return total
        default:
            return 0
        }
    }
}
