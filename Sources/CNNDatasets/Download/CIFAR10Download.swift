import CNNEngine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why a data set could not be downloaded and installed; every case is one line for the user,
/// in the library's terms (a command line adds its own flags to try).
public enum DownloadError: Error, CustomStringConvertible, Equatable {
    /// No connection could be made (no network, unknown host, no answer).
    case offline(url: String, reason: String)
    /// The server answered with an error status.
    case http(url: String, status: Int)
    /// The server closed the connection before sending all the bytes it announced.
    case truncated(url: String, received: Int64, expected: Int64)
    /// The source announced or sent more than `limit` bytes, more than the expected file holds.
    case tooLarge(url: String, limit: Int64)
    /// The transfer failed for another reason.
    case transfer(url: String, reason: String)
    /// The archive's MD5 is not the expected one (corrupt, or not the official archive); `note` says more when it can.
    case checksumMismatch(url: String, expected: String, actual: String, bytes: Int64, note: String)
    /// The archive could not be decompressed or unpacked.
    case badArchive(url: String, reason: String)
    /// The archive held no complete `cifar-10-batches-bin` folder.
    case incomplete(url: String, reason: String)
    /// The destination exists but is not a complete data set, and replacing was not asked for.
    case destinationExists(path: String, reason: String)
    /// A file or folder could not be created, moved or removed while installing; `reason` is the system's.
    case filesystem(path: String, reason: String)
    /// The data set (a `DatasetKind` raw value) is the user's own images: there is nothing to download.
    case notDownloadable(dataset: String)
    /// An expected MD5 was given for a data set of several files, each checked against its own.
    case checksumNotApplicable(dataset: String)

    public var description: String {
        switch self {
        case .offline(let url, let reason):
            return "cannot download \(url): \(reason) (offline?); on a machine without network, fetch the file elsewhere and install it from its file:// URL"
        case .http(let url, let status):
            return "cannot download \(url): the server answered HTTP \(status) \(HTTPURLResponse.localizedString(forStatusCode: status))"
        case .truncated(let url, let received, let expected):
            return "download of \(url) broke off: received \(received) of \(expected) bytes; nothing was kept, run the command again"
        case .tooLarge(let url, let limit):
            return "\(url): more than \(grouped(Int(limit))) bytes, larger than the expected archive; nothing was kept"
        case .transfer(let url, let reason):
            return "download of \(url) failed: \(reason); nothing was kept"
        case .checksumMismatch(let url, let expected, let actual, let bytes, let note):
            return "\(url): MD5 of the \(bytes) bytes received is \(actual), expected \(expected)\(note); corrupt or not the official archive, nothing was kept"
        case .badArchive(let url, let reason):
            return "\(url): \(reason); nothing was kept"
        case .incomplete(let url, let reason):
            return "\(url): \(reason); nothing was kept"
        case .destinationExists(let path, let reason):
            return "\(path) exists but \(reason); move it away, or install again replacing it"
        case .filesystem(let path, let reason):
            return "\(path): \(reason)"
        case .notDownloadable(let dataset):
            return "\(dataset) is the user's own images; there is nothing to download"
        case .checksumNotApplicable(let dataset):
            return "an expected MD5 applies to the single archive of cifar10 and cifar100; \(dataset)'s files are checked against their own MD5s"
        }
    }
}

/// Downloads the official CIFAR-10 (or, with `cifar100()`, CIFAR-100) binary archive, checks its
/// MD5, and installs its `cifar-10-batches-bin` (`cifar-100-binary`) folder at a chosen path — atomically: everything happens in a hidden
/// staging folder beside the destination, which is renamed into place only when complete, and
/// removed on any failure.
///
/// ```swift
/// let download = CIFAR10Download()  // the official URL and checksum
/// try download.install(into: URL(fileURLWithPath: "data/cifar-10-batches-bin"))
/// ```
public struct CIFAR10Download: Sendable {
    /// The official CIFAR-10 binary archive.
    public static let officialURL = URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")!
    /// The MD5 the data set's page publishes for `cifar-10-binary.tar.gz`.
    public static let officialMD5 = "c32a1d4ab5d03f1284b67883e8d87530"
    /// The folder the archive holds.
    public static let folderName = "cifar-10-batches-bin"
    /// The size in bytes of the official `cifar-10-binary.tar.gz`.
    public static let officialArchiveBytes: Int64 = 170_052_171
    /// The files a complete folder holds.
    public static let requiredFiles = CIFAR10.Split.train.fileNames + CIFAR10.Split.test.fileNames + ["batches.meta.txt"]

