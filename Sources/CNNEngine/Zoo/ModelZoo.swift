/// The architectures cnnprune builds by name (`--arch NAME`), for any number of classes, input
/// shape and width multiplier, with PyTorch's state_dict names:
///
/// - `simplecnn`: the exercise's network (`SimpleCNN`); the width multiplier scales its widths.
/// - `vgg11-bn`: the CIFAR variant of VGG-11 with BatchNorm (`features.N`, `classifier`).
/// - `resnet20`, `resnet32`, `resnet44`, `resnet56`, `resnet110`: He et al. 2016's CIFAR
///   ResNets, 6n + 2 layers of widths 16/32/64 (`conv1`, `bn1`, `layerL.B.…`, `fc`).
/// - `resnet18`, `resnet34`: torchvision's ImageNet ResNets (`TorchvisionResNet`).
/// - `mobilenetv2`: torchvision's MobileNetV2 (`MobileNetV2`; the width multiplier is its
///   `width_mult`).
public enum ModelZoo {
    /// Every name `graph(named:…)` knows, in the order help texts list them.
    public static let names = ["simplecnn", "vgg11-bn", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
                               "resnet18", "resnet34", "mobilenetv2"]

    /// The architecture called `name`.
    /// - Parameters:
    ///   - name: one of `names`.
    ///   - classes: outputs of the last layer.
    ///   - inputShape: one image's `[channels, height, width]`.
    ///   - widthMultiplier: scales every hidden width (rounded, at least 1), so tests and quick
    ///     runs can use narrow versions.
    /// - Throws: `ModelZooError.unknownArchitecture` (listing the names) or `.invalid`.
    public static func graph(named name: String, classes: Int = 10, inputShape: [Int] = [3, 32, 32], widthMultiplier: Double = 1) throws -> ModelGraph {
        guard widthMultiplier > 0, widthMultiplier <= 64, widthMultiplier.isFinite else {
            throw ModelZooError.invalid("the width multiplier must be in (0, 64], got \(widthMultiplier)")
        }
        guard (2...ModelGraph.maximumWidth).contains(classes) else {
            throw ModelZooError.invalid("the number of classes must be 2…\(ModelGraph.maximumWidth), got \(classes)")
        }
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelZooError.invalid("the input shape must be [channels, height, width], got \(inputShape)")
        }
        func width(_ base: Int) -> Int { max(1, Int((Double(base) * widthMultiplier).rounded())) }
        switch name {
        case "simplecnn":
            let model = SimpleCNN(inputChannels: inputShape[0], imageSize: inputShape[1], conv1: width(16), conv2: width(32), fc1: width(256), classes: classes)
            guard inputShape[1] == inputShape[2] else { throw ModelZooError.invalid("simplecnn needs square images, got \(inputShape)") }
            return model.graph
        case "vgg11-bn":
            return VGG.graph(configuration: VGG.vgg11, classes: classes, inputShape: inputShape, width: width)
        case "resnet18", "resnet34":
            return TorchvisionResNet.graph(depth: name == "resnet18" ? 18 : 34, classes: classes, inputShape: inputShape, width: width)
        case "mobilenetv2":
            return MobileNetV2.graph(classes: classes, inputShape: inputShape, widthMultiplier: widthMultiplier)
        default:
            if name.hasPrefix("resnet"), let depth = Int(name.dropFirst("resnet".count)), ResNet.depths.contains(depth) {
                return ResNet.graph(depth: depth, classes: classes, inputShape: inputShape, width: width)
            }
            throw ModelZooError.unknownArchitecture(name, valid: names)
        }
    }

    /// Recognises a state_dict written without cnnprune's metadata (e.g. from PyTorch): the zoo
    /// architecture whose tensor names and shapes these are, with classes, input channels and
    /// widths read off the shapes. `nil` when none matches.
    public static func inferred(from shapes: [String: [Int]], imageSize: Int = 32) -> ModelGraph? {
        guard let classes = (shapes["fc.weight"] ?? shapes["classifier.weight"] ?? shapes["classifier.1.weight"])?.first else { return nil }
        let firstConv = shapes["conv1.weight"] ?? shapes["features.0.weight"] ?? shapes["features.0.0.weight"]
        guard let first = firstConv, first.count == 4 else { return nil }
        for name in names where name != "simplecnn" {
            let base = ["vgg11-bn": 64, "resnet18": 64, "resnet34": 64, "mobilenetv2": 32][name] ?? 16
            // MobileNetV2 rounds its widths to multiples of 8, so the stem alone does not tell
            // torchvision's usual multipliers apart: each is tried.
            let candidates = name == "mobilenetv2" ? [Double(first[0]) / 32, 0.125, 0.25, 0.35, 0.5, 0.75, 1, 1.3, 1.4, 2]
                                                   : [Double(first[0]) / Double(base)]
            for multiplier in candidates {
                guard let graph = try? graph(named: name, classes: classes, inputShape: [first[1], imageSize, imageSize], widthMultiplier: multiplier),
                      let architecture = try? graph.sequential() else { continue }
                let expected = Dictionary(uniqueKeysWithValues: (architecture.parameterEntries + architecture.stateEntries).map { ($0.name, $0.shape) })
                // num_batches_tracked may be missing from older PyTorch files; every other tensor must match.
                let required = expected.filter { !$0.key.hasSuffix("num_batches_tracked") }
                if required.allSatisfy({ shapes[$0.key] == $0.value }) && Set(shapes.keys).isSubset(of: Set(expected.keys)) {
                    var named = graph
                    named.name = name
                    return named
                }
            }
        }
        return nil
    }
}

/// Why the zoo cannot build what was asked.
public enum ModelZooError: Error, CustomStringConvertible, Equatable {
    /// No architecture of that name; `valid` lists the known ones.
    case unknownArchitecture(String, valid: [String])
    /// The architecture cannot be built as asked; the text says why.
    case invalid(String)

    public var description: String {
        switch self {
        case .unknownArchitecture(let name, let valid):
            return "unknown architecture '\(name)' (known: \(valid.joined(separator: ", ")))"
        case .invalid(let why):
            return why
        }
    }
}
