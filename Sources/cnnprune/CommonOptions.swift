import ArgumentParser
import CNNDatasets
import CNNEngine
import Foundation

/// `--data DIR`, `--download`, and the loading of CIFAR-10 splits with a clear error when they are missing.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "CIFAR-10 binary directory (default: $CIFAR10_DIR, else ./data/cifar-10-batches-bin).")
    var directory: String?

    @Flag(help: "If the data directory is missing, download CIFAR-10 into it first (MD5-verified).")
    var download = false

    /// Loads `split`. A missing data directory is downloaded when `--download` was given or
    /// `downloadIfMissing` (as `experiment` does), and is otherwise an error saying where the
    /// data was looked for and how to get it.
    func load(_ split: CIFAR10.Split, downloadIfMissing: Bool = false) throws -> CIFAR10 {
        let (url, source) = DataDirectory.resolve(explicit: directory)
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard download || downloadIfMissing else {
                throw CLIError("no CIFAR-10 data at \(url.path) (\(source)); run `cnnprune download --data \(url.path)` or add --download to fetch it, or point --data / CIFAR10_DIR at a cifar-10-batches-bin directory")
            }
            try installCIFAR10(into: url)
        } else if !isDirectory.boolValue {
            throw CLIError("\(url.path) (\(source)) is a file, not a cifar-10-batches-bin directory")
        }
        do {
            return try CIFAR10(directory: url, split: split)
        } catch let error as CIFAR10Error {
            switch error {
            case .missingFile, .badSize:
                throw CLIError("\(error.description); `cnnprune download --data \(url.path) --force` fetches a fresh copy")
            default:
                throw CLIError(error.description)
            }
        }
    }
}

/// `--threads N`.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
    }
}

/// A failure to report as one line on stderr with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Loads a SimpleCNN checkpoint, turning any problem into a one-line CLI error.
func loadModel(_ path: String) throws -> (network: Network, model: SimpleCNN, metadata: [String: String]) {
    let loaded = try loadAnyModel(path)
    guard let model = loaded.simpleCNN else {
        throw CLIError("\(path): holds a \(loaded.graph.name ?? "custom") network; this command works on SimpleCNN models only so far")
    }
    return (loaded.network, model, loaded.metadata)
}

/// Loads a checkpoint of any architecture, turning any problem into a one-line CLI error.
/// - Parameter fallback: the architecture for a file that records none (`--arch`).
func loadAnyModel(_ path: String, fallback: ModelGraph? = nil) throws -> LoadedModel {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw CLIError("\(path): no such model file") }
    guard !isDirectory.boolValue else { throw CLIError("\(path): is a folder, not a safetensors model file") }
    do {
        return try Checkpoint.loadModel(from: URL(fileURLWithPath: path), fallback: fallback)
    } catch let error as CheckpointError {
        throw CLIError(error.description)
    }
}

extension LoadedModel {
    /// A short description for one-line summaries: the SimpleCNN's widths, else the
    /// architecture's name and parameter count.
    var summary: String {
        if let model = simpleCNN { return model.widthsDescription }
        return "\(graph.name ?? "custom architecture"), \(network.architecture.parameterCount) parameters"
    }
}

/// Prints a JSON value to stdout with stable key order.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Rounds to `places` decimals (for JSON figures people read).
func rounded(_ value: Double, _ places: Int = 2) -> Double {
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}