    /// Where the archive comes from: `https://`, `http://` or `file://`.
    public var url: URL
    /// The archive's expected MD5, lower-case hex.
    public var expectedMD5: String
    /// Seconds without data (while connecting or transferring) before the download fails.
    public var timeout: TimeInterval
    /// The largest total of extracted bytes accepted.
    public var extractionLimit: Int
    /// The most archive bytes fetched (the expected archive's size): a larger source is
    /// refused as soon as it says so or sends more, before it fills the disk.
    public var maximumArchiveBytes: Int64
    /// The folder inside the archive that becomes the destination.
    public var archiveFolder: String
    /// What keeps a folder from being a complete data set, or nil (CIFAR-10's check by default).
    public var check: @Sendable (URL) -> String?

    /// A download of the archive at `url`, checked against `expectedMD5` and unpacked from its `archiveFolder`;
    /// the defaults are CIFAR-10's official archive. `check` tells whether a folder is a complete data set;
    /// `maximumArchiveBytes` is the largest archive fetched (the official archive's size).
    public init(url: URL = CIFAR10Download.officialURL, expectedMD5: String = CIFAR10Download.officialMD5,
                timeout: TimeInterval = 15, extractionLimit: Int = 1 << 30, maximumArchiveBytes: Int64 = CIFAR10Download.officialArchiveBytes,
                archiveFolder: String = CIFAR10Download.folderName, check: @escaping @Sendable (URL) -> String? = { CIFAR10Download.problem(with: $0) }) {
        self.url = url
        self.expectedMD5 = expectedMD5.lowercased()
        self.timeout = timeout
        self.extractionLimit = extractionLimit
        self.maximumArchiveBytes = maximumArchiveBytes
        self.archiveFolder = archiveFolder
        self.check = check
    }

    /// The official CIFAR-100 binary archive.
    public static let cifar100URL = URL(string: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz")!
    /// The MD5 the data set's page publishes for `cifar-100-binary.tar.gz`.
    public static let cifar100MD5 = "03b5dce01913d631647c71ecec9e9cb8"
    /// The size in bytes of the official `cifar-100-binary.tar.gz`.
    public static let cifar100ArchiveBytes: Int64 = 168_513_733

    /// The same download and installation for CIFAR-100's `cifar-100-binary` folder.
    public static func cifar100(url: URL = cifar100URL, expectedMD5: String = cifar100MD5, timeout: TimeInterval = 15,
                                maximumArchiveBytes: Int64 = cifar100ArchiveBytes) -> CIFAR10Download {
        CIFAR10Download(url: url, expectedMD5: expectedMD5, timeout: timeout, maximumArchiveBytes: maximumArchiveBytes,
                        archiveFolder: "cifar-100-binary", check: { CIFAR100.problem(with: $0) })
    }

    /// A stage of `install` and how far it has come.
    public struct Progress: Sendable {
        /// What `install` is doing.
        public enum Stage: String, Sendable {
            /// Fetching the archive.
            case downloading
            /// Decompressing and unpacking it.
            case extracting
        }
        /// What `install` is doing now.
        public var stage: Stage
        /// Bytes of the archive handled so far.
        public var bytes: Int64
        /// The archive's size, when the server said.
        public var total: Int64?
        /// Seconds since the stage started.
        public var seconds: Double
    }

    /// What `install` did.
    public enum Outcome: Sendable, Equatable {
        /// The destination already held a complete data set; nothing was fetched.
        case alreadyPresent
        /// The archive (this many bytes, this MD5) was fetched, verified and extracted.
        case installed(bytes: Int64, md5: String)
    }

    /// Makes `directory` (the `cifar-10-batches-bin` folder itself) hold the data set.
    ///
    /// An existing complete folder is left alone unless `replacing`; an existing incomplete
    /// one is an error unless `replacing`. On any failure nothing is left behind and an
    /// existing folder is untouched.
    /// - Parameters:
    ///   - directory: the folder to create; its parent is created if needed.
    ///   - replacing: download again and replace whatever is at `directory`.
    ///   - progress: called on the calling thread, several times a second while busy.
    @discardableResult
    public func install(into directory: URL, replacing: Bool = false, progress: (Progress) -> Void = { _ in }) throws -> Outcome {
        let directory = directory.standardizedFileURL
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory)
        if exists && !replacing {
            guard isDirectory.boolValue else { throw DownloadError.destinationExists(path: directory.path, reason: "is not a folder") }
            if let problem = check(directory) {
                throw DownloadError.destinationExists(path: directory.path, reason: problem)
            }
            return .alreadyPresent
        }
        let parent = directory.deletingLastPathComponent()
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw DownloadError.filesystem(path: parent.path, reason: "cannot create the folder (\(CIFAR10Download.reason(error)))")
        }
        CIFAR10Download.removeAbandonedStaging(beside: directory)
        let staging = CIFAR10Download.stagingDirectory(for: directory)
        try? fileManager.removeItem(at: staging)
        do {
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw DownloadError.filesystem(path: parent.path, reason: "cannot write here (\(CIFAR10Download.reason(error)))")
        }
        defer { try? fileManager.removeItem(at: staging) }

