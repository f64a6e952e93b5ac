/// The exercise's network, with every width a parameter so that pruned variants are the same
/// type: conv(3→`conv1`) · ReLU · max-pool 2 · conv(`conv1`→`conv2`) · ReLU · max-pool 2 ·
/// flatten · linear(`conv2`·8·8→`fc1`) · ReLU · linear(`fc1`→`classes`). Convolutions are 3×3,
/// stride 1, padding 1. Parameter names match PyTorch's `SimpleCNN` state_dict.
public struct SimpleCNN: Codable, Equatable, Sendable {
    /// Channels of the input images.
    public var inputChannels: Int = 3
    /// The side of the square input images.
    public var imageSize: Int = 32
    /// Output channels of `conv1`.
    public var conv1: Int = 16
    /// Output channels of `conv2`.
    public var conv2: Int = 32
    /// Output features of `fc1`.
    public var fc1: Int = 256
    /// The number of classes.
    public var classes: Int = 10

    /// The exercise's widths: 16, 32, 256, 10 on 3×32×32 images.
    public init() {}

    /// A SimpleCNN of these widths.
    public init(inputChannels: Int = 3, imageSize: Int = 32, conv1: Int, conv2: Int, fc1: Int, classes: Int = 10) {
        self.inputChannels = inputChannels
        self.imageSize = imageSize
        self.conv1 = conv1
        self.conv2 = conv2
        self.fc1 = fc1
        self.classes = classes
    }

    /// The names of the layers whose output channels (or features) pruning may remove.
    public static let prunableLayers = ["conv1", "conv2", "fc1"]

    /// Indices of the named layers in `architecture()`'s `Sequential`.
    public enum LayerIndex {
        /// The first convolution.
        public static let conv1 = 0
        /// The second convolution.
        public static let conv2 = 3
        /// The flatten between the convolutions and the linear layers.
        public static let flatten = 6
        /// The hidden linear layer.
        public static let fc1 = 7
        /// The output layer.
        public static let fc2 = 9
    }

    /// The largest channel or neuron count accepted.
    public static let maximumWidth = 1 << 16
    /// The largest image side accepted.
    public static let maximumImageSize = 1 << 12

    /// The spatial side after both poolings (8 for 32×32 images).
    public var finalMapSize: Int { imageSize / 4 }

    /// Builds the layer chain for these widths.
    public func architecture() throws -> Sequential {
        // Upper bounds keep every size product (weights, activations × batch) far inside Int:
        // widths come from files, and 2^62 channels would overflow (a trap, or silent wrap-around
        // under -Ounchecked).
        let widths = [inputChannels, conv1, conv2, fc1, classes]
        guard inputChannels > 0, imageSize >= 4, imageSize <= SimpleCNN.maximumImageSize, conv1 > 0, conv2 > 0, fc1 > 0, classes > 1,
              widths.allSatisfy({ $0 <= SimpleCNN.maximumWidth }) else {
            throw EngineError.shapeMismatch("invalid SimpleCNN widths \(self) (each width 1…\(SimpleCNN.maximumWidth), image side 4…\(SimpleCNN.maximumImageSize), at least 2 classes)")
        }
        return try graph.sequential()
    }

    /// The architecture as data: the layers `architecture()` binds.
    public var graph: ModelGraph {
        ModelGraph(name: "simplecnn", inputShape: [inputChannels, imageSize, imageSize], layers: [
            .convolution(name: "conv1", outputChannels: conv1, kernelSize: 3, stride: 1, padding: 1, bias: true),
            .relu,
            .maxPool(kernel: 2, stride: 2),
            .convolution(name: "conv2", outputChannels: conv2, kernelSize: 3, stride: 1, padding: 1, bias: true),
            .relu,
            .maxPool(kernel: 2, stride: 2),
            .flatten,
            .linear(name: "fc1", outputFeatures: fc1),
            .relu,
            .linear(name: "fc2", outputFeatures: classes),
        ])
    }

    /// The SimpleCNN whose graph `graph` is, if it is one (of any widths); `nil` otherwise.
    public init?(graph: ModelGraph) {
        guard graph.inputShape.count == 3, graph.inputShape[1] == graph.inputShape[2], graph.layers.count == 10,
              case .convolution(_, let c1, _, _, _) = graph.layers[0], case .convolution(_, let c2, _, _, _) = graph.layers[3],
              case .linear(_, let f1) = graph.layers[7], case .linear(_, let classes) = graph.layers[9] else { return nil }
        let candidate = SimpleCNN(inputChannels: graph.inputShape[0], imageSize: graph.inputShape[1], conv1: c1, conv2: c2, fc1: f1, classes: classes)
        guard candidate.graph == graph else { return nil }
        self = candidate
    }

    /// The parameter shapes a checkpoint of these widths holds, by name.
    public func parameterShapes() throws -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: try architecture().parameterEntries.map { ($0.name, $0.shape) })
    }

    /// Infers the widths from a state_dict's shapes (for files without cnnprune metadata).
    public static func inferred(from shapes: [String: [Int]]) throws -> SimpleCNN {
        func shape(_ name: String, rank: Int) throws -> [Int] {
            guard let s = shapes[name] else { throw EngineError.unknownParameter("missing tensor '\(name)'") }
            guard s.count == rank else {
                throw EngineError.shapeMismatch("tensor '\(name)' has shape \(s), expected rank \(rank)")
            }
            return s
        }
        let c1 = try shape("conv1.weight", rank: 4), c2 = try shape("conv2.weight", rank: 4)
        let f1 = try shape("fc1.weight", rank: 2), f2 = try shape("fc2.weight", rank: 2)
        let mapArea = c2[0] > 0 ? f1[1] / c2[0] : 0
        let side = Int(Double(mapArea).squareRoot().rounded())
        guard side * side * c2[0] == f1[1], side > 0 else {
            throw EngineError.shapeMismatch("fc1.weight \(f1) does not fit conv2's \(c2[0]) channels")
        }
        return SimpleCNN(inputChannels: c1[1], imageSize: side * 4, conv1: c1[0], conv2: c2[0], fc1: f1[0], classes: f2[0])
    }
}
