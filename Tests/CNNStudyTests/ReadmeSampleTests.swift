import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation
import Testing

// README.md, "From Swift": the same function, verbatim, so that the sample keeps compiling and running.

/// The study on your own trained SimpleCNN and data (any `ByteImages`: CIFAR-10 is
/// `ByteImages(try CIFAR10(directory: url, split: .train))`).
func study(_ network: Network, widths: SimpleCNN, train: ByteImages, test: ByteImages, into folder: URL) throws -> ExperimentReport {
    let configuration = ExperimentConfiguration(calibration: .trainingSubset(5000), seed: 0, fineTuning: FineTuning(epochs: 2), threads: 2)
    let model = StudyModel(network: network, widths: widths, origin: .loaded(path: "model.safetensors"))
    let report = try ExperimentStudy(configuration: configuration).run(models: [model], train: train, test: test)
    print(report.corrected.points.map(\.accuracy))                // the corrected method at each K
    print(report.removal?.fineTuned?.measurement.accuracy ?? .nan) // half of conv2 removed, then fine-tuned
    _ = try report.write(to: folder, totalSeconds: 0)              // report.md, experiment.json, charts
    return report
}

@Suite struct ReadmeSampleTests {
    @Test func theReadmeSampleRunsTheStudyAndWritesItsFiles() throws {
        let folder = try StudyFixtures.scratchDirectory().appendingPathComponent("mine")
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let report = try study(try StudyFixtures.trainedNetwork(seed: 3), widths: StudyFixtures.widths,
                               train: StudyFixtures.train, test: StudyFixtures.test, into: folder)
        #expect(report.corrected.points.count == 8)
        #expect(report.removal?.fineTuned?.epochs == 2)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("report.md").path))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("sweep.png").path))
    }
}
