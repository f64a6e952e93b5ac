import Foundation

/// Why a checkpoint does not hold a usable network.
public struct CheckpointError: Error, CustomStringConvertible {
    /// The checkpoint's path (empty when the bytes did not come from a file).
    public var file: String
    /// What is wrong, as one line.
    public var reason: String
    /// Whether the file records no architecture and matches no known one: the caller must say
    /// which architecture it holds (a `fallback`).
    public var needsArchitecture = false
    /// The file (if any) and what is wrong.
    public var description: String { file.isEmpty ? reason : "\(file): \(reason)" }
}

/// A network read from a checkpoint, with what the file says about it.
public struct LoadedModel: Sendable {
    /// The network: architecture and parameter values.
    public var network: Network
    /// The architecture the file holds.
    public var graph: ModelGraph
    /// The file's `__metadata__`.
    public var metadata: [String: String]
    /// The SimpleCNN widths, when the architecture is a SimpleCNN (the pruning study's model).
    public var simpleCNN: SimpleCNN? { SimpleCNN(graph: graph) }
}

/// Saving and loading networks as safetensors with PyTorch's state_dict names, so that
/// checkpoints move between cnnprune and PyTorch unchanged.
///
/// The architecture is recorded in `__metadata__` as `cnnprune.graph` (a `ModelGraph`, JSON),
/// so any file — pruned or not, any architecture — loads without flags. SimpleCNN files also
/// keep the widths under `cnnprune.architecture`, as earlier versions wrote (and read) them. A
/// file with neither (e.g. written from PyTorch) is recognised from its tensor names and
/// shapes: a SimpleCNN of any widths, or a zoo architecture (`ModelZoo.inferred`).
public enum Checkpoint {
    /// The metadata key holding a SimpleCNN's widths as JSON (earlier versions' only key).
    public static let architectureKey = "cnnprune.architecture"
    /// The metadata key holding the number of training epochs a model has seen in all (training
    /// and fine-tuning), as a decimal integer; the default length of a scratch control.
    public static let epochsTrainedKey = "cnnprune.epochs_trained"
    /// The metadata key holding the architecture as a `ModelGraph` in JSON.
    public static let graphKey = "cnnprune.graph"

    /// The safetensors form of `network` — parameters, then state (running statistics,
    /// `num_batches_tracked` as I64) — with its architecture recorded and any extra metadata.
    public static func safeTensors(of network: Network, metadata extra: [String: String] = [:]) -> SafeTensors {
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in network.namedTensors { tensors[name] = tensor }
        var metadata = extra
        metadata["format"] = "pt"
        if let graph = network.architecture.graph {
            metadata[graphKey] = graph.jsonString()
            if let model = SimpleCNN(graph: graph) {
                metadata[architectureKey] = String(decoding: (try? JSONEncoder.sorted.encode(model)) ?? Data(), as: UTF8.self)
            }
        }
        var file = SafeTensors(tensors: tensors, metadata: metadata)
        file.integerTensors = Set(network.architecture.stateEntries.filter(\.isInteger).map(\.name))
        return file
    }

    /// The safetensors form of a SimpleCNN network (the architecture comes from the network).
    public static func safeTensors(of network: Network, model: SimpleCNN, metadata extra: [String: String] = [:]) -> SafeTensors {
        safeTensors(of: network, metadata: extra)
    }

    /// Saves atomically to `url`.
    public static func save(_ network: Network, to url: URL, metadata: [String: String] = [:]) throws {
        try safeTensors(of: network, metadata: metadata).write(to: url)
    }

    /// Saves a SimpleCNN network atomically to `url`.
    public static func save(_ network: Network, model: SimpleCNN, to url: URL, metadata: [String: String] = [:]) throws {
        try save(network, to: url, metadata: metadata)
    }

    /// Loads a network of any architecture, checking that the tensors are exactly those the
    /// architecture calls for.
    /// - Parameters:
    ///   - url: the safetensors file.
    ///   - fallback: the architecture to assume for a file that records none and whose
    ///     tensors no known architecture matches (`--arch` on the command line).
    public static func loadModel(from url: URL, fallback: ModelGraph? = nil) throws -> LoadedModel {
        let file = try read(url)
        do {
            let (network, graph) = try network(from: file, fallback: fallback)
            return LoadedModel(network: network, graph: graph, metadata: file.metadata)
        } catch let error as CheckpointError {
            throw CheckpointError(file: url.path, reason: error.reason, needsArchitecture: error.needsArchitecture)
        }
    }

    /// Loads a SimpleCNN of any widths (the pruning study's model).
    /// - Throws: `CheckpointError` for a malformed file or one holding another architecture.
    public static func load(from url: URL) throws -> (network: Network, model: SimpleCNN, metadata: [String: String]) {
        let loaded = try loadModel(from: url)
        guard let model = loaded.simpleCNN else {
            throw CheckpointError(file: url.path, reason: "holds a \(loaded.graph.name ?? "non-SimpleCNN") network, not a SimpleCNN")
        }
        return (loaded.network, model, loaded.metadata)
    }

