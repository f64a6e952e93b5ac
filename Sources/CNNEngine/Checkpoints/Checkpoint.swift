import Foundation

/// Why a checkpoint does not hold a usable SimpleCNN.
public struct CheckpointError: Error, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}

/// Saving and loading SimpleCNN networks as safetensors with PyTorch's state_dict names, so
/// that checkpoints move between cnnprune and PyTorch unchanged. The widths are recorded in
/// `__metadata__` (`cnnprune.architecture`, JSON), so pruned models load without flags; a file
/// without it (e.g. written from PyTorch) is read by inferring the widths from the shapes.
public enum Checkpoint {
    /// The metadata key holding the architecture as JSON.
    public static let architectureKey = "cnnprune.architecture"

    /// The safetensors form of `network`, with `model` recorded and any extra metadata.
    public static func safeTensors(of network: Network, model: SimpleCNN, metadata extra: [String: String] = [:]) -> SafeTensors {
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in network.namedTensors { tensors[name] = tensor }
        var metadata = extra
        metadata["format"] = "pt"
        metadata[architectureKey] = String(decoding: (try? JSONEncoder.sorted.encode(model)) ?? Data(), as: UTF8.self)
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// Saves atomically to `url`.
    public static func save(_ network: Network, model: SimpleCNN, to url: URL, metadata: [String: String] = [:]) throws {
        try safeTensors(of: network, model: model, metadata: metadata).write(to: url)
    }

    /// Loads a SimpleCNN of any widths, checking that the tensors are exactly those the widths call for.
    public static func load(from url: URL) throws -> (network: Network, model: SimpleCNN, metadata: [String: String]) {
        let file: SafeTensors
        do {
            file = try SafeTensors(contentsOf: url)
        } catch let error as SafeTensorsError {
            throw CheckpointError(file: url.path, reason: error.description)
        } catch {
            throw CheckpointError(file: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
        do {
            let (network, model) = try network(from: file)
            return (network, model, file.metadata)
        } catch let error as CheckpointError {
            throw CheckpointError(file: url.path, reason: error.reason)
        }
    }

    /// The network a parsed file holds.
    public static func network(from file: SafeTensors) throws -> (Network, SimpleCNN) {
        let model: SimpleCNN
        do {
            if let json = file.metadata[architectureKey] {
                guard let decoded = try? JSONDecoder().decode(SimpleCNN.self, from: Data(json.utf8)) else {
                    throw CheckpointError(file: "", reason: "metadata '\(architectureKey)' is not a valid architecture: \(json.prefix(200))")
                }
                model = decoded
            } else {
                model = try SimpleCNN.inferred(from: file.tensors.mapValues(\.shape))
            }
            let architecture = try model.architecture()
            let expected = Set(architecture.parameterEntries.map(\.name))
            // A training checkpoint also carries the optimizer's moments; they are not the model's.
            let isTrainingCheckpoint = file.metadata[TrainingRun.progressKey] != nil
            let extra = Set(file.tensors.keys).subtracting(expected)
                .filter { !(isTrainingCheckpoint && $0.hasPrefix("optimizer.")) }.sorted()
            guard extra.isEmpty else {
                throw CheckpointError(file: "", reason: "unexpected tensor\(extra.count > 1 ? "s" : "") \(extra.map { "'\($0)'" }.joined(separator: ", ")) for a SimpleCNN")
            }
            // Every shape is checked before anything is allocated: the widths come from the file,
            // and a hostile `cnnprune.architecture` could otherwise ask for terabytes and abort.
            for entry in architecture.parameterEntries {
                guard let tensor = file.tensors[entry.name] else {
                    throw CheckpointError(file: "", reason: "missing tensor '\(entry.name)'")
                }
                guard tensor.shape == entry.shape else {
                    throw CheckpointError(file: "", reason: "tensor '\(entry.name)' has shape \(tensor.shape), the architecture \(model.widthsDescription) needs \(entry.shape)")
                }
                guard tensor.scalars.allSatisfy(\.isFinite) else {
                    throw CheckpointError(file: "", reason: "tensor '\(entry.name)' holds NaN or infinite values")
                }
            }
            var parameters = [Float](repeating: 0, count: architecture.parameterCount)
            for entry in architecture.parameterEntries {
                parameters.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: file.tensors[entry.name]!.scalars)
            }
            return (Network(architecture: architecture, parameters: parameters), model)
        } catch let error as EngineError {
            throw CheckpointError(file: "", reason: error.description)
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
