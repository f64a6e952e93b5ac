import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `--data DIR`, `--download`, `--dataset NAME` and its data set flags, and the loading of
/// the splits with a clear error when they are missing (the loading lives in DatasetLoading.swift).
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "The data set's directory (default for cifar10: $CIFAR10_DIR, else ./data/cifar-10-batches-bin; cifar100: $CIFAR100_DIR, else ./data/cifar-100-binary; mnist: $MNIST_DIR, else ./data/mnist; fashion-mnist: $FASHION_MNIST_DIR, else ./data/fashion-mnist; folder: required).")
    var directory: String?

    @Flag(help: "If the data directory is missing, download the data set into it first (MD5-verified).")
    var download = false

    @Option(help: "The data set: cifar10, cifar100, mnist, fashion-mnist or folder (one subfolder of PNG/JPEG images per class).")
    var dataset: DatasetKind = .cifar10

    @Option(help: "CIFAR-100's classes: fine (100) or coarse (20 superclasses).")
    var labels: CIFAR100.Labels = .fine

    @Option(parsing: .unconditional, help: "folder: resize every image to N×N pixels (bilinear); without it all images must be the same size.")
    var imageSize: Int?

    @Option(parsing: .unconditional, help: "folder without train/ and test/ subfolders: the fraction of each class held out for testing.")
    var testFraction: Double?

    @Option(parsing: .unconditional, help: "folder: the seed of the --test-fraction split.")
    var splitSeed: UInt64 = 0

    @Option(help: "Input normalisation MEAN,STD (every channel) or M1,M2,M3,S1,S2,S3: (x/255 − mean)/std (default: the data set's usual values; cifar10 and folder 0.5,0.5).")
    var normalize: String?

    func validate() throws {
        if let imageSize, !(4...SimpleCNN.maximumImageSize).contains(imageSize) {
            throw ValidationError("--image-size must be 4…\(SimpleCNN.maximumImageSize), got \(imageSize)")
        }
        if let testFraction, !(testFraction > 0 && testFraction < 1) {
            throw ValidationError("--test-fraction must be between 0 and 1 (exclusive), got \(testFraction)")
        }
        if dataset != .folder && (imageSize != nil || testFraction != nil) {
            throw ValidationError("--image-size and --test-fraction apply to --dataset folder only")
        }
        if dataset == .folder && (directory ?? "").isEmpty { throw ValidationError("--dataset folder needs --data DIR (the folder of class folders)") }
        if let normalize {
            _ = try usage { try Normalization.parse(normalize) }
        }
    }

    /// The data these flags select, as CNNDatasets' value.
    var source: DatasetSource {
        DatasetSource(dataset, directory: directory, labels: labels, imageSize: imageSize, testFraction: testFraction,
                      splitSeed: splitSeed, normalization: normalize.flatMap { try? Normalization.parse($0) })
    }
}

/// `--threads N`.
struct ThreadOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        try usage { try SettingError.check(threads, .threads, positive: true) }
    }
}

/// A failure to report as one line on stderr with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A library error that the command line words itself, naming the flag that helps. Thrown from
/// `run()`, `CNNPrune.main()` prints it in these words; `usage { … }` makes it a usage error.
protocol FlagNamingError: Error {
    /// The one-line message in the command line's words.
    var commandLineDescription: String { get }
}

/// Runs `body` (a `validate()` check), turning any error into a usage error in the command
/// line's words.
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as FlagNamingError { throw ValidationError(error.commandLineDescription) }
    catch let error as ValidationError { throw error } catch { throw ValidationError("\(error)") }
}

extension SettingError: FlagNamingError {
    /// The flag of each setting.
    static let flags: [Setting: String] = [
        .epochs: "--epochs", .fineTuningEpochs: "--finetune-epochs", .scratchEpochs: "--scratch-epochs", .warmupEpochs: "--warmup-epochs",
        .batchSize: "--batch-size", .learningRate: "--lr", .gamma: "--lr-gamma", .momentum: "--momentum", .weightDecay: "--weight-decay",
        .timingRuns: "--timing-runs", .count: "--k", .pruningSteps: "--iterative", .uniformRatio: "--ratio", .globalRatio: "--global-ratio",
        .multiplyAccumulatesFraction: "--target-macs", .parametersFraction: "--target-params", .maximumGroupRatio: "--max-layer-ratio",
        .seeds: "--seeds", .threads: "--threads",
    ]

