import CNNDatasets
import Foundation

/// Downloads and installs `kind` at `destination` (CNNDatasets' `DatasetDownload`) for a
/// command: a live progress line on a terminal (stderr only), the staging folder removed if the
/// process is interrupted, and the library's errors as one line naming the flag to use. Shared
/// by `download`, `--download` and `experiment`.
@discardableResult
func installDataset(_ kind: DatasetKind, url: URL? = nil, md5: String? = nil, timeout: TimeInterval = 15,
                    into destination: URL, replacing: Bool = false) throws -> CIFAR10Download.Outcome {
    var line = ProgressLine()
    defer { line.clear() }
    let download = try DatasetDownload(kind, source: url, expectedMD5: md5, timeout: timeout)
    let source = download.source.isFileURL ? download.source.path : download.source.absoluteString
    var started = false
    let isArchive = if case .archive = download.files { true } else { false }
    if !isArchive { printError("fetching \(kind.displayName) from \(source) into \(destination.path)") }
    return try withInterruptionCleanup(staging: download.stagingDirectory(for: destination)) {
        try download.install(into: destination, replacing: replacing) { progress in
            // The archives show their progress; the IDX files, small, only the line above.
            guard isArchive else { return }
            if !started && !line.isEnabled { printError("fetching \(source) into \(destination.path)") }
            started = true
            line.update(describe(progress, source: source))
        }
    }
}

extension DownloadError: FlagNamingError {
    /// The message in the command line's words: the library's, with the flag that helps.
    var commandLineDescription: String {
        switch self {
        case .offline(let url, let reason):
            "cannot download \(url): \(reason) (offline?); on a machine without network, fetch the file elsewhere and pass --url file:///path/to/cifar-10-binary.tar.gz"
        case .destinationExists(let path, let reason): "\(path) exists but \(reason); move it away or pass --force to replace it"
        case .notDownloadable: "--dataset folder is the user's own images; there is nothing to download"
        case .checksumNotApplicable(let dataset):
            "--md5 applies to the single archive of cifar10 and cifar100; \(dataset)'s files are checked against their own MD5s"
        default: description
        }
    }
}

/// Runs `body` with SIGINT and SIGTERM removing `staging` (a download's hidden work folder)
/// and exiting with "interrupted; nothing was kept".
func withInterruptionCleanup<T>(staging: URL, _ body: () throws -> T) throws -> T {
    let interruptions = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
            try? FileManager.default.removeItem(at: staging)
            FileHandle.standardError.write(Data(((isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[2K" : "") + "interrupted; nothing was kept\n").utf8))
            exit(128 + number)
        }
        source.resume()
        return source
    }
    defer {
        for (number, source) in zip([SIGINT, SIGTERM], interruptions) {
            source.cancel()
            signal(number, SIG_DFL)
        }
    }
    return try body()
}

/// `downloading cifar-10-binary.tar.gz [#####...] 41.0/170.1 MB 24% 11.2 MB/s ETA 0:11`.
private func describe(_ progress: CIFAR10Download.Progress, source: String) -> String {
    let megabytes = Double(progress.bytes) / 1e6
    let rate = progress.seconds > 0 ? megabytes / progress.seconds : 0
    let name = source.split(separator: "/").last.map(String.init) ?? source
    let verb = progress.stage == .downloading ? "downloading \(name)" : "verified; unpacking"
    guard let total = progress.total, total > 0 else {
        return String(format: "%@ %.1f MB %.1f MB/s", verb, megabytes, rate)
    }
    let fraction = Double(progress.bytes) / Double(total)
    let eta = rate > 0 ? ProgressLine.duration((Double(total) / 1e6 - megabytes) / rate) : "-:--"
    return String(format: "%@ %@ %.1f/%.1f MB %3.0f%% %.1f MB/s ETA %@", verb, ProgressLine.bar(fraction), megabytes,
                  Double(total) / 1e6, fraction * 100, rate, eta)
}
