import CNNDatasets
import CNNEngine
import Foundation

/// The input normalisation an exported ONNX model records, and where it comes from: the one
/// given, else the one the checkpoint records (`cnnprune.dataset`), else the data set's default.
public struct ONNXInputNormalization: Sendable, Equatable {
    /// Where the normalisation comes from.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// Given by the caller.
        case given
        /// Recorded in the model file, trained on this data set (by its raw name).
        case recorded(dataset: String)
        /// The data set's default, the model recording none.
        case datasetDefault(DatasetKind)

        /// `given`, `recorded in the model (cifar10)`, `the cifar10 default; the model records none`.
        public var description: String {
            switch self {
            case .given: return "given"
            case .recorded(let dataset): return "recorded in the model (\(dataset))"
            case .datasetDefault(let kind): return "the \(kind.rawValue) default; the model records none"
            }
        }
    }

    /// The normalisation.
    public var normalization: Normalization
    /// Where it comes from.
    public var source: Source

    /// The normalisation for a model with checkpoint `metadata`: `given`, else the recorded
    /// one, else `dataset`'s default.
    /// - Parameters:
    ///   - given: the caller's normalisation, which wins.
    ///   - metadata: the model file's metadata.
    ///   - dataset: the data set whose default applies when neither is there.
    public init(given: Normalization?, metadata: [String: String], dataset: DatasetKind) {
        if let given {
            (normalization, source) = (given, .given)
        } else if let recorded = DatasetDescription(metadata: metadata) {
            (normalization, source) = (recorded.normalization, .recorded(dataset: recorded.dataset))
        } else {
            (normalization, source) = (dataset.defaultNormalization, .datasetDefault(dataset))
        }
    }

    /// The ONNX metadata properties recording the model's origin: its file name
    /// (`cnnprune.source_model`), `sourceDescription` (`cnnprune.normalization_source`) and the
    /// data set it records (`cnnprune.dataset`), if any.
    /// - Parameters:
    ///   - modelPath: the model file exported.
    ///   - sourceDescription: where the normalisation comes from, in the caller's words.
    ///   - modelMetadata: the model file's metadata.
    public static func metadata(modelPath: String, sourceDescription: String, modelMetadata: [String: String]) -> [String: String] {
        var result = ["cnnprune.source_model": URL(fileURLWithPath: modelPath).lastPathComponent,
                      "cnnprune.normalization_source": sourceDescription]
        if let dataset = modelMetadata[DatasetDescription.metadataKey] { result[DatasetDescription.metadataKey] = dataset }
        return result
    }
}
