import CNNEngine
import Foundation

/// Which data to read and how: the data set, its folder, CIFAR-100's labels, an image folder's
/// size and split, and the input normalisation — what a program needs to load either split of
/// any data set cnnprune reads, with one call.
///
/// ```swift
/// let source = DatasetSource(.cifar100, directory: "data/cifar-100-binary", labels: .coarse)
/// let test = try source.load(.test)
/// ```
public struct DatasetSource: Sendable, Equatable {
    /// The data set.
    public var kind: DatasetKind
    /// The data set's folder; nil (or empty): its environment variable, else its default path
    /// (``DataDirectory/locate(_:dataset:)``).
    public var directory: String?
    /// CIFAR-100's classes: the 100 fine ones or the 20 superclasses.
    public var labels: CIFAR100.Labels
    /// Image folders: resize every image to this many pixels square; nil: all must be one size.
    public var imageSize: Int?
    /// Image folders without `train/` and `test/`: the fraction of each class held out for testing.
    public var testFraction: Double?
    /// Image folders: the seed of the ``testFraction`` split.
    public var splitSeed: UInt64
    /// The input normalisation; nil: the data set's ``DatasetKind/defaultNormalization``.
    public var normalization: Normalization?
    /// CIFAR-10 and CIFAR-100: the records each training and test file holds; nil: the official
    /// layout (a file cut short on a record boundary is then an error, not a smaller set).
    public var recordsPerFile: RecordCounts?

    /// The records of a smaller CIFAR layout: in each training file and in the test file.
    public struct RecordCounts: Sendable, Equatable {
        /// Records in each training file.
        public var train: Int
        /// Records in the test file.
        public var test: Int

        /// Counts of `train` records per training file and `test` in the test file.
        /// - Parameters:
        ///   - train: records in each training file.
        ///   - test: records in the test file.
        public init(train: Int, test: Int) {
            self.train = train
            self.test = test
        }
    }

    /// The data set `kind` read with these settings (see the properties).
    /// - Parameters:
    ///   - kind: the data set.
    ///   - directory: its folder; nil: the environment variable, else the default path.
    ///   - labels: CIFAR-100's label kind.
    ///   - imageSize: image folders: the size to resize to.
    ///   - testFraction: image folders without a split: the fraction held out for testing.
    ///   - splitSeed: image folders: the seed of that split.
    ///   - normalization: the input normalisation; nil: the data set's default.
    ///   - recordsPerFile: CIFAR: a smaller layout; nil: the official one.
    public init(_ kind: DatasetKind, directory: String? = nil, labels: CIFAR100.Labels = .fine, imageSize: Int? = nil,
                testFraction: Double? = nil, splitSeed: UInt64 = 0, normalization: Normalization? = nil,
                recordsPerFile: RecordCounts? = nil) {
        self.kind = kind
        self.directory = directory
        self.labels = labels
        self.imageSize = imageSize
        self.testFraction = testFraction
        self.splitSeed = splitSeed
        self.normalization = normalization
        self.recordsPerFile = recordsPerFile
    }

    /// The folder read, and where it came from.
    public var location: (url: URL, origin: DataDirectory.Origin) { DataDirectory.locate(directory, dataset: kind) }

    /// The normalisation applied: ``normalization``, else the data set's default.
    public var effectiveNormalization: Normalization { normalization ?? kind.defaultNormalization }

    /// CIFAR-100's label kind as recorded in ``DatasetDescription/labels``; nil for the others.
    public var labelsName: String? { kind == .cifar100 ? labels.rawValue : nil }

    /// What is at the ``location``.
    public enum FolderState: Sendable, Equatable {
        /// A folder, to read.
        case folder
        /// Nothing.
        case missing
        /// Something that is not a folder.
        case notAFolder
    }

