import CNNDatasets
import Foundation

/// Archives for the download tests, built in memory: a ustar writer and a tiny but valid
/// `cifar-10-batches-bin` (two records per batch file).
enum DownloadFixtures {
    static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    /// One tar entry: a header block, then content padded to 512 bytes.
    struct Entry {
        var name: String
        var type: UInt8 = UInt8(ascii: "0")
        var content = Data()
        var linkName = ""
        /// Overrides the header checksum (to write a corrupt one).
        var checksum: Int?
    }

    /// A ustar archive of `entries`, ended by two zero blocks.
    static func tar(_ entries: [Entry]) -> Data {
        var archive = Data()
        for entry in entries {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int, width: Int) {
                let bytes = Array(text.utf8.prefix(width))
                header.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            }
            func octal(_ value: Int, at offset: Int, width: Int) {
                put(String(repeating: "0", count: max(0, width - 1 - String(value, radix: 8).count)) + String(value, radix: 8), at: offset, width: width - 1)
            }
            put(entry.name, at: 0, width: 100)
            octal(entry.type == UInt8(ascii: "5") ? 0o755 : 0o644, at: 100, width: 8)
            octal(0, at: 108, width: 8)
            octal(0, at: 116, width: 8)
            octal(entry.content.count, at: 124, width: 12)
            octal(1_262_304_000, at: 136, width: 12)
            header[156] = entry.type
            put(entry.linkName, at: 157, width: 100)
            put("ustar\0" + "00", at: 257, width: 8)
            for i in 148..<156 { header[i] = 0x20 }
            let sum = entry.checksum ?? header.reduce(0) { $0 + Int($1) }
            octal(sum, at: 148, width: 7)
            header[155] = 0x20
            archive.append(contentsOf: header)
            archive.append(entry.content)
            archive.append(Data(count: (512 - entry.content.count % 512) % 512))
        }
        archive.append(Data(count: 1024))
        return archive
    }

    /// The record counts of the tiny data set's files (two per file), for `CIFAR10(directory:split:layout:)`.
    static let layout = CIFAR10.Layout(trainRecordsPerFile: 2, testRecordsPerFile: 2)

    /// `count` records with labels `first, first+1, …` (mod 10) and patterned pixels.
    static func records(_ count: Int, firstLabel: Int) -> Data {
        var data = Data()
        for i in 0..<count {
            data.append(UInt8((firstLabel + i) % 10))
            data.append(contentsOf: (0..<CIFAR10.imageBytes).map { UInt8((i * 7 + $0) % 256) })
        }
        return data
    }

    /// The entries of a complete tiny data set under `cifar-10-batches-bin/`, minus `omitting`.
    static func datasetEntries(omitting: Set<String> = []) -> [Entry] {
        var entries = [Entry(name: "cifar-10-batches-bin/", type: UInt8(ascii: "5"))]
        for (index, name) in (CIFAR10.Split.train.fileNames + CIFAR10.Split.test.fileNames).enumerated() where !omitting.contains(name) {
            entries.append(Entry(name: "cifar-10-batches-bin/\(name)", content: records(2, firstLabel: index)))
        }
        if !omitting.contains("batches.meta.txt") {
            entries.append(Entry(name: "cifar-10-batches-bin/batches.meta.txt", content: Data((classNames.joined(separator: "\n") + "\n\n").utf8)))
        }
        entries.append(Entry(name: "cifar-10-batches-bin/readme.html", content: Data("<html></html>".utf8)))
        return entries
    }

    /// The tiny data set as a `.tar.gz`.
    static func datasetArchive(omitting: Set<String> = []) throws -> Data {
        try GzipInflater.compress(tar(datasetEntries(omitting: omitting)))
    }

    /// A new empty temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-download-test-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
