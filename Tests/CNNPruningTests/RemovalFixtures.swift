import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// Seeded networks, inputs and labelled sets for the removal tests.
enum RemovalFixtures {
    /// A SimpleCNN of `model`'s widths with PyTorch's default initialisation (non-zero biases).
    static func network(_ model: SimpleCNN = SimpleCNN(), seed: UInt64) throws -> Network {
        var generator = SeededGenerator(seed: seed)
        return Network(architecture: try model.architecture(), generator: &generator)
    }

    /// `count` inputs of `model`'s shape, uniform in [-1, 1] like normalised images.
    static func inputs(_ count: Int, model: SimpleCNN = SimpleCNN(), seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let shape = [count, model.inputChannels, model.imageSize, model.imageSize]
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.uniform(bound: 1) })
    }

    /// `count` random images labelled with `network`'s own predictions, so that the unpruned
    /// network scores 100 % and every pruned one something in between.
    static func selfLabelled(_ count: Int, by network: Network, model: SimpleCNN = SimpleCNN(), seed: UInt64) -> TensorImages {
        let images = inputs(count, model: model, seed: seed)
        let logits = network(images)
        let classes = model.classes
        let labels = (0..<count).map { n in
            let row = logits.scalars[(n * classes)..<((n + 1) * classes)]
            return row.indices.max { row[$0] < row[$1] }! - n * classes
        }
        return TensorImages(images: images, labels: labels, classNames: (0..<classes).map { "class \($0)" })
    }

    /// The real test images when `CIFAR10_DIR` is set.
    static func cifarTest() throws -> CIFAR10? {
        guard let directory = ProcessInfo.processInfo.environment["CIFAR10_DIR"] else { return nil }
        return try CIFAR10(directory: URL(fileURLWithPath: directory), split: .test)
    }

    /// The inputs of the first `count` samples of `data`, as a tensor.
    static func tensor(of data: some LabeledImages, count: Int) -> Tensor {
        let size = data.sampleShape.reduce(1, *)
        var scalars = [Float](repeating: 0, count: count * size)
        let indices = (0..<Int32(count)).map { $0 }
        indices.withUnsafeBufferPointer { index in
            scalars.withUnsafeMutableBufferPointer { data.fillInputs(indices: index, into: $0.baseAddress!) }
        }
        return Tensor(shape: [count] + data.sampleShape, scalars: scalars)
    }

    /// The largest |a − b|.
    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "\(a.shape) vs \(b.shape)")
        return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}
