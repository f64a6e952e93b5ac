import ArgumentParser
import CNNDatasets
import CNNEngine
import Foundation

extension DatasetKind: ExpressibleByArgument {}
extension CIFAR100.Labels: ExpressibleByArgument {}

/// Image folders decoded once per process (train and test come from one pass).
nonisolated(unsafe) private var decodedFolders: [String: (train: ByteImages, test: ByteImages)] = [:]

extension DataOptions {
    /// The directory to read, and a phrase saying where it came from (for error messages).
    var resolvedDirectory: (url: URL, source: String) { Self.resolve(directory, dataset: dataset) }

    /// `--data`, else the data set's environment variable, else its default path.
    static func resolve(_ directory: String?, dataset: DatasetKind) -> (url: URL, source: String) {
        let (url, origin) = DataDirectory.locate(directory, dataset: dataset)
        return (url, origin == .given ? "--data" : origin.description)
    }

    /// `--normalize`, else the data set's default.
    var normalization: Normalization {
        normalize.flatMap { try? Normalization.parse($0) } ?? dataset.defaultNormalization
    }

    /// Loads `split` of `--dataset`. A missing data directory is downloaded when `--download`
    /// was given or `downloadIfMissing` (as `experiment` does), and is otherwise an error
    /// saying where the data was looked for and how to get it. Bad files are one-line errors.
    func load(_ split: DatasetSplit, downloadIfMissing: Bool = false) throws -> ByteImages {
        let (url, source) = resolvedDirectory
        var isDirectory: ObjCBool = false
        let name = dataset.displayName
        if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard dataset.isDownloadable else { throw CLIError("\(url.path) (\(source)): no such folder") }
            guard download || downloadIfMissing else {
                throw CLIError("no \(name) data at \(url.path) (\(source)); run `cnnprune download --dataset \(dataset.rawValue) --data \(url.path)` or add --download to fetch it, or point --data at it")
            }
            try installDataset(dataset, into: url)
        } else if !isDirectory.boolValue {
            throw CLIError("\(url.path) (\(source)) is a file, not a \(name) folder")
        }
        do {
            switch dataset {
            case .cifar10:
                let layout = try Self.testRecordCounts().map { CIFAR10.Layout(trainRecordsPerFile: $0.train, testRecordsPerFile: $0.test) } ?? .official
                return ByteImages(try CIFAR10(directory: url, split: split == .train ? .train : .test, layout: layout), normalization: try normalization.expanded(to: 3))
            case .cifar100:
                let layout = try Self.testRecordCounts().map { CIFAR100.Layout(trainRecords: $0.train, testRecords: $0.test) } ?? .official
                return try CIFAR100.load(directory: url, split: split, labels: labels, normalization: normalization, layout: layout)
            case .mnist:
                return try MNIST.load(directory: url, split: split, classNames: MNIST.digitNames, normalization: normalization)
            case .fashionMNIST:
                return try MNIST.load(directory: url, split: split, classNames: MNIST.fashionNames, normalization: normalization)
            case .folder:
                let key = [url.standardizedFileURL.path, "\(imageSize ?? 0)", "\(testFraction ?? 0)", "\(splitSeed)", normalization.description].joined(separator: "|")
                if let cached = decodedFolders[key] { return split == .train ? cached.train : cached.test }
                let loaded = try ImageFolder(imageSize: imageSize, testFraction: testFraction, seed: splitSeed, normalization: normalization).load(url)
                decodedFolders = [key: loaded]
                return split == .train ? loaded.train : loaded.test
            }
        } catch let error as CIFAR10Error {
            switch error {
            case .missingFile, .badSize, .badRecordCount:
                throw CLIError("\(error.description); `cnnprune download --data \(url.path) --force` fetches a fresh copy")
            default:
                throw CLIError(error.description)
            }
        } catch let error as DatasetError {
            throw CLIError(error.description)
        }
    }

    /// The environment variable through which the command-line tests run the binary on tiny
    /// CIFAR-10 (and CIFAR-100) folders: `TRAIN,TEST`, the records each training and test file
    /// holds. Hidden (not in `--help`): without it, the official layout is required, so a file cut
    /// short on a record boundary is an error rather than a smaller data set.
    static let testRecordCountsVariable = "CNNPRUNE_TEST_RECORDS_PER_FILE"

    /// The record counts `$CNNPRUNE_TEST_RECORDS_PER_FILE` gives, or nil when it is unset.
    static func testRecordCounts() throws -> (train: Int, test: Int)? {
        guard let value = ProcessInfo.processInfo.environment[testRecordCountsVariable], !value.isEmpty else { return nil }
        let counts = value.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard counts.count == 2, let train = counts[0], let test = counts[1], train > 0, test > 0 else {
            throw CLIError("$\(testRecordCountsVariable) is '\(value)'; it must be TRAIN,TEST, two positive record counts (or unset for the official layout)")
        }
        return (train, test)
    }

    /// The SimpleCNN with the exercise's widths for this data's image shape and classes (e.g.
    /// 1×28×28 MNIST: fc1 takes 32·7·7 inputs).
    func simpleCNN(for data: ByteImages) throws -> SimpleCNN {
        let shape = data.sampleShape
        guard shape[1] == shape[2] else {
            throw CLIError("the SimpleCNN needs square images, but \(dataset.displayName) images are \(shape[2])×\(shape[1]); pass --image-size N")
        }
        let model = SimpleCNN(inputChannels: shape[0], imageSize: shape[1], conv1: 16, conv2: 32, fc1: 256, classes: data.classNames.count)
        do { _ = try model.architecture() } catch { throw CLIError("\(dataset.displayName) images of \(shape) do not fit the SimpleCNN: \(error)") }
        return model
    }

    /// Checks that `network` (read from `path`) takes this data's images and has one output
    /// per class: a clear one-line error instead of a shape precondition. When the model's
    /// `metadata` records another data set or normalisation, a note says so on stderr.
    func check(_ network: Network, fits data: ByteImages, model path: String, metadata: [String: String] = [:]) throws {
        let input = network.architecture.inputShape
        let outputs = network.architecture.outputShape.reduce(1, *)
        let shape = data.sampleShape
        func describe(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }
        guard input == shape else {
            throw CLIError("\(path) takes \(describe(input)) images, but the \(dataset.displayName) data has \(describe(shape)) images; pass the --dataset (and --image-size) it was trained with")
        }
        guard outputs == data.classNames.count else {
            throw CLIError("\(path) has \(outputs) outputs, but the \(dataset.displayName) data has \(data.classNames.count) classes; pass the --dataset (and --labels) it was trained with")
        }
        // Only a model that fits gets the note (a misfit is one line, the error).
        if let recorded = DatasetDescription(metadata: metadata) {
            let current = DatasetDescription(dataset: dataset, images: data, labels: dataset == .cifar100 ? labels.rawValue : nil)
            if recorded.dataset != current.dataset {
                printError("note: \(path) was trained on --dataset \(recorded.dataset); using it on \(current.dataset)")
            } else if recorded.normalization != current.normalization {
                printError("note: \(path) was trained with normalisation \(recorded.normalization), the data now uses \(current.normalization) (--normalize)")
            }
        }
    }

    /// The checkpoint metadata recording what `data` is (`cnnprune.dataset`).
    func metadata(for data: ByteImages) -> [String: String] {
        [DatasetDescription.metadataKey: DatasetDescription(dataset: dataset, images: data, labels: dataset == .cifar100 ? labels.rawValue : nil).json]
    }
}
