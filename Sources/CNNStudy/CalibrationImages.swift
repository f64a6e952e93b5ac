import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// The images behind calibration sets, loaded on first use, and the statistics passes over them.
///
/// The criteria rank channels on *calibration images* (`CalibrationSet`): the test set, the
/// training set, or a seeded subset of it. This keeps the training split (read once, only when a
/// set needs it) and runs the statistics passes every data-driven criterion needs, reporting each
/// pass to the study's ``StudyProgress``.
public final class CalibrationImages {
    /// The evaluation images (the `test` calibration set).
    public let test: ByteImages
    /// Seeds the `train:N` subset.
    public let seed: UInt64
    /// Threads of each statistics pass.
    public let threads: Int
    /// Where phases and notes go.
    public let progress: any StudyProgress
    private var train: ByteImages?
    private let loadTraining: (() throws -> ByteImages)?

    /// Calibration images over `test` and the training split (given, or read when first needed).
    /// - Parameters:
    ///   - test: the evaluation images.
    ///   - seed: seeds the `train:N` subset.
    ///   - threads: threads of each statistics pass.
    ///   - progress: receives a phase for each pass, and notes.
    ///   - train: the training images, if already loaded.
    ///   - loadTraining: reads the training images the first time a set needs them (when `train` is `nil`).
    public init(test: ByteImages, seed: UInt64, threads: Int, progress: any StudyProgress = SilentProgress(),
                train: ByteImages? = nil, loadTraining: (() throws -> ByteImages)? = nil) {
        self.test = test
        self.seed = seed
        self.threads = threads
        self.progress = progress
        self.train = train
        self.loadTraining = loadTraining
    }

    /// The training split, read once.
    public func trainingSet() throws -> ByteImages {
        if let train { return train }
        guard let loadTraining else { throw StudyError.noTrainingImages }
        let loaded = try loadTraining()
        train = loaded
        return loaded
    }

    /// The images of `set`.
    public func images(_ set: CalibrationSet) throws -> any LabeledImages {
        switch set {
        case .test:
            return test
        case .training:
            return try trainingSet()
        case .trainingSubset(let n):
            let train = try trainingSet()
            if n > train.count {
                progress.note("note: calibration set train:\(n) is larger than the \(grouped(train.count)) training images; using all of them")
            }
            return Subset(train, randomCount: n, seed: seed)
        }
    }

    /// `layers`' statistics of `network` on `set`, with gradient products when asked.
    public func statistics(of layers: [PrunableLayer], in network: Network, on set: CalibrationSet, gradients: Bool) throws -> [UnitStatistics] {
        let images = try images(set)
        progress.show("ranking on \(set.label): \(gradients ? "forward and backward" : "forward") pass over \(grouped(images.count)) images")
        return GroupCalibration.statistics(of: layers, in: network, on: images, gradients: gradients, threads: threads)
    }

    /// A provider for `Sweep` over one layer.
    public func provider(for layer: PrunableLayer) -> Sweep.StatisticsProvider {
        { network, set, gradients in try self.statistics(of: [layer], in: network, on: set, gradients: gradients)[0] }
    }
}
