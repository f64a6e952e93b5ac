import CNNEngine
import Foundation

/// CIFAR-10 in its official binary layout, held as bytes (3,073 per record: a label, then the
/// 1,024 red, 1,024 green and 1,024 blue pixels, each plane row-major 32×32).
///
/// Images stay `UInt8` in memory (150 MB for the training set instead of 600 MB as floats) and
/// are normalised per batch into the network's input: `(x / 255 − 0.5) / 0.5`, computed exactly
/// as PyTorch computes it so the same weights give the same predictions.
public struct CIFAR10: LabeledImages {
    /// The two splits of the data set.
    public enum Split: String, Sendable, CaseIterable {
        /// The five training batches, 50,000 images.
        case train
        /// The test batch, 10,000 images.
        case test
        /// The files holding the split, in order.
        public var fileNames: [String] {
            switch self {
            case .train: return (1...5).map { "data_batch_\($0).bin" }
            case .test: return ["test_batch.bin"]
            }
        }
    }

    /// Bytes of one record: a label byte, then the image.
    public static let recordSize = 3073
    /// Bytes of one image: 1,024 red, then green, then blue pixels of a 32×32 image.
    public static let imageBytes = 3072
    /// One image's `[channels, height, width]`.
    public static let shape = [3, 32, 32]

    /// Pixel bytes, `count × 3072`, record after record.
    public let pixels: [UInt8]
    /// One label (0–9) per image.
    public let labels: [UInt8]
    public let classNames: [String]

    public var count: Int { labels.count }
    public var sampleShape: [Int] { CIFAR10.shape }

    /// Builds a set from raw bytes (for tests and generated data).
    public init(pixels: [UInt8], labels: [UInt8], classNames: [String]) {
        precondition(pixels.count == labels.count * CIFAR10.imageBytes)
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
    }

    /// Reads a split from `directory` (which holds the `.bin` files and `batches.meta.txt`),
    /// validating every file; errors name the file and what is wrong with it.
    /// - Parameters:
    ///   - directory: the folder of `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`
    ///     and `batches.meta.txt`.
    ///   - split: the training or the test images.
    ///   - layout: how many records each file must hold; the official 10,000 by default, so
    ///     that a file cut short on a record boundary is an error, not a smaller set.
    public init(directory: URL, split: Split, layout: Layout = .official) throws {
        let classNames = try CIFAR10.readClassNames(directory: directory)
        let expected = layout.recordsPerFile(split)
        var pixels: [UInt8] = []
        var labels: [UInt8] = []
        for name in split.fileNames {
            let url = directory.appendingPathComponent(name)
            let data = try CIFAR10.contents(of: url)
            if !data.isEmpty, data.count % CIFAR10.recordSize == 0, data.count / CIFAR10.recordSize != expected {
                throw CIFAR10Error.badRecordCount(url.path, found: data.count / CIFAR10.recordSize, expected: expected)
            }
            try CIFAR10.decode(data, file: url.path, classCount: classNames.count, pixels: &pixels, labels: &labels)
        }
        self.init(pixels: pixels, labels: labels, classNames: classNames)
    }

    /// How many records each file of a split holds. The official files hold 10,000 each; a
    /// smaller layout is for data sets built on purpose (tests, samples).
    public struct Layout: Sendable, Equatable {
        /// Records in each of the five training files (`data_batch_1.bin` … `data_batch_5.bin`).
        public var trainRecordsPerFile: Int
        /// Records in `test_batch.bin`.
        public var testRecordsPerFile: Int

        /// A layout of `trainRecordsPerFile` records in each training file and `testRecordsPerFile` in the test file.
        public init(trainRecordsPerFile: Int, testRecordsPerFile: Int) {
            self.trainRecordsPerFile = trainRecordsPerFile
            self.testRecordsPerFile = testRecordsPerFile
        }

        /// CIFAR-10 as published: 10,000 records in every file.
        public static let official = Layout(trainRecordsPerFile: 10_000, testRecordsPerFile: 10_000)

        /// The records each file of `split` must hold.
        public func recordsPerFile(_ split: Split) -> Int { split == .train ? trainRecordsPerFile : testRecordsPerFile }
    }

