import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// A small SimpleCNN trained briefly on generated images whose class decides which colour
/// channel is brighter, so that the network learns something and pruning costs something.
enum StudyFixtures {
    /// 3×8×8 images; conv1 4, conv2 8 (so K = 0…7 and the removal takes 2 and 4), fc1 12, 3 classes.
    static let widths = SimpleCNN(inputChannels: 3, imageSize: 8, conv1: 4, conv2: 8, fc1: 12, classes: 3)

    /// `count` images, class `i % 3` for image `i`: its own channel around 190, the others around 60, with noise.
    static func images(count: Int, seed: UInt64) -> ByteImages {
        var generator = SeededGenerator(seed: seed)
        var pixels: [UInt8] = []
        var labels: [UInt16] = []
        for i in 0..<count {
            let label = i % 3
            labels.append(UInt16(label))
            for channel in 0..<3 {
                let level = channel == label ? 190 : 60
                for _ in 0..<64 { pixels.append(UInt8(level + Int(generator.next() % 41) - 20)) }
            }
        }
        return ByteImages(pixels: pixels, labels: labels, shape: [3, 8, 8], classNames: ["red", "green", "blue"],
                          normalization: Normalization(mean: 0.5, std: 0.25))
    }

    static let train = images(count: 240, seed: 21)
    static let test = images(count: 90, seed: 22)

    /// The SimpleCNN above from seed `seed`, trained eight epochs on `train`.
    static func trainedNetwork(seed: UInt64) throws -> Network {
        var generator = SeededGenerator(seed: seed)
        let fresh = Network(architecture: try widths.architecture(), generator: &generator)
        return try FineTuning(epochs: 8, learningRate: 0.005, batchSize: 16, seed: seed).train(fresh, model: widths, on: train, threads: 1) { _ in }.network
    }

    /// The study's configuration for these images: rank on 120 training images, no fine-tuning, one timing round.
    static func configuration(fineTuningEpochs: Int = 0) -> ExperimentConfiguration {
        ExperimentConfiguration(calibration: .trainingSubset(120), seed: 5,
                                fineTuning: fineTuningEpochs > 0 ? FineTuning(epochs: fineTuningEpochs, learningRate: 0.005, batchSize: 16, seed: 5) : nil,
                                timingRuns: 1, threads: 1, datasetName: "generated colours")
    }

    /// A scratch folder, removed by the caller.
    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnstudy-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
