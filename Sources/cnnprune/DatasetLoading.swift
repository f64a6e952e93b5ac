import ArgumentParser
import CNNDatasets
import CNNEngine
import Foundation

extension DatasetKind: ExpressibleByArgument {}
extension CIFAR100.Labels: ExpressibleByArgument {}

/// The flag that sets a data set reader's setting, for messages.
func flagName(_ setting: DatasetSetting) -> String {
    switch setting {
    case .dataset(let kind): return "--dataset \(kind.rawValue)"
    case .normalization(let text): return "--normalize" + (text.map { " '\($0)'" } ?? "")
    case .testFraction(let fraction): return fraction.map { "--test-fraction \($0)" } ?? "--test-fraction F"
    case .imageSize: return "--image-size N"
    }
}

extension DatasetError: FlagNamingError {
    /// The message naming the flags instead of the reader's settings.
    var commandLineDescription: String { description(naming: flagName) }
}

extension DataOptions {
    /// The directory to read, and a phrase saying where it came from (for error messages).
    var resolvedDirectory: (url: URL, source: String) { Self.resolve(directory, dataset: dataset) }

    /// `--data`, else the data set's environment variable, else its default path.
    static func resolve(_ directory: String?, dataset: DatasetKind) -> (url: URL, source: String) {
        let (url, origin) = DataDirectory.locate(directory, dataset: dataset)
        return (url, origin == .given ? "--data" : origin.description)
    }

    /// Loads `split` (CNNDatasets' `DatasetSource`). A missing data directory is downloaded when
    /// `--download` was given or `downloadIfMissing` (as `experiment` does), and is otherwise an
    /// error saying where the data was looked for and how to get it. Bad files are one-line errors.
    func load(_ split: DatasetSplit, downloadIfMissing: Bool = false) throws -> ByteImages {
        var source = self.source
        let (url, origin) = resolvedDirectory
        switch source.folderState {
        case .missing:
            guard dataset.isDownloadable else { throw CLIError("\(url.path) (\(origin)): no such folder") }
            guard download || downloadIfMissing else {
                throw CLIError("no \(dataset.displayName) data at \(url.path) (\(origin)); run `cnnprune download --dataset \(dataset.rawValue) --data \(url.path)` or add --download to fetch it, or point --data at it")
            }
            try installDataset(dataset, into: url)
        case .notAFolder: throw CLIError("\(url.path) (\(origin)) is a file, not a \(dataset.displayName) folder")
        case .folder: break
        }
        do {
            if dataset == .cifar10 || dataset == .cifar100 { source.recordsPerFile = try DatasetSource.recordCounts() }
            return try source.load(split)
        } catch let error as CIFAR10Error {
            switch error {
            case .missingFile, .badSize, .badRecordCount:
                throw CLIError("\(error.description(naming: flagName)); `cnnprune download --data \(url.path) --force` fetches a fresh copy")
            default: throw CLIError(error.description)
            }
        }
    }

    /// The SimpleCNN with the exercise's widths for this data's image shape and classes.
    func simpleCNN(for data: ByteImages) throws -> SimpleCNN {
        try source.simpleCNN(for: data)
    }

    /// Checks that `network` (read from `path`) takes this data's images and has one output per
    /// class; when the model's `metadata` records another data set or normalisation, a note
    /// says so on stderr.
    func check(_ network: Network, fits data: ByteImages, model path: String, metadata: [String: String] = [:]) throws {
        try source.check(network, fits: data, name: path)
        switch source.difference(fromRecordedIn: metadata, data: data) {
        case .dataset(let recorded, let current)?: printError("note: \(path) was trained on --dataset \(recorded); using it on \(current)")
        case .normalization(let recorded, let current)?:
            printError("note: \(path) was trained with normalisation \(recorded), the data now uses \(current) (--normalize)")
        case nil: break
        }
    }

    /// The checkpoint metadata recording what `data` is (`cnnprune.dataset`).
    func metadata(for data: ByteImages) -> [String: String] { source.metadata(for: data) }
}

extension NetworkDataFitError: FlagNamingError {
    /// The message naming the flags that help.
    var commandLineDescription: String {
        switch self {
        case .notSquare(let dataset, let width, let height):
            return "the SimpleCNN needs square images, but \(dataset.displayName) images are \(width)×\(height); pass --image-size N"
        case .tooSmallForSimpleCNN: return description
        case .inputShape(let model, let takes, let dataset, let has):
            return "\(model) takes \(Self.describe(takes)) images, but the \(dataset.displayName) data has \(Self.describe(has)) images; pass the --dataset (and --image-size) it was trained with"
        case .classes(let model, let outputs, let dataset, let classes):
            return "\(model) has \(outputs) outputs, but the \(dataset.displayName) data has \(classes) classes; pass the --dataset (and --labels) it was trained with"
        }
    }
}