    /// What is at the ``location`` now.
    public var folderState: FolderState {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.url.path, isDirectory: &isDirectory) else { return .missing }
        return isDirectory.boolValue ? .folder : .notAFolder
    }

    /// Reads `split`. An image folder is decoded once for both splits (the last one read is kept
    /// in memory for the process).
    /// - Parameters:
    ///   - split: the training or the test images.
    /// - Throws: ``CIFAR10Error`` for a CIFAR-10 file, ``DatasetError`` for any other, naming
    ///   the file and the problem.
    public func load(_ split: DatasetSplit) throws -> ByteImages {
        let url = location.url
        let normalization = effectiveNormalization
        switch kind {
        case .cifar10:
            let layout = recordsPerFile.map { CIFAR10.Layout(trainRecordsPerFile: $0.train, testRecordsPerFile: $0.test) } ?? .official
            return ByteImages(try CIFAR10(directory: url, split: split == .train ? .train : .test, layout: layout), normalization: try normalization.expanded(to: 3))
        case .cifar100:
            let layout = recordsPerFile.map { CIFAR100.Layout(trainRecords: $0.train, testRecords: $0.test) } ?? .official
            return try CIFAR100.load(directory: url, split: split, labels: labels, normalization: normalization, layout: layout)
        case .mnist:
            return try MNIST.load(directory: url, split: split, classNames: MNIST.digitNames, normalization: normalization)
        case .fashionMNIST:
            return try MNIST.load(directory: url, split: split, classNames: MNIST.fashionNames, normalization: normalization)
        case .folder:
            let key = [url.standardizedFileURL.path, "\(imageSize ?? 0)", "\(testFraction ?? 0)", "\(splitSeed)", normalization.description].joined(separator: "|")
            let loaded = try DatasetSource.decodedFolders.value(for: key) {
                try ImageFolder(imageSize: imageSize, testFraction: testFraction, seed: splitSeed, normalization: normalization).load(url)
            }
            return split == .train ? loaded.train : loaded.test
        }
    }

    /// What `data`, read from this source, is: the description a checkpoint records.
    /// - Parameters:
    ///   - data: a split read from this source.
    public func description(of data: ByteImages) -> DatasetDescription {
        DatasetDescription(dataset: kind, images: data, labels: labelsName)
    }

    /// The checkpoint metadata recording what `data` is (``DatasetDescription/metadataKey``).
    /// - Parameters:
    ///   - data: a split read from this source.
    public func metadata(for data: ByteImages) -> [String: String] {
        [DatasetDescription.metadataKey: description(of: data).json]
    }

    /// The environment variable through which tests run programs on tiny CIFAR folders:
    /// `TRAIN,TEST`, the records each training and test file holds.
    public static let recordCountsVariable = "CNNPRUNE_TEST_RECORDS_PER_FILE"

    /// The record counts `$CNNPRUNE_TEST_RECORDS_PER_FILE` gives in `environment`, or nil when unset.
    /// - Parameters:
    ///   - environment: the process environment.
    /// - Throws: ``DatasetSourceError/badRecordCounts(_:)`` when the value is not two positive counts.
    public static func recordCounts(in environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RecordCounts? {
        guard let value = environment[recordCountsVariable], !value.isEmpty else { return nil }
        let counts = value.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard counts.count == 2, let train = counts[0], let test = counts[1], train > 0, test > 0 else {
            throw DatasetSourceError.badRecordCounts(value)
        }
        return RecordCounts(train: train, test: test)
    }

    /// The image folders decoded in this process, by their settings: only the last is kept.
    private static let decodedFolders = DecodedFolders()
}

/// The last image folder decoded (both splits), shared by the threads that read it.
private final class DecodedFolders: @unchecked Sendable {
    private let lock = NSLock()
    private var key = ""
    private var value: (train: ByteImages, test: ByteImages)?

    func value(for key: String, decode: () throws -> (train: ByteImages, test: ByteImages)) throws -> (train: ByteImages, test: ByteImages) {
        lock.lock()
        defer { lock.unlock() }
        if let value, self.key == key { return value }
        let decoded = try decode()
        (self.key, value) = (key, decoded)
        return decoded
    }
}

/// What is wrong with the settings of a ``DatasetSource``.
public enum DatasetSourceError: Error, Equatable, CustomStringConvertible {
    /// `$CNNPRUNE_TEST_RECORDS_PER_FILE` holds this value, which is not two positive counts.
    case badRecordCounts(String)

    public var description: String {
        switch self {
        case .badRecordCounts(let value):
            return "$\(DatasetSource.recordCountsVariable) is '\(value)'; it must be TRAIN,TEST, two positive record counts (or unset for the official layout)"
        }
    }
}