        // 1. Fetch, hashing as the bytes arrive.
        let archive = staging.appendingPathComponent("archive.tar.gz")
        var start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let fetched = try ArchiveFetch(url: url, timeout: timeout, maximumBytes: maximumArchiveBytes).run(to: archive) { bytes, total in
            progress(Progress(stage: .downloading, bytes: bytes, total: total, seconds: elapsed()))
        }
        let source = url.isFileURL ? url.path : url.absoluteString

        // 2. Verify before unpacking anything.
        guard fetched.md5.hex == expectedMD5 else {
            let note = fetched.contentEncoding.map { ", the server declared Content-Encoding: \($0)" } ?? ""
            throw DownloadError.checksumMismatch(url: source, expected: expectedMD5, actual: fetched.md5.hex, bytes: fetched.bytes, note: note)
        }

        // 3. Gunzip and untar into the staging folder.
        start = DispatchTime.now().uptimeNanoseconds
        let extracted = staging.appendingPathComponent("extracted")
        try fileManager.createDirectory(at: extracted, withIntermediateDirectories: false)
        try CIFAR10Download.extract(archive: archive, into: extracted, limit: extractionLimit, source: source) { bytes in
            progress(Progress(stage: .extracting, bytes: bytes, total: fetched.bytes, seconds: elapsed()))
        }
        let folder = extracted.appendingPathComponent(archiveFolder)
        if let problem = check(folder) {
            throw DownloadError.incomplete(url: source, reason: "the archive's \(archiveFolder) \(problem)")
        }

        // 4. Move into place; a replaced folder goes into the staging folder and is deleted with it.
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
        return .installed(bytes: fetched.bytes, md5: fetched.md5.hex)
    }

    /// Streams `archive` through gunzip and the tar reader into `folder`.
    static func extract(archive: URL, into folder: URL, limit: Int, source: String, progress: (Int64) -> Void) throws {
        guard let input = FileHandle(forReadingAtPath: archive.path) else {
            throw DownloadError.filesystem(path: archive.path, reason: "cannot be read")
        }
        defer { try? input.close() }
        let inflater = try GzipInflater()
        let extractor = TarExtractor(root: folder, limit: limit)
        var consumed: Int64 = 0
        do {
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try inflater.push(chunk) { try extractor.push($0) }
                consumed += Int64(chunk.count)
                progress(consumed)
            }
            try inflater.finish()
            try extractor.finish()
        } catch let error as GzipError {
            throw DownloadError.badArchive(url: source, reason: error.description)
        } catch let error as TarError {
            throw DownloadError.badArchive(url: source, reason: error.description)
        } catch let error as DownloadError {
            throw error
        } catch {
            throw DownloadError.filesystem(path: folder.path, reason: "extraction failed (\(reason(error)))")
        }
    }

    /// What keeps `directory` from being a complete data set (missing files, sizes that are
    /// not whole records, fewer than ten class names), or nil when it is one.
    public static func problem(with directory: URL) -> String? {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "is missing"
        }
        let missing = requiredFiles.filter { !fileManager.fileExists(atPath: directory.appendingPathComponent($0).path) }
        guard missing.isEmpty else { return "lacks \(missing.joined(separator: ", "))" }
        for name in CIFAR10.Split.allCases.flatMap(\.fileNames) {
            let size = (try? fileManager.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? NSNumber)?.intValue ?? 0
            if size == 0 || size % CIFAR10.recordSize != 0 { return "holds \(name) of \(size) bytes, not whole 3,073-byte records" }
        }
        do { _ = try CIFAR10.readClassNames(directory: directory) } catch { return "has an unusable batches.meta.txt (\(error))" }
        return nil
    }

    /// The hidden folder beside `directory` where `install` works (one per process).
    public static func stagingDirectory(for directory: URL) -> URL {
        let directory = directory.standardizedFileURL
        return directory.deletingLastPathComponent()
            .appendingPathComponent(".\(directory.lastPathComponent).download-\(ProcessInfo.processInfo.processIdentifier)")
    }

    /// Removes staging folders left by killed runs (their process no longer exists).
    static func removeAbandonedStaging(beside directory: URL) {
        let directory = directory.standardizedFileURL
        let prefix = ".\(directory.lastPathComponent).download-"
        let parent = directory.deletingLastPathComponent()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != ProcessInfo.processInfo.processIdentifier else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
            }
        }
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? Error, (underlying as NSError).domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32((underlying as NSError).code)))
        }
        return nsError.localizedDescription
    }
}
