import Foundation

/// Loading a model file of any architecture as a program that takes the path from its user
/// should: the path checked first (``InputPath``), then the file read (``Checkpoint``), then the
/// network checked to fit in memory for one image before anything else is allocated.
///
/// ```swift
/// let loaded = try ModelFile.load("model.safetensors")
/// print(loaded.graph.name ?? "custom", loaded.network.architecture.parameterCount)
/// ```
public enum ModelFile {
    /// Loads the model file at `path`.
    /// - Parameters:
    ///   - path: the safetensors file.
    ///   - fallback: the architecture of a file that records none and matches no known one.
    /// - Returns: the network, its architecture and the file's metadata.
    /// - Throws: ``InputPathError`` when `path` is not a readable regular file;
    ///   ``CheckpointError`` naming the file when it is not a model, or its network is too large
    ///   to run here.
    public static func load(_ path: String, fallback: ModelGraph? = nil) throws -> LoadedModel {
        try InputPath.check(path, what: "model file")
        let loaded = try Checkpoint.loadModel(from: URL(fileURLWithPath: path), fallback: fallback)
        do {
            try MemoryBudget.check(loaded.network.architecture, samplesPerWorker: 1, workers: 1, training: false)
        } catch let error as MemoryBudgetError {
            throw CheckpointError(file: path, reason: "the network is too large to run here: \(error.description)")
        }
        return loaded
    }
}

extension LoadedModel {
    /// A short description for one-line summaries: the SimpleCNN's widths, else the
    /// architecture's name and parameter count.
    public var summary: String {
        if let model = simpleCNN { return model.widthsDescription }
        return "\(graph.name ?? "custom architecture"), \(network.architecture.parameterCount) parameters"
    }
}

extension MemoryBudget {
    /// The calibration batch of a pruning study: 64 images per worker, with gradients.
    public static let studySamplesPerWorker = 64

    /// Checks that a pruning study on `network` (calibration batches of
    /// ``studySamplesPerWorker`` images with gradients, one per worker) fits in memory.
    /// - Parameters:
    ///   - network: the network studied.
    ///   - workers: the worker threads.
    /// - Throws: ``MemoryBudgetError`` when it does not fit.
    public static func checkStudy(_ network: Network, workers: Int) throws {
        try check(network.architecture, samplesPerWorker: studySamplesPerWorker, workers: workers, training: true)
    }
}
