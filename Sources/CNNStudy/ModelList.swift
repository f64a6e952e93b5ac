import CNNEngine
import Foundation

/// Several model files studied alike, as seeds of one network: the list parsed from one value,
/// checked before any work, and where each model's own outputs go.
public enum ModelList {
    /// Why a list of model files cannot be studied together.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// An entry of the list is empty (e.g. `a,,b`).
        case emptyEntry
        /// A file is listed twice.
        case duplicate
        /// `path` (architecture `name`) and the first file `reference` (`referenceName`) are
        /// networks of different architectures or widths.
        case differentArchitectures(path: String, name: String, reference: String, referenceName: String)

        /// One line saying what is wrong.
        public var description: String {
            switch self {
            case .emptyEntry: "the list of models has an empty entry"
            case .duplicate: "the list of models names the same file twice; give each model once"
            case .differentArchitectures(let path, let name, let reference, let referenceName):
                "\(path) (\(name)) and \(reference) (\(referenceName)) are networks of different architectures or widths; several models are compared as seeds of one network"
            }
        }
    }

    /// The model files of one value: one path, or several separated by commas
    /// (`a.safetensors,b.safetensors`, spaces around each trimmed). A value that names an
    /// existing file is one model even if it holds a comma.
    /// - Parameter value: The path or comma-separated paths.
    public static func files(_ value: String) -> [String] {
        if FileManager.default.fileExists(atPath: value) || !value.contains(",") { return [value] }
        return value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Checks a list of model files before any work: none empty, none twice, and all of one
    /// architecture (a mixed list would be averaged as if it were one network).
    /// - Parameters:
    ///   - files: The files, in order.
    ///   - graph: Loads a file's architecture (its errors pass through).
    /// - Throws: ``Problem`` for the first thing wrong.
    public static func check(_ files: [String], graph: (_ path: String) throws -> ModelGraph) throws {
        if files.contains(where: \.isEmpty) { throw Problem.emptyEntry }
        if Set(files).count != files.count { throw Problem.duplicate }
        var first: (path: String, graph: ModelGraph)?
        for path in files {
            let loaded = try graph(path)
            guard let reference = first else { first = (path, loaded); continue }
            guard loaded == reference.graph else {
                throw Problem.differentArchitectures(path: path, name: loaded.name ?? "custom architecture",
                                                     reference: reference.path, referenceName: reference.graph.name ?? "custom architecture")
            }
        }
    }

    /// The folder of model `index`'s own outputs inside a several-model run's output folder: `model-<index>`.
    /// - Parameters:
    ///   - output: The run's output folder.
    ///   - index: The model's 0-based index.
    public static func directory(_ output: String, index: Int) -> URL {
        URL(fileURLWithPath: output).appendingPathComponent("model-\(index)")
    }

    /// The file model `index`'s pruned model is saved to: `pruned.safetensors` → `pruned-1.safetensors` for model 1.
    /// - Parameters:
    ///   - output: The output file asked for.
    ///   - index: The model's 0-based index.
    public static func output(_ output: String, index: Int) -> String {
        let url = URL(fileURLWithPath: output)
        let ext = url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let name = ext.isEmpty ? "\(stem)-\(index)" : "\(stem)-\(index).\(ext)"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }
}
