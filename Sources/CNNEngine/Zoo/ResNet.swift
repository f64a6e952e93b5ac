/// The CIFAR ResNets of He et al. 2016 (section 4.2): a 3×3 stem of 16 channels, three stages
/// of n basic blocks at widths 16, 32 and 64 (the first block of stages 2 and 3 halves the map
/// with stride 2), global average pooling and `fc` — 6n + 2 weighted layers.
///
/// Basic block `layerS.B`: conv1 (3×3, stride s, no bias) · bn1 · ReLU · conv2 (3×3, no bias) ·
/// bn2, plus the shortcut, summed, then ReLU. Where the shape changes the shortcut is a
/// projection, `downsample.0` (1×1 conv, stride 2, no bias) and `downsample.1` (BatchNorm),
/// as torchvision names it; elsewhere the identity.
public enum ResNet {
    /// Depths 6n + 2 the zoo offers.
    public static let depths = [20, 32, 44, 56, 110]

    static func graph(depth: Int, classes: Int, inputShape: [Int], width: (Int) -> Int) -> ModelGraph {
        let blocks = (depth - 2) / 6
        var layers: [LayerSpec] = [
            .convolution(name: "conv1", outputChannels: width(16), kernelSize: 3, stride: 1, padding: 1, bias: false),
            .batchNorm(name: "bn1"),
            .relu,
        ]
        var channels = width(16)
        for (stage, base) in [16, 32, 64].enumerated() {
            layers += basicBlocks(stage: stage, count: blocks, planes: width(base), inputChannels: channels)
            channels = width(base)
        }
        layers += [.globalAvgPool, .flatten, .linear(name: "fc", outputFeatures: classes)]
        return ModelGraph(name: "resnet\(depth)", inputShape: inputShape, layers: layers)
    }

    /// Stage `stage` (0-based) of basic blocks `layer{stage + 1}.{block}`, as He et al. and
    /// torchvision build them: conv1 (3×3, stride 2 in the first block of every stage but the
    /// first, no bias) · bn1 · ReLU · conv2 (3×3) · bn2, plus the shortcut — a
    /// `downsample.0`/`downsample.1` projection where the shape changes, else the identity —
    /// summed, then ReLU.
    static func basicBlocks(stage: Int, count: Int, planes: Int, inputChannels: Int) -> [LayerSpec] {
        var channels = inputChannels
        return (0..<count).map { block in
            let stride = stage > 0 && block == 0 ? 2 : 1
            let main: [LayerSpec] = [
                .convolution(name: "conv1", outputChannels: planes, kernelSize: 3, stride: stride, padding: 1, bias: false),
                .batchNorm(name: "bn1"),
                .relu,
                .convolution(name: "conv2", outputChannels: planes, kernelSize: 3, stride: 1, padding: 1, bias: false),
                .batchNorm(name: "bn2"),
            ]
            let shortcut: [LayerSpec] = stride != 1 || channels != planes
                ? [.convolution(name: "downsample.0", outputChannels: planes, kernelSize: 1, stride: stride, padding: 0, bias: false),
                   .batchNorm(name: "downsample.1")]
                : []
            channels = planes
            return .residual(name: "layer\(stage + 1).\(block)", main: main, shortcut: shortcut, rectifiesOutput: true)
        }
    }
}