    var commandLineDescription: String { description(naming: { Self.flags[$0] ?? $0.name }) }
}

extension StudyError: FlagNamingError {
    /// The message with the flag that helps.
    var commandLineDescription: String {
        switch self {
        case .fineTuningDiverged(let cause): "fine-tuning diverged: \(cause.commandLineDescription); try a smaller --lr"
        case .target(let cause): cause.commandLineDescription
        case .notPrunable(let group, let allowResidual):
            PruningError.notPrunable(group.name, reason: group.whyNotPrunableWithFlag(allowResidual: allowResidual) ?? "").description
        default: description
        }
    }

    /// The message for a study of the model file `model`.
    func commandLineDescription(model: String) -> String {
        guard case .noPrunableGroup(let residualExcluded) = self else { return commandLineDescription }
        return "\(model): has no prunable channel group\(residualExcluded ? " (groups coupled through residual sums need --prune-residual)" : "")"
    }
}

/// Loads a SimpleCNN checkpoint, turning any problem into a one-line CLI error.
func loadModel(_ path: String) throws -> (network: Network, model: SimpleCNN, metadata: [String: String]) {
    let loaded = try ModelFile.load(path)
    guard let model = loaded.simpleCNN else {
        throw CLIError("\(path): holds a \(loaded.graph.name ?? "custom") network; this command works on SimpleCNN models only so far")
    }
    return (loaded.network, model, loaded.metadata)
}

extension CheckpointError: FlagNamingError {
    /// The message with the flags that help a file that records no architecture.
    var commandLineDescription: String { description + (needsArchitecture ? "; give it with --arch or --arch-file" : "") }
}

extension NonFiniteLossError: FlagNamingError {
    /// The message with the flag that helps.
    var commandLineDescription: String { description + " (try a smaller --lr)" }
}

/// Checks that a study on `network` fits in memory (CNNEngine's `MemoryBudget.checkStudy`).
func checkStudyMemory(_ network: Network, threads: Int, model: String) throws {
    do { try MemoryBudget.checkStudy(network, workers: threads) } catch let error as MemoryBudgetError {
        throw CLIError("\(model): the study does not fit in memory: \(error.description); try fewer --threads")
    }
}

/// Prints a JSON value to stdout with stable key order.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Claims the output folder `path` for this run (`OutputDirectoryLock`): a second run writing
/// the same folder fails at once. Keep the result alive until the run's files are written.
func lockOutputDirectory(_ path: String) throws -> OutputDirectoryLock {
    do {
        return try OutputDirectoryLock(URL(fileURLWithPath: path))
    } catch let error as AtomicFileError {
        throw CLIError("--output \(error.path): \(error.reason)")
    }
}

/// The long flags given on this process's command line (`--seed`, `--lr`, …), to tell a flag
/// given explicitly from its default value (ArgumentParser reports only the value).
enum GivenFlags {
    /// The flags of `CommandLine.arguments`, up to a `--` terminator.
    static var current: Set<String> { flags(in: CommandLine.arguments.dropFirst()) }

    /// The long flags in `arguments` (`--name` and `--name=value` both give `--name`).
    static func flags<S: Sequence>(in arguments: S) -> Set<String> where S.Element == String {
        var result = Set<String>()
        for argument in arguments {
            if argument == "--" { break }
            guard argument.hasPrefix("--") else { continue }
            result.insert(String(argument.split(separator: "=", maxSplits: 1)[0]))
        }
        return result
    }
}

/// Checks, before any work, that the file `path` can be written as an output: a regular file,
/// a link to one (its target is replaced), or nothing yet — never a folder, device or FIFO.
/// - Throws: `CLIError`, one line naming the flag, the path and the problem.
func checkOutputFile(_ path: String, flag: String) throws {
    do {
        _ = try OutputPath.resolve(URL(fileURLWithPath: path))
    } catch let error as AtomicFileError {
        throw CLIError("\(flag) \(path): \(error.reason)")
    }
}