    /// Appends the records in `data` to `pixels` and `labels`, checking sizes and labels.
    public static func decode(_ data: Data, file: String, classCount: Int = 10, pixels: inout [UInt8], labels: inout [UInt8]) throws {
        guard !data.isEmpty else { throw CIFAR10Error.badSize(file, data.count) }
        guard data.count % recordSize == 0 else { throw CIFAR10Error.badSize(file, data.count) }
        let records = data.count / recordSize
        pixels.reserveCapacity(pixels.count + records * imageBytes)
        labels.reserveCapacity(labels.count + records)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            for r in 0..<records {
                let base = r * recordSize
                let label = bytes[base]
                guard Int(label) < classCount else { throw CIFAR10Error.badLabel(file, offset: base, value: Int(label)) }
                labels.append(label)
                pixels.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(base + 1)..<(base + recordSize)]))
            }
        }
    }

    /// The class names in `batches.meta.txt`, label 0 first; there must be ten.
    public static func readClassNames(directory: URL) throws -> [String] {
        let url = directory.appendingPathComponent("batches.meta.txt")
        guard let text = String(data: try contents(of: url), encoding: .utf8) else {
            throw CIFAR10Error.badMeta(url.path, "is not UTF-8 text (expected one class name per line)")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard names.count >= 10 else { throw CIFAR10Error.badMeta(url.path, "has \(names.count) class names, expected 10") }
        return Array(names.prefix(10))
    }

    /// The bytes of a file, with errors that say whether it is missing, a folder or unreadable.
    static func contents(of url: URL) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw CIFAR10Error.missingFile(url.path) }
        guard !isDirectory.boolValue else { throw CIFAR10Error.unreadable(url.path, reason: "it is a folder") }
        do {
            return try Data(contentsOf: url)
        } catch {
            let underlying = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? Error).map { $0 as NSError }
            let reason = underlying?.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(underlying!.code))) : error.localizedDescription
            throw CIFAR10Error.unreadable(url.path, reason: reason)
        }
    }

    public func label(at index: Int) -> Int { Int(labels[index]) }

    public func fillInputs(indices: UnsafeBufferPointer<Int32>, into inputs: UnsafeMutablePointer<Float>) {
        pixels.withUnsafeBufferPointer { all in
            for (slot, index) in indices.enumerated() {
                let src = all.baseAddress! + Int(index) * CIFAR10.imageBytes
                let dst = inputs + slot * CIFAR10.imageBytes
                for i in 0..<CIFAR10.imageBytes { dst[i] = normalisedValue[Int(src[i])] }
            }
        }
    }
}

/// PyTorch's `(x.float() / 255 − 0.5) / 0.5` for every byte value, in Float32 as it computes it.
let normalisedValue: [Float] = (0..<256).map { (Float($0) / 255 - 0.5) / 0.5 }

/// What is wrong with a CIFAR-10 directory, naming the file.
public enum CIFAR10Error: Error, CustomStringConvertible, Equatable {
    /// The file does not exist.
    case missingFile(String)
    /// The file exists but cannot be read.
    case unreadable(String, reason: String)
    /// The file's size is not a whole number of records.
    case badSize(String, Int)
    /// A record's label is not a class index 0–9.
    case badLabel(String, offset: Int, value: Int)
    /// `batches.meta.txt` is not a list of the ten class names; the second value says what is wrong.
    case badMeta(String, String)
    /// The file holds whole records, but not as many as the layout's files hold (cut short on a
    /// record boundary, or another data set's file).
    case badRecordCount(String, found: Int, expected: Int)

    public var description: String { description(naming: \.description) }

    /// The message with the setting it names (the data set to read instead, for a CIFAR-100
    /// file) said by `name` (e.g. as a command-line flag).
    /// - Parameters:
    ///   - name: the words for a setting, in place of its ``DatasetSetting/description``.
    public func description(naming name: (DatasetSetting) -> String) -> String {
        switch self {
        case .missingFile(let path): return "\(path): no such file"
        case .unreadable(let path, let reason): return "\(path): cannot be read (\(reason))"
        case .badSize(let path, let size):
            let hint = size > 0 && size % 3074 == 0 ? "; it is a whole number of CIFAR-100's 3,074-byte records: CIFAR-100 data? use \(name(.dataset(.cifar100)))" : ""
            return "\(path): \(size) bytes is not a whole number of 3,073-byte CIFAR-10 records (truncated or not CIFAR-10 binary)\(hint)"
        case .badLabel(let path, let offset, let value): return "\(path): label \(value) at byte \(offset) is not a class index 0–9"
        case .badMeta(let path, let why): return "\(path): \(why)"
        case .badRecordCount(let path, let found, let expected):
            let layout = expected == CIFAR10.Layout.official.testRecordsPerFile ? "the CIFAR-10 layout has" : "the layout asked for has"
            return "\(path): holds \(grouped(found)) records; \(layout) \(grouped(expected)) per file (\(found < expected ? "truncated?" : "not a CIFAR-10 batch file?"))"
        }
    }
}

