import ArgumentParser
import CNNDatasets
import CNNEngine
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
            do { _ = try Normalization.parse(normalize) } catch let error as DatasetError { throw ValidationError(error.flagged) }
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
    /// The most worker threads (each has its own workspaces).
    static let maximumThreads = 1_024

    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
        guard threads <= ThreadOptions.maximumThreads else { throw ValidationError("--threads must be at most \(ThreadOptions.maximumThreads), got \(threads)") }
    }
}

/// A failure to report as one line on stderr with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    /// A study's error as the command line's one-line message, with the flag that helps.
    init(_ error: StudyError) {
        switch error {
        case .fineTuningDiverged(let cause): self.init("fine-tuning diverged: \(cause.commandLineDescription); try a smaller --lr")
        case .target(let cause): self.init(cause.commandLineDescription)
        default: self.init(error.description)
        }
    }
}

/// Runs `body`, turning a study's error into the command line's one-line message.
func studyStep<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as StudyError { throw CLIError(error) }
}

/// Loads a SimpleCNN checkpoint, turning any problem into a one-line CLI error.
func loadModel(_ path: String) throws -> (network: Network, model: SimpleCNN, metadata: [String: String]) {
    let loaded = try loadAnyModel(path)
    guard let model = loaded.simpleCNN else {
        throw CLIError("\(path): holds a \(loaded.graph.name ?? "custom") network; this command works on SimpleCNN models only so far")
    }
    return (loaded.network, model, loaded.metadata)
}

/// Loads a checkpoint of any architecture (CNNEngine's `ModelFile`), as a one-line CLI error.
/// - Parameters:
///   - path: the model file.
///   - fallback: the architecture for a file that records none (`--arch`).
func loadAnyModel(_ path: String, fallback: ModelGraph? = nil) throws -> LoadedModel {
    do { return try ModelFile.load(path, fallback: fallback) } catch let error as CheckpointError { throw CLIError(error.commandLineDescription) }
    catch let error as InputPathError { throw CLIError(error.description) }
}

extension CheckpointError {
    /// The message with the flags that help a file that records no architecture.
    var commandLineDescription: String { description + (needsArchitecture ? "; give it with --arch or --arch-file" : "") }
}

extension NonFiniteLossError {
    /// The message with the flag that helps.
    var commandLineDescription: String { description + " (try a smaller --lr)" }
}

/// Checks that `path` names a readable regular file (CNNEngine's `InputPath`), as a one-line CLI error.
func checkReadableFile(_ path: String, what: String) throws {
    do { try InputPath.check(path, what: what) } catch let error as InputPathError { throw CLIError(error.description) }
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

/// Checks a count of epochs from a flag against `TrainingLimits.maximumEpochs`.
func validateEpochs(_ value: Int, flag: String, minimum: Int) throws {
    guard value >= minimum else { throw ValidationError("\(flag) must be \(minimum == 0 ? "0 or more" : "at least \(minimum)"), got \(value)") }
    guard value <= TrainingLimits.maximumEpochs else { throw ValidationError("\(flag) must be at most \(TrainingLimits.maximumEpochs), got \(value)") }
}

/// Checks a training batch size from a flag against `TrainingLimits.maximumBatchSize`.
func validateBatchSize(_ value: Int) throws {
    guard value > 0 else { throw ValidationError("--batch-size must be positive, got \(value)") }
    guard value <= TrainingLimits.maximumBatchSize else { throw ValidationError("--batch-size must be at most \(TrainingLimits.maximumBatchSize), got \(value)") }
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
