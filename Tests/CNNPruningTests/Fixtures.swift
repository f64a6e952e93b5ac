import CNNEngine
import CNNPruning
import Foundation

/// Small networks and data sets whose numbers can be worked out by hand or checked naively.
enum Fixtures {
    /// `conv1` (1 → 4 channels, 1×1 kernel) · ReLU · flatten · `fc1` (16 → 2) · ReLU · `fc2` (2 → 2)
    /// on 1×2×2 images. conv1 computes `w·x + b` per pixel with `w = [1, −1, 0.5, −2]`,
    /// `b = [0, 1, −1, 3]`; fc1's rows are `[3, −4, 0…]` and `[1, 1, 1, 1, 0…]`.
    static func handNetwork() throws -> Network {
        let architecture = try Sequential(inputShape: [1, 2, 2]) {
            Conv2D(name: "conv1", inputChannels: 1, outputChannels: 4, kernelSize: 1)
            ReLU()
            Flatten()
            Linear(name: "fc1", inputFeatures: 16, outputFeatures: 2)
            ReLU()
            Linear(name: "fc2", inputFeatures: 2, outputFeatures: 2)
        }
        var network = Network(architecture: architecture, parameters: [Float](repeating: 0, count: architecture.parameterCount))
        try network.setTensor(Tensor(shape: [4, 1, 1, 1], scalars: [1, -1, 0.5, -2]), named: "conv1.weight")
        try network.setTensor(Tensor(shape: [4], scalars: [0, 1, -1, 3]), named: "conv1.bias")
        var fc1 = [Float](repeating: 0, count: 32)
        fc1[0] = 3; fc1[1] = -4
        for i in 16..<20 { fc1[i] = 1 }
        try network.setTensor(Tensor(shape: [2, 16], scalars: fc1), named: "fc1.weight")
        try network.setTensor(Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]), named: "fc2.weight")
        return network
    }

    /// Two 1×2×2 images: `[[1, 2], [3, 4]]` and `[[−1, 0], [0, 1]]`.
    static func handImages() -> TensorImages {
        TensorImages(images: Tensor(shape: [2, 1, 2, 2], scalars: [1, 2, 3, 4, -1, 0, 0, 1]), labels: [0, 1], classNames: ["a", "b"])
    }

    /// For the Taylor criterion: one-pixel images, `conv1` (1 → 2, 1×1) with `w = [2, −2]`,
    /// `b = [0, 3]`, ReLU, flatten, `fc1` the 2×2 identity.
    static func taylorNetwork() throws -> Network {
        let architecture = try Sequential(inputShape: [1, 1, 1]) {
            Conv2D(name: "conv1", inputChannels: 1, outputChannels: 2, kernelSize: 1)
            ReLU()
            Flatten()
            Linear(name: "fc1", inputFeatures: 2, outputFeatures: 2)
        }
        return Network(architecture: architecture, parameters: [2, -2, 0, 3, 1, 0, 0, 1, 0, 0])
    }

    /// Pixels 1 (label 0) and −1 (label 1).
    static func taylorImages() -> TensorImages {
        TensorImages(images: Tensor(shape: [2, 1, 1, 1], scalars: [1, -1]), labels: [0, 1], classNames: ["a", "b"])
    }

    /// A small SimpleCNN (3×8×8 images, widths 4, 6, 8, 3 classes) with PyTorch's default
    /// initialisation from `seed`, its weights scaled by 3 (so that every unit matters) and
    /// `fc2`'s bias shifted so that the classes it predicts on random images are balanced.
    static func smallCNN(seed: UInt64 = 1) throws -> Network {
        let model = SimpleCNN(inputChannels: 3, imageSize: 8, conv1: 4, conv2: 6, fc1: 8, classes: 3)
        var generator = SeededGenerator(seed: seed)
        var network = Network(architecture: try model.architecture(), generator: &generator)
        for entry in network.architecture.parameterEntries where entry.name.hasSuffix(".weight") {
            for i in entry.offset..<(entry.offset + entry.count) { network.parameters[i] *= 3 }
        }
        let logits = network(randomInputs(for: network, count: 500, seed: seed &+ 100))
        var bias = try network.tensor(named: "fc2.bias")
        for j in 0..<3 {
            let mean = stride(from: j, to: logits.count, by: 3).map { Double(logits.scalars[$0]) }.reduce(0, +) / 500
            bias.scalars[j] -= Float(mean)
        }
        try network.setTensor(bias, named: "fc2.bias")
        return network
    }

    /// `count` random images labelled with `teacher`'s own predictions, so that the unpruned
    /// teacher scores 100 % and every prediction that masking changes costs accuracy.
    static func teacherImages(for teacher: Network, count: Int, seed: UInt64 = 2) -> TensorImages {
        let images = randomInputs(for: teacher, count: count, seed: seed)
        let logits = teacher(images)
        let classes = logits.shape[1]
        let labels = (0..<count).map { n -> Int in
            let row = Array(logits.scalars[(n * classes)..<((n + 1) * classes)])
            return row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!
        }
        return TensorImages(images: images, labels: labels, classNames: (0..<classes).map { "class\($0)" })
    }

    /// Random inputs `[count, …inputShape]`.
    static func randomInputs(for network: Network, count: Int, seed: UInt64) -> Tensor {
        let shape = network.architecture.inputShape
        var generator = SeededGenerator(seed: seed)
        return Tensor(shape: [count] + shape, scalars: (0..<(count * shape.reduce(1, *))).map { _ in generator.uniform(bound: 1) })
    }

    /// A provider for sweeps whose statistics must all come from the evaluation pass.
    static func noCalibration(_: Network, _ set: CalibrationSet, _: Bool) throws -> UnitStatistics {
        throw PruningError.invalidCalibration("unexpected calibration pass on \(set)")
    }
}
