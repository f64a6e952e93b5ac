import CNNDatasets
import Foundation
import Testing

/// `IDXDownload` (MNIST, Fashion-MNIST) against the local test server and file:// folders, and
/// CIFAR-100 through `CIFAR10Download.cifar100` from a file:// archive.
@Suite struct DatasetDownloadTests {
    /// Four small gzipped IDX files and a download expecting their MD5s.
    static func idxFiles() throws -> [(name: String, data: Data)] {
        let train = DatasetFixtures.mnistFiles(count: 6), test = DatasetFixtures.mnistFiles(count: 2)
        return try [("train-images-idx3-ubyte.gz", train.images), ("train-labels-idx1-ubyte.gz", train.labels),
                    ("t10k-images-idx3-ubyte.gz", test.images), ("t10k-labels-idx1-ubyte.gz", test.labels)]
            .map { ($0.0, try GzipInflater.compress($0.1)) }
    }

    static func download(_ files: [(name: String, data: Data)], baseURL: URL) -> IDXDownload {
        IDXDownload(baseURL: baseURL, files: files.map { .init(name: $0.name, md5: MD5.digest($0.data).hex) }, timeout: 5)
    }

    @Test func officialFileListsAreTorchvisions() {
        #expect(IDXDownload.mnistFiles.map(\.md5) == ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                                                      "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"])
        #expect(IDXDownload.fashionMNISTFiles.map(\.name) == IDXDownload.mnistFiles.map(\.name))
        #expect(IDXDownload.mnist().baseURL.absoluteString == "https://ossci-datasets.s3.amazonaws.com/mnist/")
    }

    @Test func installsFromHTTPAndTheResultLoads() throws {
        let files = try Self.idxFiles()
        var routes: [String: DownloadTestServer.Reply] = [:]
        for file in files { routes["/mnist/\(file.name)"] = .body(file.data) }
        routes["/bad/train-images-idx3-ubyte.gz"] = .body(files[0].data)
        routes["/bad/train-labels-idx1-ubyte.gz"] = .body(files[2].data)  // the wrong file: MD5 mismatch
        let server = try DownloadTestServer(routes: routes)
        defer { server.stop() }
        let root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let destination = root.appendingPathComponent("mnist")

        let bad = Self.download(files, baseURL: server.url("/bad/"))
        let error = #expect(throws: DownloadError.self) { try bad.install(into: destination) }
        if case .checksumMismatch(let url, _, _, _, _)? = error { #expect(url.hasSuffix("/bad/train-labels-idx1-ubyte.gz")) } else { Issue.record("expected a checksum mismatch, got \(String(describing: error))") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty, "nothing left behind")

        let good = Self.download(files, baseURL: server.url("/mnist"))
        guard case .installed(let bytes, _) = try good.install(into: destination) else { Issue.record("not installed"); return }
        #expect(bytes == Int64(files.map(\.data.count).reduce(0, +)))
        #expect(try good.install(into: destination) == .alreadyPresent)
        let train = try MNIST.load(directory: destination, split: .train, classNames: MNIST.digitNames, normalization: Normalization(mean: 0.5, std: 0.5))
        #expect(train.count == 6 && train.pixels == DatasetFixtures.mnistFiles(count: 6).pixels)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["mnist"])
    }

    /// Each file is capped at its size (the official sizes by default): a larger one is refused
    /// and nothing is left.
    @Test func filesLargerThanTheirSizeAreRefused() throws {
        #expect(IDXDownload.mnistFiles.map(\.maximumBytes) == [9_912_422, 28_881, 1_648_877, 4_542])
        #expect(IDXDownload.fashionMNISTFiles.map(\.maximumBytes) == [26_421_880, 29_515, 4_422_102, 5_148])
        let files = try Self.idxFiles()
        let source = try DownloadFixtures.temporaryFolder(), root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: source); try? FileManager.default.removeItem(at: root) }
        for file in files { try file.data.write(to: source.appendingPathComponent(file.name)) }
        var download = Self.download(files, baseURL: URL(fileURLWithPath: source.path))
        download.files[2].maximumBytes = Int64(files[2].data.count - 1)
        let path = source.appendingPathComponent(files[2].name).path
        #expect(throws: DownloadError.tooLarge(url: path, limit: Int64(files[2].data.count - 1))) {
            try download.install(into: root.appendingPathComponent("mnist"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty, "nothing left behind")
    }

    @Test func installsFromAFileFolderURL() throws {
        let files = try Self.idxFiles()
        let source = try DownloadFixtures.temporaryFolder(), root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: source); try? FileManager.default.removeItem(at: root) }
        for file in files { try file.data.write(to: source.appendingPathComponent(file.name)) }
        let destination = root.appendingPathComponent("fashion")
        let download = Self.download(files, baseURL: URL(fileURLWithPath: source.path))
        _ = try download.install(into: destination)
        #expect(download.problem(with: destination) == nil)
        #expect(try MNIST.load(directory: destination, split: .test, classNames: MNIST.fashionNames, normalization: Normalization(mean: 0.5, std: 0.5)).count == 2)
        // A missing file is an error and leaves nothing.
        try FileManager.default.removeItem(at: source.appendingPathComponent(files[3].name))
        #expect(throws: DownloadError.self) { try download.install(into: root.appendingPathComponent("other")) }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("other").path))
    }

    @Test func cifar100InstallsFromAFileArchive() throws {
        let folder = try DatasetFixtures.cifar100Folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var entries = [DownloadFixtures.Entry(name: "cifar-100-binary/", type: UInt8(ascii: "5"))]
        for name in ["train.bin", "test.bin", "fine_label_names.txt", "coarse_label_names.txt"] {
            entries.append(.init(name: "cifar-100-binary/\(name)", content: try Data(contentsOf: folder.appendingPathComponent(name))))
        }
        let archive = try GzipInflater.compress(DownloadFixtures.tar(entries))
        let root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("cifar-100-binary.tar.gz")
        try archive.write(to: file)
        let destination = root.appendingPathComponent("data/cifar-100-binary")
        #expect(throws: DownloadError.self) { try CIFAR10Download.cifar100(url: file).install(into: destination) }  // the official MD5
        let download = CIFAR10Download.cifar100(url: file, expectedMD5: MD5.digest(archive).hex)
        _ = try download.install(into: destination)
        let test = try CIFAR100.load(directory: destination, split: .test, normalization: DatasetKind.cifar100.defaultNormalization, layout: DatasetFixtures.cifar100Layout)
        #expect(test.count == 2 && test.classNames.count == 100)
        #expect(CIFAR10Download.cifar100().url.absoluteString == "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz")
    }
}
