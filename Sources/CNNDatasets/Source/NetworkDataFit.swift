import CNNEngine

extension DatasetSource {
    /// The SimpleCNN with the exercise's widths (16, 32, 256) for `data`'s image shape and
    /// classes (e.g. 1×28×28 MNIST: fc1 takes 32·7·7 inputs).
    /// - Parameters:
    ///   - data: a split read from this source.
    /// - Throws: ``NetworkDataFitError/notSquare(dataset:width:height:)`` or
    ///   ``NetworkDataFitError/tooSmallForSimpleCNN(dataset:shape:reason:)``.
    public func simpleCNN(for data: ByteImages) throws -> SimpleCNN {
        let shape = data.sampleShape
        guard shape[1] == shape[2] else { throw NetworkDataFitError.notSquare(dataset: kind, width: shape[2], height: shape[1]) }
        let model = SimpleCNN(inputChannels: shape[0], imageSize: shape[1], conv1: 16, conv2: 32, fc1: 256, classes: data.classNames.count)
        do { _ = try model.architecture() } catch {
            throw NetworkDataFitError.tooSmallForSimpleCNN(dataset: kind, shape: shape, reason: "\(error)")
        }
        return model
    }

    /// Checks that `network` takes `data`'s images and has one output per class.
    /// - Parameters:
    ///   - network: the network to run on the data.
    ///   - data: a split read from this source.
    ///   - name: the network's name in the message (its file).
    /// - Throws: ``NetworkDataFitError/inputShape(model:takes:dataset:has:)`` or
    ///   ``NetworkDataFitError/classes(model:outputs:dataset:classes:)``.
    public func check(_ network: Network, fits data: ByteImages, name: String) throws {
        let input = network.architecture.inputShape
        let outputs = network.architecture.outputShape.reduce(1, *)
        guard input == data.sampleShape else {
            throw NetworkDataFitError.inputShape(model: name, takes: input, dataset: kind, has: data.sampleShape)
        }
        guard outputs == data.classNames.count else {
            throw NetworkDataFitError.classes(model: name, outputs: outputs, dataset: kind, classes: data.classNames.count)
        }
    }

    /// How the data a model was trained on, as its checkpoint `metadata` records it, differs
    /// from `data`: another data set, else another normalisation; nil when it records none or
    /// the same.
    /// - Parameters:
    ///   - metadata: the checkpoint's metadata (``DatasetDescription/metadataKey``).
    ///   - data: a split read from this source.
    public func difference(fromRecordedIn metadata: [String: String], data: ByteImages) -> RecordedDataDifference? {
        guard let recorded = DatasetDescription(metadata: metadata) else { return nil }
        let current = description(of: data)
        if recorded.dataset != current.dataset { return .dataset(recorded: recorded.dataset, current: current.dataset) }
        if recorded.normalization != current.normalization {
            return .normalization(recorded: recorded.normalization, current: current.normalization)
        }
        return nil
    }
}

/// How a model's recorded training data differs from the data it is used on (a note, not an error).
public enum RecordedDataDifference: Equatable, Sendable {
    /// Trained on another data set (both by ``DatasetKind`` raw name).
    case dataset(recorded: String, current: String)
    /// Trained on the same data set with another input normalisation.
    case normalization(recorded: Normalization, current: Normalization)
}

/// Why a network cannot run on a data set's images.
public enum NetworkDataFitError: Error, Equatable, CustomStringConvertible {
    /// The SimpleCNN needs square images; the data's are `width`×`height`.
    case notSquare(dataset: DatasetKind, width: Int, height: Int)
    /// Images of `shape` are too small for the SimpleCNN's layers.
    case tooSmallForSimpleCNN(dataset: DatasetKind, shape: [Int], reason: String)
    /// The network `model` takes images of shape `takes`; the data's are `has`.
    case inputShape(model: String, takes: [Int], dataset: DatasetKind, has: [Int])
    /// The network `model` has `outputs` outputs; the data has `classes` classes.
    case classes(model: String, outputs: Int, dataset: DatasetKind, classes: Int)

    /// `3×32×32`.
    public static func describe(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

    public var description: String {
        switch self {
        case .notSquare(let dataset, let width, let height):
            return "the SimpleCNN needs square images, but \(dataset.displayName) images are \(width)×\(height); resize them to one square size"
        case .tooSmallForSimpleCNN(let dataset, let shape, let reason):
            return "\(dataset.displayName) images of \(shape) do not fit the SimpleCNN: \(reason)"
        case .inputShape(let model, let takes, let dataset, let has):
            return "\(model) takes \(Self.describe(takes)) images, but the \(dataset.displayName) data has \(Self.describe(has)) images; use the data set (and image size) it was trained with"
        case .classes(let model, let outputs, let dataset, let classes):
            return "\(model) has \(outputs) outputs, but the \(dataset.displayName) data has \(classes) classes; use the data set (and labels) it was trained with"
        }
    }
}
