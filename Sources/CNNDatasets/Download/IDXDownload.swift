import Foundation

/// Downloads the four gzipped IDX files of MNIST or Fashion-MNIST, checks each file's MD5, and
/// installs them in a folder atomically: the files go to a hidden staging folder beside the
/// destination, which is renamed into place only when all four are verified.
///
/// ```swift
/// try IDXDownload.mnist().install(into: URL(fileURLWithPath: "data/mnist"))
/// ```
public struct IDXDownload: Sendable {
    /// One file of the set: its name, its expected MD5 (lower-case hex) and its size.
    public struct File: Sendable, Equatable {
        /// The file name, relative to `baseURL`.
        public var name: String
        /// The expected MD5, lower-case hex.
        public var md5: String
        /// The most bytes fetched for it (its size): a larger source is refused as soon as it
        /// says so or sends more, before it fills the disk.
        public var maximumBytes: Int64
        /// The cap on a file whose size is not given: larger than any file of an IDX data set.
        public static let defaultMaximumBytes: Int64 = 256 << 20
        /// A file called `name` whose MD5 must be `md5`, of at most `maximumBytes` bytes.
        public init(name: String, md5: String, maximumBytes: Int64 = File.defaultMaximumBytes) {
            self.name = name
            self.md5 = md5.lowercased()
            self.maximumBytes = maximumBytes
        }
    }

    /// The folder the files are fetched from (`https://`, `http://` or `file://`), ending in `/`.
    public var baseURL: URL
    /// The files to fetch, each checked against its MD5.
    public var files: [File]
    /// Seconds without data before a download fails.
    public var timeout: TimeInterval

    /// A download of `files` from the folder `baseURL` (a missing trailing `/` is added), failing after `timeout` seconds without data.
    public init(baseURL: URL, files: [File], timeout: TimeInterval = 15) {
        let text = baseURL.absoluteString
        self.baseURL = text.hasSuffix("/") ? baseURL : URL(string: text + "/")!
        self.files = files
        self.timeout = timeout
    }

    /// The MNIST mirror torchvision uses (the original site, yann.lecun.com, no longer serves the files).
    public static let mnistURL = URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!
    /// Fashion-MNIST's official location.
    public static let fashionMNISTURL = URL(string: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")!

    /// torchvision's MD5s of the MNIST files, and their sizes.
    public static let mnistFiles = [
        File(name: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", maximumBytes: 9_912_422),
        File(name: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432", maximumBytes: 28_881),
        File(name: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3", maximumBytes: 1_648_877),
        File(name: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c", maximumBytes: 4_542),
    ]
    /// torchvision's MD5s of the Fashion-MNIST files, and their sizes.
    public static let fashionMNISTFiles = [
        File(name: "train-images-idx3-ubyte.gz", md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", maximumBytes: 26_421_880),
        File(name: "train-labels-idx1-ubyte.gz", md5: "25c81989df183df01b3e8a0aad5dffbe", maximumBytes: 29_515),
        File(name: "t10k-images-idx3-ubyte.gz", md5: "bef4ecab320f06d8554ea6380940ec79", maximumBytes: 4_422_102),
        File(name: "t10k-labels-idx1-ubyte.gz", md5: "bb300cfdad3c16e7a12a480ee83cd310", maximumBytes: 5_148),
    ]

    /// The four MNIST files, from `baseURL` (torchvision's mirror by default).
    public static func mnist(baseURL: URL = mnistURL, timeout: TimeInterval = 15) -> IDXDownload {
        IDXDownload(baseURL: baseURL, files: mnistFiles, timeout: timeout)
    }

    /// The four Fashion-MNIST files, from `baseURL` (the official location by default).
    public static func fashionMNIST(baseURL: URL = fashionMNISTURL, timeout: TimeInterval = 15) -> IDXDownload {
        IDXDownload(baseURL: baseURL, files: fashionMNISTFiles, timeout: timeout)
    }

    /// What keeps `directory` from holding the four files (gzipped or not), or nil.
    public func problem(with directory: URL) -> String? {
        guard CIFAR10Download.isDirectory(directory) else { return "is missing" }
        let missing = files.map(\.name).filter { name in
            let plain = String(name.dropLast(name.hasSuffix(".gz") ? 3 : 0))
            return ![name, plain].contains { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
        }
        return missing.isEmpty ? nil : "lacks \(missing.joined(separator: ", "))"
    }

    /// Makes `directory` hold the files; as `CIFAR10Download.install`: an existing complete
    /// folder is kept unless `replacing`, and on failure nothing is left behind.
    @discardableResult
    public func install(into directory: URL, replacing: Bool = false, progress: (CIFAR10Download.Progress) -> Void = { _ in }) throws -> CIFAR10Download.Outcome {
        let directory = directory.standardizedFileURL
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory)
        if exists && !replacing {
            guard isDirectory.boolValue else { throw DownloadError.destinationExists(path: directory.path, reason: "is not a folder") }
            if let problem = problem(with: directory) { throw DownloadError.destinationExists(path: directory.path, reason: problem) }
            return .alreadyPresent
        }
        let parent = directory.deletingLastPathComponent()
        do { try fileManager.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw DownloadError.filesystem(path: parent.path, reason: "cannot create the folder (\(CIFAR10Download.reason(error)))")
        }
        CIFAR10Download.removeAbandonedStaging(beside: directory)
        let staging = CIFAR10Download.stagingDirectory(for: directory)
        try? fileManager.removeItem(at: staging)
        let folder = staging.appendingPathComponent("files")
        do { try fileManager.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw DownloadError.filesystem(path: parent.path, reason: "cannot write here (\(CIFAR10Download.reason(error)))")
        }
        defer { try? fileManager.removeItem(at: staging) }

        var total: Int64 = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var hashes: [String] = []
        for file in files {
            let url = baseURL.appendingPathComponent(file.name)
            let source = url.isFileURL ? url.path : url.absoluteString
            let before = total
            let fetched = try ArchiveFetch(url: url, timeout: timeout, maximumBytes: file.maximumBytes).run(to: folder.appendingPathComponent(file.name)) { bytes, _ in
                progress(.init(stage: .downloading, bytes: before + bytes, total: nil,
                               seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            }
            guard fetched.md5.hex == file.md5 else {
                let note = fetched.contentEncoding.map { ", the server declared Content-Encoding: \($0)" } ?? ""
                throw DownloadError.checksumMismatch(url: source, expected: file.md5, actual: fetched.md5.hex, bytes: fetched.bytes, note: note)
            }
            total += fetched.bytes
            hashes.append(fetched.md5.hex)
        }
        if exists {
            guard rename(directory.path, staging.appendingPathComponent("previous").path) == 0 else {
                throw DownloadError.filesystem(path: directory.path, reason: "cannot move the old folder aside (\(String(cString: strerror(errno))))")
            }
        }
        guard rename(folder.path, directory.path) == 0 else {
            let why = String(cString: strerror(errno))
            if exists { _ = rename(staging.appendingPathComponent("previous").path, directory.path) }
            throw DownloadError.filesystem(path: directory.path, reason: "cannot move the data into place (\(why))")
        }
        return .installed(bytes: total, md5: MD5.digest(Data(hashes.joined().utf8)).hex)
    }
}

extension CIFAR10Download {
    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
