import CNNDatasets
import CNNEngine
import Foundation

/// Builds the ONNX model of a network: opset 17, one float32 input `input` of shape
/// `[batch, C, H, W]` (NCHW, `batch` a named, dynamic dimension) and one output `logits` of
/// shape `[batch, classes]`, for inference (running statistics, no dropout).
///
/// The input is the *normalised* image, as cnnprune's and PyTorch's networks take it:
/// `(pixel / 255 − mean[c]) / std[c]`. The normalisation is not part of the graph (no `Sub` or
/// `Div` nodes; folding it into the first convolution would be wrong at its zero-padded
/// borders): it is recorded in the model's `metadata_props` as `cnnprune.normalization`,
/// `{"mean": [...], "std": [...]}` with one value per input channel.
///
/// ```swift
/// let exporter = ONNXExporter(normalization: Normalization(mean: 0.5, std: 0.5))
/// try ONNXModelWriter.write(try exporter.model(of: network), to: URL(fileURLWithPath: "model.onnx"))
/// ```
public struct ONNXExporter: Sendable {
    /// The version of the default (`ai.onnx`) operator set the model imports.
    public static let opsetVersion: Int64 = 17
    /// The IR version of opset 17's release (ONNX 1.12).
    public static let irVersion: Int64 = 8
    /// The graph input's name.
    public static let inputName = "input"
    /// The graph output's name.
    public static let outputName = "logits"
    /// The name of the dynamic batch dimension of the input and output.
    public static let batchDimension = "batch"
    /// The metadata key of the input normalisation (JSON `{"mean": [...], "std": [...]}`).
    public static let normalizationKey = "cnnprune.normalization"
    /// The metadata key describing the input in words.
    public static let inputDescriptionKey = "cnnprune.input"

    /// The normalisation the input expects; one pair is repeated for every channel. `nil`
    /// records none.
    public var normalization: Normalization?
    /// Further `metadata_props` (e.g. the checkpoint's `cnnprune.dataset`).
    public var metadata: [String: String]
    /// The `producer_version` written into the model.
    public var producerVersion: String

    /// - Parameters:
    ///   - normalization: what the input expects, recorded in `metadata_props`.
    ///   - metadata: further `metadata_props`, written as given (sorted by key).
    ///   - producerVersion: the `producer_version` field.
    public init(normalization: Normalization? = nil, metadata: [String: String] = [:], producerVersion: String = "1") {
        self.normalization = normalization
        self.metadata = metadata
        self.producerVersion = producerVersion
    }

    /// The ONNX model of `network`, its tensors as initializers under their checkpoint names.
    /// The architecture (`cnnprune.graph`) is recorded in `metadata_props` too.
    /// - Throws: `ONNXExportError` for a layer without an ONNX translation, a network with no
    ///   node to write, tensors beyond one file's 2 GiB, or a normalisation that does not fit
    ///   the input's channels.
    public func model(of network: Network) throws -> Onnx_ModelProto {
        let architecture = network.architecture
        // Checked before any tensor is copied: a protobuf message cannot exceed 2 GiB.
        let tensorBytes = (architecture.parameterCount + architecture.stateCount) * MemoryLayout<Float>.size
        guard tensorBytes <= ONNXModelWriter.maximumTensorBytes else { throw ONNXExportError.tooLarge(bytes: tensorBytes) }
        var translation = ONNXGraphTranslation(network: network, reservedNames: [Self.inputName, Self.outputName])
        let final = try translation.translate(architecture.layers, from: Self.inputName, prefix: "", path: "layers")
        guard final != Self.inputName else { throw ONNXExportError.emptyNetwork }
        translation.renameValue(final, to: Self.outputName)

        var graph = Onnx_GraphProto()
        graph.name = architecture.graph?.name ?? "cnnprune"
        graph.node = translation.nodes
        graph.initializer = translation.initializers
        let batch = ONNXDimension.named(Self.batchDimension)
        graph.input = [Onnx_ValueInfoProto(floatTensorNamed: Self.inputName, shape: [batch] + architecture.inputShape.map { .fixed($0) })]
        graph.output = [Onnx_ValueInfoProto(floatTensorNamed: Self.outputName, shape: [batch] + architecture.outputShape.map { .fixed($0) })]

        var model = Onnx_ModelProto()
        model.irVersion = Self.irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Self.opsetVersion
        model.opsetImport = [opset]
        model.producerName = "cnnprune"
        model.producerVersion = producerVersion
        model.graph = graph
        model.metadataProps = try metadataProperties(of: architecture).sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return model
    }

    private func metadataProperties(of architecture: Sequential) throws -> [String: String] {
        var properties = metadata
        if let graph = architecture.graph { properties[Checkpoint.graphKey] = graph.jsonString() }
        let channels = architecture.inputShape[0]
        if let normalization {
            let perChannel = try Self.perChannel(normalization, channels: channels)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            properties[Self.normalizationKey] = String(decoding: try encoder.encode(perChannel), as: UTF8.self)
            properties[Self.inputDescriptionKey] = "NCHW float32 [batch, \(architecture.inputShape.map(String.init).joined(separator: ", "))]: "
                + "(pixel / 255 - mean[c]) / std[c] with \(Self.normalizationKey)"
        } else {
            properties[Self.inputDescriptionKey] = "NCHW float32 [batch, \(architecture.inputShape.map(String.init).joined(separator: ", "))], normalisation not recorded"
        }
        return properties
    }

    /// `normalization` with one mean and std per channel of the input.
    static func perChannel(_ normalization: Normalization, channels: Int) throws -> Normalization {
        let (means, deviations) = (normalization.mean.count, normalization.std.count)
        if means == channels && deviations == channels { return normalization }
        guard means == 1, deviations == 1 else {
            throw ONNXExportError.normalizationMismatch(channels: channels, means: means, deviations: deviations)
        }
        return Normalization(mean: Array(repeating: normalization.mean[0], count: channels),
                             std: Array(repeating: normalization.std[0], count: channels))
    }
}
