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
