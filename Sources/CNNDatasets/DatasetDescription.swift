import Foundation

/// What a model was trained on, recorded in its checkpoint's `__metadata__` under
/// `cnnprune.dataset` as JSON: `{"dataset", "shape", "classes", "labels"?, "normalization":
/// {"mean", "std"}}`.
public struct DatasetDescription: Codable, Equatable, Sendable {
    /// The metadata key.
    public static let metadataKey = "cnnprune.dataset"

    /// The `--dataset` name.
    public var dataset: String
    /// One image's `[channels, height, width]`.
    public var shape: [Int]
    /// The number of classes.
    public var classes: Int
    /// CIFAR-100's label kind (`fine` or `coarse`); nil for the others.
    public var labels: String?
    /// The normalisation the network's inputs went through, which evaluation must repeat.
    public var normalization: Normalization

    /// Describes `images`, the set a model is trained on, as the data set `dataset` (`labels`: CIFAR-100's label kind).
    public init(dataset: DatasetKind, images: ByteImages, labels: String? = nil) {
        self.dataset = dataset.rawValue
        self.shape = images.sampleShape
        self.classes = images.classNames.count
        self.labels = labels
        self.normalization = images.normalization
    }

    /// The JSON stored in the metadata.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The description stored in `metadata`, if any and readable.
    public init?(metadata: [String: String]) {
        guard let json = metadata[DatasetDescription.metadataKey],
              let value = try? JSONDecoder().decode(DatasetDescription.self, from: Data(json.utf8)) else { return nil }
        self = value
    }
}
