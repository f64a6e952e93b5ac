import CNNEngine
import Foundation

/// Serialises ONNX models (protobuf, through SwiftProtobuf) and writes them atomically: a
/// reader sees the old file or the complete new one, and a failed export leaves nothing behind.
public enum ONNXModelWriter {
    /// The most tensor bytes one model may hold: a protobuf message is limited to 2 GiB, and
    /// the graph, names and attributes need some room besides the tensors.
    public static let maximumTensorBytes = Int(Int32.max) - (64 << 20)

    /// The model's protobuf encoding, as an `.onnx` file holds it.
    public static func serialized(_ model: Onnx_ModelProto) throws -> Data {
        try model.serializedBytes()
    }

    /// Writes the model to `url` through a temporary file in the same folder, then a rename.
    /// - Throws: `ONNXExportError.cannotWrite` naming the file and the system's reason.
    public static func write(_ model: Onnx_ModelProto, to url: URL) throws {
        let data = try serialized(model)
        do {
            try AtomicFile.write(data, to: url)
        } catch let error as AtomicFileError {
            throw ONNXExportError.cannotWrite(error.description)
        }
    }
}
