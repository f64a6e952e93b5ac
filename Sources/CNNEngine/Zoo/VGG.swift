/// VGG with BatchNorm for 32×32 images (the CIFAR variant): `features`, a `Sequential` of
/// conv 3×3 (with bias) + BatchNorm2d + ReLU per width and 2×2 max-pools at `M`; then
/// `classifier`, one `Linear(512, classes)` on the flattened 512×1×1 map.
///
/// Names follow PyTorch's `nn.Sequential` numbering: `features.0` (conv), `features.1` (its
/// BatchNorm), `features.2` (ReLU), `features.3` (pool), …, and `classifier`.
public enum VGG {
    /// One entry of a configuration: a convolution's width, or a max-pool.
    public enum Entry: Sendable, Equatable {
        /// A 3×3 convolution of that many output channels, with its BatchNorm and ReLU.
        case convolution(Int)
        /// A 2×2 max-pool.
        case pool
    }

    /// VGG-11: [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M].
    public static let vgg11: [Entry] = [.convolution(64), .pool, .convolution(128), .pool, .convolution(256), .convolution(256), .pool,
                                        .convolution(512), .convolution(512), .pool, .convolution(512), .convolution(512), .pool]

    static func graph(configuration: [Entry], classes: Int, inputShape: [Int], width: (Int) -> Int) -> ModelGraph {
        var layers: [LayerSpec] = []
        var index = 0
        for entry in configuration {
            switch entry {
            case .convolution(let channels):
                layers.append(.convolution(name: "features.\(index)", outputChannels: width(channels), kernelSize: 3, stride: 1, padding: 1, bias: true))
                layers.append(.batchNorm(name: "features.\(index + 1)"))
                layers.append(.relu)
                index += 3
            case .pool:
                layers.append(.maxPool(kernel: 2, stride: 2))
                index += 1
            }
        }
        layers.append(.flatten)
        layers.append(.linear(name: "classifier", outputFeatures: classes))
        return ModelGraph(name: "vgg11-bn", inputShape: inputShape, layers: layers)
    }
}
