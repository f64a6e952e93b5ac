import ArgumentParser
import CNNDatasets
import CNNEngine
import Foundation

/// `--data DIR` and the loading of CIFAR-10 splits with a clear error when they are missing.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "CIFAR-10 binary directory (default: $CIFAR10_DIR, else ./data/cifar-10-batches-bin).")
    var directory: String?

    func load(_ split: CIFAR10.Split) throws -> CIFAR10 {
        let (url, source) = DataDirectory.resolve(explicit: directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("no CIFAR-10 data at \(url.path) (\(source)); pass --data DIR or set CIFAR10_DIR to a cifar-10-batches-bin directory")
        }
        do {
            return try CIFAR10(directory: url, split: split)
        } catch let error as CIFAR10Error {
            throw CLIError(error.description)
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

/// Loads a checkpoint, turning any problem into a one-line CLI error.
func loadModel(_ path: String) throws -> (network: Network, model: SimpleCNN, metadata: [String: String]) {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such model file") }
    do {
        return try Checkpoint.load(from: URL(fileURLWithPath: path))
    } catch let error as CheckpointError {
        throw CLIError(error.description)
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
