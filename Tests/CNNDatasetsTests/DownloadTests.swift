import CNNDatasets
import Foundation
import Testing

/// MD5, gunzip and the tar reader on their own, then `CIFAR10Download` end to end against a
/// local HTTP server serving archives the tests build.
@Suite struct DownloadTests {
    // MARK: MD5

    /// The test suite of RFC 1321, appendix A.5.
    @Test func md5MatchesRFC1321TestSuite() {
        let vectors: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (message, expected) in vectors {
            #expect(MD5.digest(Data(message.utf8)).hex == expected, "MD5(\"\(message)\")")
        }
    }

    /// Hashing in pieces of any size gives the one-shot digest, across the 55/56/64-byte padding edges.
    @Test func md5InPiecesEqualsOneShot() {
        let message = Data((0..<300).map { UInt8(($0 * 31 + 7) % 256) })
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 300] {
            let prefix = message.prefix(length)
            let whole = MD5.digest(prefix)
            for piece in [1, 3, 64, 100] {
                var md5 = MD5()
                var start = 0
                while start < length {
                    md5.update(prefix[start..<min(length, start + piece)])
                    start += piece
                }
                #expect(md5.finalize() == whole, "length \(length), pieces of \(piece)")
            }
        }
        // Python's hashlib.md5 of the same 300 bytes.
        #expect(MD5.digest(message).hex == DownloadTests.md5OfPattern300)
    }

    static let md5OfPattern300 = "919e4e6eef1223bc54e857dfde80c3ce"

    // MARK: gzip

    @Test func gunzipStreamsAnyChunkingAndConcatenatedMembers() throws {
        let original = Data((0..<100_000).map { UInt8(($0 / 7 + $0 % 13) % 256) })
        let compressed = try GzipInflater.compress(original)
        for piece in [1, 17, 4096, compressed.count] {
            let inflater = try GzipInflater()
            var out = Data()
            var start = 0
            while start < compressed.count {
                try inflater.push(compressed[start..<min(compressed.count, start + piece)]) { out.append(contentsOf: $0) }
                start += piece
            }
            try inflater.finish()
            #expect(out == original, "pieces of \(piece)")
        }
        let twice = try GzipInflater.compress(Data("first ".utf8)) + GzipInflater.compress(Data("second".utf8))
        #expect(try GzipInflater.decompress(twice) == Data("first second".utf8))
    }

    @Test func gunzipRejectsTruncatedAndCorruptData() throws {
        let compressed = try GzipInflater.compress(Data(repeating: 42, count: 10_000))
        #expect(throws: GzipError.self) { try GzipInflater.decompress(compressed.dropLast(5)) }
        do {
            _ = try GzipInflater.decompress(compressed.dropLast(5))
        } catch let error as GzipError {
            guard case .truncated = error else { Issue.record("expected truncated, got \(error)"); return }
        }
        var flipped = compressed
        flipped[flipped.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        #expect(throws: GzipError.self) { try GzipInflater.decompress(flipped) }
        #expect(throws: GzipError.self) { try GzipInflater.decompress(Data("not gzip at all".utf8)) }
        #expect(throws: GzipError.self) { try GzipInflater.decompress(Data()) }
    }

    // MARK: tar

    /// The entries `TarReader` reports for `archive`, with their contents.
    func entries(of archive: Data) throws -> [(TarEntry, Data)] {
        var reader = TarReader()
        var result: [(TarEntry, Data)] = []
        var content = Data()
        try archive.withUnsafeBytes { raw in
            try reader.push(raw) { event in
                switch event {
                case .begin: content = Data()
                case .data(let bytes): content.append(contentsOf: bytes)
                case .end(let entry): result.append((entry, content))
                }
            }
        }
        try reader.finish()
        return result
    }

    @Test func tarReaderReadsFilesAndNormalisesPaths() throws {
        let archive = DownloadFixtures.tar([
            .init(name: "./top/", type: UInt8(ascii: "5")),
            .init(name: "./top//a.bin", content: Data(repeating: 7, count: 700)),
            .init(name: "top/empty", content: Data()),
        ])
        let read = try entries(of: archive)
        #expect(read.map(\.0.path) == ["top", "top/a.bin", "top/empty"])
        #expect(read.map(\.0.kind) == [.directory, .file, .file])
        #expect(read[1].1 == Data(repeating: 7, count: 700))
        #expect(read[1].0.offset == 512)
    }

    @Test func tarReaderRefusesTraversalAbsolutePathsLinksAndBadHeaders() throws {
        let refused: [(DownloadFixtures.Entry, String)] = [
            (.init(name: "../escape", content: Data("x".utf8)), "unsafePath"),
            (.init(name: "ok/../../escape", content: Data("x".utf8)), "unsafePath"),
            (.init(name: "/etc/passwd", content: Data("x".utf8)), "unsafePath"),
            (.init(name: "link", type: UInt8(ascii: "2"), linkName: "/etc/passwd"), "unsupportedEntry"),
            (.init(name: "hard", type: UInt8(ascii: "1"), linkName: "other"), "unsupportedEntry"),
            (.init(name: "device", type: UInt8(ascii: "3")), "unsupportedEntry"),
            (.init(name: "corrupt", content: Data("x".utf8), checksum: 1), "badChecksum"),
        ]
        for (entry, expected) in refused {
            do {
                _ = try entries(of: DownloadFixtures.tar([entry]))
                Issue.record("'\(entry.name)' was accepted")
            } catch let error as TarError {
                // The case name, e.g. "unsafePath".
                #expect(Mirror(reflecting: error).children.first?.label == expected, "'\(entry.name)': \(error)")
            }
        }
        // No end-of-archive marker, or content cut short.
        let whole = DownloadFixtures.tar([.init(name: "a", content: Data(repeating: 1, count: 1000))])
        #expect(throws: TarError.truncated(offset: 1536)) { _ = try entries(of: whole.prefix(1536)) }
        #expect(throws: TarError.truncated(offset: 1000)) { _ = try entries(of: whole.prefix(1000)) }
        // The extraction limit.
        var reader = TarReader(limit: 999)
        #expect(throws: TarError.tooLarge(name: "a", size: 1000, limit: 999)) {
            try whole.withUnsafeBytes { raw in try reader.push(raw) { _ in } }
        }
    }

    // MARK: download

    /// A server with the good archive at `/good.tar.gz` and the other replies the tests need.
    func makeServer() throws -> (server: DownloadTestServer, archive: Data) {
        let archive = try DownloadFixtures.datasetArchive()
        let server = try DownloadTestServer(routes: [
            "/good.tar.gz": .body(archive),
            "/truncated.tar.gz": .truncated(archive.prefix(archive.count / 2), claimed: archive.count),
            "/incomplete.tar.gz": .body(try DownloadFixtures.datasetArchive(omitting: ["data_batch_3.bin"])),
            "/error.tar.gz": .status(500),
            "/stall.tar.gz": .stall(archive.prefix(500), claimed: archive.count),
            "/silent.tar.gz": .silent,
        ])
        return (server, archive)
    }

    /// The names in `folder`, sorted.
    func contents(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test func rightChecksumInstallsAReadableDataSet() throws {
        let (server, archive) = try makeServer()
        defer { server.stop() }
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let destination = folder.appendingPathComponent("data/cifar-10-batches-bin")
        let download = CIFAR10Download(url: server.url("/good.tar.gz"), expectedMD5: MD5.digest(archive).hex)
        var stages: [CIFAR10Download.Progress.Stage] = []
        let outcome = try download.install(into: destination) { stages.append($0.stage) }
        #expect(outcome == .installed(bytes: Int64(archive.count), md5: MD5.digest(archive).hex))
        #expect(stages.first == .downloading && stages.last == .extracting)
        let train = try CIFAR10(directory: destination, split: .train, layout: DownloadFixtures.layout)
        let test = try CIFAR10(directory: destination, split: .test, layout: DownloadFixtures.layout)
        #expect(train.count == 10 && test.count == 2)
        #expect(test.label(at: 0) == 5)
        #expect(contents(destination.deletingLastPathComponent()) == ["cifar-10-batches-bin"])  // no staging left

        // A second run finds it complete and fetches nothing.
        let requests = server.requestedPaths.count
        #expect(try download.install(into: destination) == .alreadyPresent)
        #expect(server.requestedPaths.count == requests)
    }

    @Test func wrongChecksumFailsAndLeavesNothing() throws {
        let (server, archive) = try makeServer()
        defer { server.stop() }
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let destination = folder.appendingPathComponent("cifar-10-batches-bin")
        let download = CIFAR10Download(url: server.url("/good.tar.gz"))  // the official checksum
        #expect(throws: DownloadError.checksumMismatch(url: server.url("/good.tar.gz").absoluteString, expected: CIFAR10Download.officialMD5,
                                                       actual: MD5.digest(archive).hex, bytes: Int64(archive.count), note: "")) {
            try download.install(into: destination)
        }
        #expect(contents(folder).isEmpty)
    }

    @Test func truncatedTransferFailsAndLeavesNothing() throws {
        let (server, archive) = try makeServer()
        defer { server.stop() }
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let download = CIFAR10Download(url: server.url("/truncated.tar.gz"), expectedMD5: MD5.digest(archive).hex)
        do {
            try download.install(into: folder.appendingPathComponent("cifar-10-batches-bin"))
            Issue.record("a truncated transfer was accepted")
        } catch let error as DownloadError {
            guard case .truncated(_, let received, let expected) = error else { Issue.record("got \(error)"); return }
            #expect(received < expected && expected == Int64(archive.count))
        }
        #expect(contents(folder).isEmpty)
    }

    @Test func httpErrorsFailAndLeaveNothing() throws {
        let (server, _) = try makeServer()
        defer { server.stop() }
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (path, status) in [("/missing.tar.gz", 404), ("/error.tar.gz", 500)] {
            #expect(throws: DownloadError.http(url: server.url(path).absoluteString, status: status)) {
                try CIFAR10Download(url: server.url(path)).install(into: folder.appendingPathComponent("cifar-10-batches-bin"))
            }
        }
        #expect(contents(folder).isEmpty)
    }

    @Test func archiveWithoutEveryFileIsRefused() throws {
        let (server, _) = try makeServer()
        defer { server.stop() }
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let incomplete = try DownloadFixtures.datasetArchive(omitting: ["data_batch_3.bin"])
        let download = CIFAR10Download(url: server.url("/incomplete.tar.gz"), expectedMD5: MD5.digest(incomplete).hex)
        #expect(throws: DownloadError.incomplete(url: server.url("/incomplete.tar.gz").absoluteString,
                                                 reason: "the archive's cifar-10-batches-bin lacks data_batch_3.bin")) {
            try download.install(into: folder.appendingPathComponent("cifar-10-batches-bin"))
        }
        #expect(contents(folder).isEmpty)
    }

    /// Nothing listens on the port: the failure is immediate and reported as offline.
    @Test func unreachableServerFailsQuicklyAsOffline() throws {
        let (server, _) = try makeServer()
        let url = server.url("/good.tar.gz")
        server.stop()
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let start = Date()
        do {
            try CIFAR10Download(url: url, timeout: 15).install(into: folder.appendingPathComponent("cifar-10-batches-bin"))
            Issue.record("download from a closed port succeeded")
        } catch let error as DownloadError {
            guard case .offline = error else { Issue.record("got \(error)"); return }
        }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(contents(folder).isEmpty)
    }

    /// A server that stops sending, or never answers, fails after the idle timeout (1 s here, 15 s by default).
    @Test func stalledOrSilentServerFailsAfterTheIdleTimeout() throws {
        let (server, _) = try makeServer()
        defer { server.stop() }
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for path in ["/stall.tar.gz", "/silent.tar.gz"] {
            let start = Date()
            do {
                try CIFAR10Download(url: server.url(path), timeout: 1).install(into: folder.appendingPathComponent("cifar-10-batches-bin"))
                Issue.record("\(path) succeeded")
            } catch let error as DownloadError {
                switch (path, error) {
                case ("/stall.tar.gz", .transfer(_, let reason)): #expect(reason == "stalled after 500 bytes")
                case ("/silent.tar.gz", .offline(_, let reason)): #expect(reason == "no answer from 127.0.0.1")
                default: Issue.record("\(path): got \(error)")
                }
            }
            #expect(Date().timeIntervalSince(start) < 5, "\(path)")
            #expect(contents(folder).isEmpty)
        }
    }

    /// A source larger than the expected archive is refused once it passes the cap — an endless
    /// one (`/dev/zero`) included — and leaves nothing beside the destination. The caps default
    /// to the official archives' sizes.
    @Test func sourcesLargerThanTheArchiveAreRefused() throws {
        #expect(CIFAR10Download().maximumArchiveBytes == 170_052_171)
        #expect(CIFAR10Download.cifar100().maximumArchiveBytes == 168_513_733)
        let source = try DownloadFixtures.temporaryFolder(), folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: source); try? FileManager.default.removeItem(at: folder) }
        let big = source.appendingPathComponent("big.tar.gz")
        try Data(repeating: 7, count: 10_000).write(to: big)
        let destination = folder.appendingPathComponent("cifar-10-batches-bin")
        for (url, limit) in [(big, Int64(4_096)), (URL(fileURLWithPath: "/dev/zero"), Int64(3 << 20))] {
            let download = CIFAR10Download(url: url, maximumArchiveBytes: limit)
            #expect(throws: DownloadError.tooLarge(url: url.path, limit: limit)) { try download.install(into: destination) }
            #expect(contents(folder).isEmpty, "\(url.path): nothing left")
        }
        #expect(DownloadError.tooLarge(url: "/dev/zero", limit: 170_052_171).description
            == "/dev/zero: more than 170,052,171 bytes, larger than the expected archive; nothing was kept")
        // Exactly the cap is accepted as far as size goes (then the checksum decides).
        let exact = CIFAR10Download(url: big, maximumArchiveBytes: 10_000)
        #expect(throws: DownloadError.checksumMismatch(url: big.path, expected: CIFAR10Download.officialMD5, actual: MD5.digest(Data(repeating: 7, count: 10_000)).hex,
                                                       bytes: 10_000, note: "")) { try exact.install(into: destination) }

        // Over HTTP, an announced length above the cap is refused before any byte is written.
        let archive = try DownloadFixtures.datasetArchive()
        let server = try DownloadTestServer(routes: ["/good.tar.gz": .body(archive)])
        defer { server.stop() }
        let url = server.url("/good.tar.gz")
        let small = CIFAR10Download(url: url, expectedMD5: MD5.digest(archive).hex, maximumArchiveBytes: Int64(archive.count - 1))
        #expect(throws: DownloadError.tooLarge(url: url.absoluteString, limit: Int64(archive.count - 1))) { try small.install(into: destination) }
        #expect(contents(folder).isEmpty)
        let fits = CIFAR10Download(url: url, expectedMD5: MD5.digest(archive).hex, maximumArchiveBytes: Int64(archive.count))
        #expect(try fits.install(into: destination) == .installed(bytes: Int64(archive.count), md5: MD5.digest(archive).hex))
    }

    @Test func fileURLInstallsAndReplacingSwapsAtomically() throws {
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let archive = try DownloadFixtures.datasetArchive()
        let archiveURL = folder.appendingPathComponent("cifar-10-binary.tar.gz")
        try archive.write(to: archiveURL)
        let destination = folder.appendingPathComponent("cifar-10-batches-bin")
        // An incomplete folder is refused unless replacing, and left as it was.
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: destination.appendingPathComponent("note.txt"))
        let download = CIFAR10Download(url: archiveURL, expectedMD5: MD5.digest(archive).hex)
        #expect(throws: DownloadError.self) { try download.install(into: destination) }
        #expect(contents(destination) == ["note.txt"])
        #expect(try download.install(into: destination, replacing: true) == .installed(bytes: Int64(archive.count), md5: MD5.digest(archive).hex))
        #expect(!contents(destination).contains("note.txt"))
        #expect(try CIFAR10(directory: destination, split: .test, layout: DownloadFixtures.layout).count == 2)
        #expect(contents(folder) == ["cifar-10-batches-bin", "cifar-10-binary.tar.gz"])
    }

    @Test func corruptArchiveWithMatchingChecksumIsRefused() throws {
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let hostile = try GzipInflater.compress(DownloadFixtures.tar([.init(name: "cifar-10-batches-bin/../../evil", content: Data("x".utf8))]))
        let archiveURL = folder.appendingPathComponent("hostile.tar.gz")
        try hostile.write(to: archiveURL)
        do {
            try CIFAR10Download(url: archiveURL, expectedMD5: MD5.digest(hostile).hex).install(into: folder.appendingPathComponent("out/cifar-10-batches-bin"))
            Issue.record("a traversal entry was accepted")
        } catch let error as DownloadError {
            guard case .badArchive = error else { Issue.record("got \(error)"); return }
        }
        #expect(contents(folder) == ["hostile.tar.gz", "out"])
        #expect(contents(folder.appendingPathComponent("out")).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.deletingLastPathComponent().appendingPathComponent("evil").path))
    }
}