    private static func read(_ url: URL) throws -> SafeTensors {
        do {
            return try SafeTensors(contentsOf: url)
        } catch let error as SafeTensorsError {
            throw CheckpointError(file: url.path, reason: error.description)
        } catch {
            throw CheckpointError(file: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
    }

    /// The SimpleCNN network a parsed file holds.
    public static func network(from file: SafeTensors) throws -> (Network, SimpleCNN) {
        let (network, graph) = try network(from: file, fallback: nil)
        guard let model = SimpleCNN(graph: graph) else {
            throw CheckpointError(file: "", reason: "holds a \(graph.name ?? "non-SimpleCNN") network, not a SimpleCNN")
        }
        return (network, model)
    }

    /// The architecture a parsed file records or, failing that, the one its tensors match.
    public static func graph(of file: SafeTensors, fallback: ModelGraph? = nil) throws -> ModelGraph {
        if let json = file.metadata[graphKey] {
            do {
                return try ModelGraph.decode(Data(json.utf8))
            } catch let error as ModelGraphError {
                throw CheckpointError(file: "", reason: "metadata '\(graphKey)' is not a valid architecture: \(error.description)")
            }
        }
        if let json = file.metadata[architectureKey] {
            guard let decoded = try? JSONDecoder().decode(SimpleCNN.self, from: Data(json.utf8)) else {
                throw CheckpointError(file: "", reason: "metadata '\(architectureKey)' is not a valid architecture: \(json.prefix(200))")
            }
            return decoded.graph
        }
        let shapes = file.tensors.mapValues(\.shape)
        if let model = try? SimpleCNN.inferred(from: shapes) { return model.graph }
        if let graph = ModelZoo.inferred(from: shapes) { return graph }
        if let fallback { return fallback }
        throw CheckpointError(file: "", reason: "records no architecture ('\(graphKey)' metadata) and its tensors match no known architecture",
                              needsArchitecture: true)
    }

    /// The network a parsed file holds, with its architecture.
    public static func network(from file: SafeTensors, fallback: ModelGraph?) throws -> (Network, ModelGraph) {
        let graph = try graph(of: file, fallback: fallback)
        let architecture: Sequential
        do {
            architecture = try graph.sequential()
        } catch let error as EngineError {
            throw CheckpointError(file: "", reason: "its architecture is invalid: \(error.description)")
        }
        let describe = graph.name ?? SimpleCNN(graph: graph)?.widthsDescription ?? "recorded"
        let entries = architecture.parameterEntries + architecture.stateEntries
        let expected = Set(entries.map(\.name))
        // A training checkpoint also carries the optimizer's state; it is not the model's.
        let isTrainingCheckpoint = file.metadata[TrainingRun.progressKey] != nil
        let extra = Set(file.tensors.keys).subtracting(expected)
            .filter { !(isTrainingCheckpoint && $0.hasPrefix("optimizer.")) }.sorted()
        guard extra.isEmpty else {
            throw CheckpointError(file: "", reason: "unexpected tensor\(extra.count > 1 ? "s" : "") \(extra.prefix(5).map { "'\($0)'" }.joined(separator: ", "))\(extra.count > 5 ? " and \(extra.count - 5) more" : "") for the \(describe) architecture")
        }
        // Every shape is checked before anything is allocated: the architecture comes from the
        // file, and a hostile one could otherwise ask for terabytes and abort.
        for entry in entries {
            guard let tensor = file.tensors[entry.name] else {
                // PyTorch files from before 0.4.1 have no num_batches_tracked: it starts at 0.
                if entry.isInteger { continue }
                throw CheckpointError(file: "", reason: "missing tensor '\(entry.name)'")
            }
            guard tensor.shape == entry.shape else {
                throw CheckpointError(file: "", reason: "tensor '\(entry.name)' has shape \(tensor.shape), the \(describe) architecture needs \(entry.shape)")
            }
            guard tensor.scalars.allSatisfy(\.isFinite) else {
                throw CheckpointError(file: "", reason: "tensor '\(entry.name)' holds NaN or infinite values")
            }
            try checkNumberKind(of: entry, in: file)
        }
        var parameters = [Float](repeating: 0, count: architecture.parameterCount)
        for entry in architecture.parameterEntries {
            parameters.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: file.tensors[entry.name]!.scalars)
        }
        var state = Network.initialState(of: architecture)
        for entry in architecture.stateEntries {
            guard let tensor = file.tensors[entry.name] else { continue }
            state.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: tensor.scalars)
        }
        return (Network(architecture: architecture, parameters: parameters, state: state), graph)
    }
}

extension Checkpoint {
    /// Refuses a tensor whose values the file stores as another kind of number than the
    /// architecture holds: floating-point weights relabelled as integers (read as integers,
    /// they would load as meaningless whole numbers), or an integer (a counter such as
    /// `num_batches_tracked`) stored as floats with a fractional part.
    static func checkNumberKind(of entry: ParameterEntry, in file: SafeTensors) throws {
        let storedAsInteger = file.integerTensors.contains(entry.name)
        let dtype = file.storedDTypes[entry.name] ?? (storedAsInteger ? "an integer" : "floating-point")
        if storedAsInteger && !entry.isInteger {
            throw CheckpointError(file: "", reason: "tensor '\(entry.name)' is stored as \(dtype), but the architecture holds it as floating-point")
        }
        if !storedAsInteger && entry.isInteger, let value = file.tensors[entry.name]?.scalars.first(where: { $0 != $0.rounded() }) {
            throw CheckpointError(file: "", reason: "tensor '\(entry.name)' is stored as \(dtype) with the non-integral value \(value), but the architecture holds it as an integer")
        }
    }
}

extension SimpleCNN {
    /// The widths as a short human-readable string, e.g. `conv1=16 conv2=32 fc1=256`.
    public var widthsDescription: String { "conv1=\(conv1) conv2=\(conv2) fc1=\(fc1) classes=\(classes)" }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so output is stable across runs.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
