import CNNEngine
import Foundation

/// CIFAR-100 in its official binary layout (`cifar-100-binary`: `train.bin`, `test.bin`,
/// `fine_label_names.txt`, `coarse_label_names.txt`): 3,074-byte records of a coarse label
/// (0–19), a fine label (0–99), then the 1,024 red, green and blue pixels of a 32×32 image.
public enum CIFAR100 {
    /// Which of the two labels every image carries is the class.
    public enum Labels: String, Sendable, CaseIterable {
        /// The 100 classes (default).
        case fine
        /// The 20 superclasses.
        case coarse

        /// The file holding the class names, one a line.
        public var namesFile: String { "\(rawValue)_label_names.txt" }
        /// How many classes there are.
        public var classCount: Int { self == .fine ? 100 : 20 }
        /// The label's byte within a record.
        var offset: Int { self == .fine ? 1 : 0 }
    }

    /// Bytes of one record: the coarse label, the fine label, then the image.
    public static let recordSize = 3074
    /// Bytes of one image: 1,024 red, then green, then blue pixels of a 32×32 image.
    public static let imageBytes = 3072
    /// One image's `[channels, height, width]`.
    public static let shape = [3, 32, 32]

    /// The file holding `split`.
    public static func fileName(_ split: DatasetSplit) -> String { split == .train ? "train.bin" : "test.bin" }

    /// How many records each split's file holds. The official `train.bin` holds 50,000 and
    /// `test.bin` 10,000; a smaller layout is for data sets built on purpose (tests, samples).
    public struct Layout: Sendable, Equatable {
        /// Records in `train.bin`.
        public var trainRecords: Int
        /// Records in `test.bin`.
        public var testRecords: Int

        /// A layout of `trainRecords` records in `train.bin` and `testRecords` in `test.bin`.
        public init(trainRecords: Int, testRecords: Int) {
            self.trainRecords = trainRecords
            self.testRecords = testRecords
        }

        /// CIFAR-100 as published: 50,000 training and 10,000 test records.
        public static let official = Layout(trainRecords: 50_000, testRecords: 10_000)

        /// The records the file of `split` must hold.
        public func records(_ split: DatasetSplit) -> Int { split == .train ? trainRecords : testRecords }
    }

    /// Reads `split` from `directory`, with `labels` as the class.
    /// - Parameters:
    ///   - directory: the folder of `train.bin`, `test.bin` and the label names.
    ///   - split: the training or the test images.
    ///   - labels: fine (100 classes) or coarse (20 superclasses).
    ///   - normalization: the normalisation the images are read with.
    ///   - layout: how many records the file must hold; the official counts by default, so
    ///     that a file cut short on a record boundary is an error, not a smaller set.
    public static func load(directory: URL, split: DatasetSplit, labels: Labels = .fine, normalization: Normalization,
                            layout: Layout = .official) throws -> ByteImages {
        let classNames = try readClassNames(directory: directory, labels: labels)
        let url = directory.appendingPathComponent(fileName(split))
        var pixels: [UInt8] = []
        var out: [UInt16] = []
        let data = try DatasetFile.read(url)
        let expected = layout.records(split)
        if !data.isEmpty, data.count % recordSize == 0, data.count / recordSize != expected {
            let found = data.count / recordSize
            let source = layout == .official ? "the CIFAR-100 layout has" : "the layout asked for has"
            throw DatasetError(url.path, "holds \(grouped(found)) records; \(source) \(grouped(expected)) in \(fileName(split)) (\(found < expected ? "truncated?" : "not CIFAR-100's \(fileName(split))?"))")
        }
        try decode(data, file: url.path, labels: labels, pixels: &pixels, labels: &out)
        return ByteImages(pixels: pixels, labels: out, shape: shape, classNames: classNames, normalization: try normalization.expanded(to: 3))
    }

    /// Appends the records of `data` to `pixels` and `labels`, checking the size and both labels.
    public static func decode(_ data: Data, file: String, labels kind: Labels, pixels: inout [UInt8], labels: inout [UInt16]) throws {
        guard !data.isEmpty, data.count % recordSize == 0 else {
            let problem = "\(data.count) bytes is not a whole number of 3,074-byte CIFAR-100 records (truncated or not CIFAR-100 binary)"
            guard !data.isEmpty && data.count % CIFAR10.recordSize == 0 else { throw DatasetError(file, problem) }
            throw DatasetError(path: [.text(file)], problem: [.text(problem + "; it is a whole number of CIFAR-10's 3,073-byte records: CIFAR-10 data? use "),
                                                              .setting(.dataset(.cifar10))])
        }
        let records = data.count / recordSize
        pixels.reserveCapacity(pixels.count + records * imageBytes)
        labels.reserveCapacity(labels.count + records)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            for r in 0..<records {
                let base = r * recordSize
                guard bytes[base] < 20 else { throw DatasetError(file, "coarse label \(bytes[base]) of record \(r) (byte \(base)) is not a class index 0–19") }
                guard bytes[base + 1] < 100 else { throw DatasetError(file, "fine label \(bytes[base + 1]) of record \(r) (byte \(base + 1)) is not a class index 0–99") }
                labels.append(UInt16(bytes[base + kind.offset]))
                pixels.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(base + 2)..<(base + recordSize)]))
            }
        }
    }

    /// The class names for `labels`, label 0 first: the file must hold 100 (fine) or 20 (coarse).
    public static func readClassNames(directory: URL, labels: Labels) throws -> [String] {
        let url = directory.appendingPathComponent(labels.namesFile)
        guard let text = String(data: try DatasetFile.read(url), encoding: .utf8) else {
            throw DatasetError(url.path, "is not UTF-8 text (expected one class name per line)")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard names.count == labels.classCount else {
            throw DatasetError(url.path, "has \(names.count) class names, expected \(labels.classCount)")
        }
        return names
    }

    /// What keeps `directory` from being a complete `cifar-100-binary` folder, or nil.
    public static func problem(with directory: URL) -> String? {
        for name in ["train.bin", "test.bin", "fine_label_names.txt", "coarse_label_names.txt"] {
            let path = directory.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path) else { return "lacks \(name)" }
            if name.hasSuffix(".bin") {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
                if size == 0 || size % recordSize != 0 { return "holds \(name) of \(size) bytes, not whole 3,074-byte records" }
            }
        }
        for labels in Labels.allCases {
            do { _ = try readClassNames(directory: directory, labels: labels) } catch { return "has an unusable \(labels.namesFile) (\(error))" }
        }
        return nil
    }
}
