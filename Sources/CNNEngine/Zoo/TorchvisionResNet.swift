/// torchvision's ImageNet ResNets with basic blocks, ResNet-18 and ResNet-34 (He et al. 2016,
/// `torchvision.models.resnet18`/`resnet34`), with torchvision's state_dict names, so that a
/// model trained in PyTorch (`weights=None` or its own training) loads as it is.
///
/// A 7×7, stride-2 stem of 64 channels (`conv1`, `bn1`, ReLU), a 3×3, stride-2 max-pool with
/// padding 1, four stages of basic blocks at widths 64, 128, 256 and 512 (`layerS.B`: conv1
/// 3×3 · bn1 · ReLU · conv2 3×3 · bn2, plus the shortcut, summed, then ReLU; stages 2–4 start
/// with stride 2 and a `downsample.0`/`downsample.1` projection), global average pooling and
/// `fc`. On CIFAR's 32×32 images the stem and the max-pool leave an 8×8 map and the last stage a
/// 1×1 one: the network as torchvision builds it, not a CIFAR adaptation.
public enum TorchvisionResNet {
    /// Blocks per stage, by depth.
    public static let stages: [Int: [Int]] = [18: [2, 2, 2, 2], 34: [3, 4, 6, 3]]

    static func graph(depth: Int, classes: Int, inputShape: [Int], width: (Int) -> Int) -> ModelGraph {
        var layers: [LayerSpec] = [
            .convolution(name: "conv1", outputChannels: width(64), kernelSize: 7, stride: 2, padding: 3, bias: false),
            .batchNorm(name: "bn1"),
            .relu,
            .maxPool(PoolingWindow(kernel: 3, stride: 2, padding: 1)),
        ]
        var channels = width(64)
        for (stage, blocks) in (stages[depth] ?? []).enumerated() {
            layers += ResNet.basicBlocks(stage: stage, count: blocks, planes: width(64 << stage), inputChannels: channels)
            channels = width(64 << stage)
        }
        layers += [.globalAvgPool, .flatten, .linear(name: "fc", outputFeatures: classes)]
        return ModelGraph(name: "resnet\(depth)", inputShape: inputShape, layers: layers)
    }
}
