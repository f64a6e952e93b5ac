import Foundation

/// The download of any data set cnnprune can fetch, chosen by its ``DatasetKind``: CIFAR-10's
/// and CIFAR-100's official archive (one file, one MD5), or MNIST's and Fashion-MNIST's four IDX
/// files (each checked against torchvision's MD5). Either way the folder is installed
/// atomically (``CIFAR10Download``, ``IDXDownload``).
///
/// ```swift
/// let download = try DatasetDownload(.fashionMNIST)
/// try download.install(into: URL(fileURLWithPath: "data/fashion-mnist")) { progress in
///     print(progress.stage, progress.bytes)
/// }
/// ```
public struct DatasetDownload: Sendable {
    /// What is fetched: one archive, or a folder of IDX files.
    public enum Files: Sendable {
        /// One `.tar.gz` archive whose MD5 is checked (CIFAR-10, CIFAR-100).
        case archive(CIFAR10Download)
        /// The gzipped IDX files of a folder, each with its own MD5 (MNIST, Fashion-MNIST).
        case idx(IDXDownload)
    }

    /// The data set fetched.
    public let dataset: DatasetKind
    /// What is fetched, from where.
    public let files: Files

    /// The download of `dataset`.
    /// - Parameters:
    ///   - dataset: any kind but `.folder` (the user's own images).
    ///   - source: the archive's URL, or for IDX data sets the folder holding the files
    ///     (default: the official location; `file://` works).
    ///   - expectedMD5: the archive's MD5 (default: the official archive's); archives only.
    ///   - timeout: seconds without data, while connecting or transferring, before giving up.
    /// - Throws: ``DownloadError/notDownloadable(dataset:)`` for `.folder`;
    ///   ``DownloadError/checksumNotApplicable(dataset:)`` for an `expectedMD5` of an IDX data set.
    public init(_ dataset: DatasetKind, source: URL? = nil, expectedMD5: String? = nil, timeout: TimeInterval = 15) throws {
        self.dataset = dataset
        switch dataset {
        case .cifar10:
            files = .archive(CIFAR10Download(url: source ?? CIFAR10Download.officialURL, expectedMD5: expectedMD5 ?? CIFAR10Download.officialMD5, timeout: timeout))
        case .cifar100:
            files = .archive(CIFAR10Download.cifar100(url: source ?? CIFAR10Download.cifar100URL, expectedMD5: expectedMD5 ?? CIFAR10Download.cifar100MD5, timeout: timeout))
        case .mnist, .fashionMNIST:
            guard expectedMD5 == nil else { throw DownloadError.checksumNotApplicable(dataset: dataset.rawValue) }
            files = .idx(dataset == .mnist ? IDXDownload.mnist(baseURL: source ?? IDXDownload.mnistURL, timeout: timeout)
                                           : IDXDownload.fashionMNIST(baseURL: source ?? IDXDownload.fashionMNISTURL, timeout: timeout))
        case .folder:
            throw DownloadError.notDownloadable(dataset: dataset.rawValue)
        }
    }

    /// Where the files come from: the archive's URL, or the IDX files' folder.
    public var source: URL {
        switch files {
        case .archive(let download): return download.url
        case .idx(let download): return download.baseURL
        }
    }

    /// The hidden folder beside `directory` where ``install(into:replacing:progress:)`` works;
    /// removing it undoes an interrupted install.
    public func stagingDirectory(for directory: URL) -> URL {
        CIFAR10Download.stagingDirectory(for: directory)
    }

    /// Makes `directory` hold the data set: an existing complete folder is kept unless
    /// `replacing`; on any failure nothing is left behind.
    /// - Parameters:
    ///   - directory: the data set's folder itself (e.g. `cifar-10-batches-bin`).
    ///   - replacing: download again and replace whatever is at `directory`.
    ///   - progress: called on the calling thread while the files are fetched and unpacked.
    /// - Returns: whether anything was fetched, and what.
    /// - Throws: ``DownloadError``, one line saying what went wrong.
    @discardableResult
    public func install(into directory: URL, replacing: Bool = false, progress: (CIFAR10Download.Progress) -> Void = { _ in }) throws -> CIFAR10Download.Outcome {
        switch files {
        case .archive(let download): return try download.install(into: directory, replacing: replacing, progress: progress)
        case .idx(let download): return try download.install(into: directory, replacing: replacing, progress: progress)
        }
    }
}
