/// Why a network could not be written as an ONNX model, as one line naming the problem.
public enum ONNXExportError: Error, CustomStringConvertible, Equatable {
    /// A layer with no ONNX translation: its place in the architecture (`layers[3].main[1]`)
    /// and what it is.
    case unsupportedLayer(path: String, layer: String, reason: String)
    /// The network computes nothing (only dropout layers, or none): there is no node to write.
    case emptyNetwork
    /// The tensors add up to more than one protobuf message can hold (2 GiB); ONNX's external
    /// data files are not written.
    case tooLarge(bytes: Int)
    /// The normalisation recorded for the input does not match its channels.
    case normalizationMismatch(channels: Int, means: Int, deviations: Int)
    /// The file could not be written (the reason from `AtomicFile`).
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .unsupportedLayer(let path, let layer, let reason):
            return "\(path) (\(layer)): cannot be exported to ONNX: \(reason)"
        case .emptyNetwork:
            return "the network has no layer to export (only dropout, or none)"
        case .tooLarge(let bytes):
            return "the model's tensors take \(bytes) bytes, more than the 2 GiB one ONNX file can hold without external data"
        case .normalizationMismatch(let channels, let means, let deviations):
            return "the input has \(channels) channel\(channels == 1 ? "" : "s"), but the normalisation gives \(means) mean\(means == 1 ? "" : "s") and \(deviations) std\(deviations == 1 ? "" : "s")"
        case .cannotWrite(let reason):
            return reason
        }
    }
}
