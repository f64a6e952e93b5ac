/// torchvision's MobileNetV2 (Sandler et al. 2018, `torchvision.models.mobilenet_v2`), with its
/// state_dict names and its `width_mult` as the width multiplier.
///
/// `features.0`: a 3×3, stride-2 convolution (`features.0.0`), BatchNorm (`features.0.1`) and
/// ReLU6. Then inverted residual blocks `features.i` (expansion t, output c, repeats n, first
/// stride s: (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
/// (6, 160, 3, 2), (6, 320, 1, 1)): a 1×1 expansion to `round(in·t)` channels with BatchNorm and
/// ReLU6 (`conv.0.0`, `conv.0.1`; absent when t = 1), a 3×3 depthwise convolution of stride s
/// with BatchNorm and ReLU6 (`conv.1.0`, `conv.1.1`), and a linear 1×1 projection with BatchNorm
/// (`conv.2`, `conv.3`); a block of stride 1 whose input and output widths agree adds its input
/// (a residual sum with no activation after it). `features.18`: a 1×1 convolution to 1,280
/// channels, BatchNorm, ReLU6; global average pooling; `classifier.0` (dropout 0.2) and
/// `classifier.1` (linear). Widths are `c · width_mult` rounded to a multiple of 8 as
/// torchvision's `_make_divisible` does (the last one never below 1,280).
public enum MobileNetV2 {
    /// torchvision's `inverted_residual_setting`: expansion, output channels, repeats, stride.
    static let settings: [(expansion: Int, channels: Int, repeats: Int, stride: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]

    /// torchvision's `_make_divisible(value, 8)`: the nearest multiple of 8, at least 8, and not
    /// more than 10 % below `value`.
    static func divisible(_ value: Double) -> Int {
        var result = max(8, Int(value + 4) / 8 * 8)
        if Double(result) < 0.9 * value { result += 8 }
        return result
    }

    /// A convolution, its BatchNorm and (unless `linear`) ReLU6, named `prefix.0`/`prefix.1`
    /// as torchvision's `Conv2dNormActivation` is.
    static func convolutionBlock(_ prefix: String, outputChannels: Int, kernel: Int, stride: Int = 1, groups: Int = 1) -> [LayerSpec] {
        [.convolution(name: "\(prefix).0", outputChannels: outputChannels,
                      geometry: ConvolutionGeometry(kernel: kernel, stride: stride, padding: (kernel - 1) / 2), groups: groups, bias: false),
         .batchNorm(name: "\(prefix).1"), .activation(.relu6)]
    }

    static func graph(classes: Int, inputShape: [Int], widthMultiplier: Double) -> ModelGraph {
        var channels = divisible(32 * widthMultiplier)
        var layers = convolutionBlock("features.0", outputChannels: channels, kernel: 3, stride: 2)
        var index = 1
        for setting in settings {
            let output = divisible(Double(setting.channels) * widthMultiplier)
            for repeat_ in 0..<setting.repeats {
                let stride = repeat_ == 0 ? setting.stride : 1
                let hidden = Int((Double(channels * setting.expansion)).rounded())
                var block: [LayerSpec] = []
                var position = 0
                if setting.expansion != 1 {
                    block += convolutionBlock("conv.0", outputChannels: hidden, kernel: 1)
                    position = 1
                }
                block += convolutionBlock("conv.\(position)", outputChannels: hidden, kernel: 3, stride: stride, groups: hidden)
                block += [.convolution(name: "conv.\(position + 1)", outputChannels: output, kernelSize: 1, stride: 1, padding: 0, bias: false),
                          .batchNorm(name: "conv.\(position + 2)")]
                if stride == 1 && channels == output {
                    layers.append(.residual(name: "features.\(index)", main: block, shortcut: [], rectifiesOutput: false))
                } else {
                    layers += block.map { $0.prefixingName(with: "features.\(index).") }
                }
                channels = output
                index += 1
            }
        }
        let last = divisible(1280 * max(1, widthMultiplier))
        layers += convolutionBlock("features.\(index)", outputChannels: last, kernel: 1)
        layers += [.globalAvgPool, .flatten, .dropout(probability: 0.2), .linear(name: "classifier.1", outputFeatures: classes)]
        return ModelGraph(name: "mobilenetv2", inputShape: inputShape, layers: layers)
    }
}

extension LayerSpec {
    /// The same layer with `prefix` before its name (layers without a name are unchanged).
    func prefixingName(with prefix: String) -> LayerSpec {
        switch self {
        case .convolution(let name, let out, let geometry, let groups, let bias):
            return .convolution(name: prefix + name, outputChannels: out, geometry: geometry, groups: groups, bias: bias)
        case .batchNorm(let name): return .batchNorm(name: prefix + name)
        case .linear(let name, let out): return .linear(name: prefix + name, outputFeatures: out)
        case .residual(let name, let main, let shortcut, let relu):
            return .residual(name: prefix + name, main: main, shortcut: shortcut, rectifiesOutput: relu)
        case .relu, .activation, .maxPool, .avgPool, .globalAvgPool, .flatten, .dropout: return self
        }
    }
}
