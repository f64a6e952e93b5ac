import ArgumentParser
import CNNDatasets
import Foundation

/// `cnnprune download`: fetch the official CIFAR-10 binary archive, verify its MD5, and
/// install its `cifar-10-batches-bin` folder atomically.
struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download CIFAR-10 (binary version), verify its MD5 and unpack it.",
        discussion: """
            --data names the cifar-10-batches-bin folder itself, as for train and evaluate. The archive \
            is fetched and unpacked in a hidden folder beside it, which is renamed into place only when \
            complete: a failed or interrupted download leaves nothing behind. An existing complete folder \
            is kept unless --force. Without network, fetch cifar-10-binary.tar.gz elsewhere and pass \
            --url file:///path/to/cifar-10-binary.tar.gz (the checksum is still verified).
            """
    )

    @Option(name: .customLong("data"), help: "Where to put the cifar-10-batches-bin folder (default: $CIFAR10_DIR, else ./data/cifar-10-batches-bin).")
    var directory: String?

    @Option(help: "Where to fetch the archive: https://, http://, file:// or a local path.")
    var url: String = CIFAR10Download.officialURL.absoluteString

    @Option(help: "The archive's expected MD5 (default: the official file's).")
    var md5: String = CIFAR10Download.officialMD5

    @Option(help: "Seconds without data, while connecting or transferring, before giving up.")
    var timeout: Double = 15

    @Flag(help: "Download again and replace the folder even if it exists.")
    var force = false

    func validate() throws {
        guard md5.count == 32, md5.allSatisfy(\.isHexDigit) else {
            throw ValidationError("--md5 must be 32 hexadecimal digits, got '\(md5)'")
        }
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds, got \(timeout)") }
        guard sourceURL != nil else { throw ValidationError("--url '\(url)' is not a URL or path") }
    }

    /// `--url` as a URL: a string without a scheme is a local path.
    var sourceURL: URL? {
        if url.contains("://") { return URL(string: url) }
        return url.isEmpty ? nil : URL(fileURLWithPath: url)
    }

    func run() throws {
        let (destination, _) = DataDirectory.resolve(explicit: directory)
        let download = CIFAR10Download(url: sourceURL!, expectedMD5: md5, timeout: timeout)
        switch try installCIFAR10(download, into: destination, replacing: force) {
        case .alreadyPresent:
            print("CIFAR-10 is already complete in \(destination.path); nothing to do (--force downloads it again)")
        case .installed(let bytes, let md5):
            print("CIFAR-10 is ready in \(destination.path) (\(bytes) bytes, MD5 \(md5) verified)")
        }
    }
}

/// Downloads and installs CIFAR-10 at `destination` with a live progress line on a terminal
/// (stderr only), removing the staging folder if the process is interrupted. Shared by
/// `download`, `--download` and `experiment`.
@discardableResult
func installCIFAR10(_ download: CIFAR10Download = CIFAR10Download(), into destination: URL, replacing: Bool = false) throws -> CIFAR10Download.Outcome {
    let staging = CIFAR10Download.stagingDirectory(for: destination)
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
    var line = ProgressLine()
    var started = false
    let source = download.url.isFileURL ? download.url.path : download.url.absoluteString
    do {
        let outcome = try download.install(into: destination, replacing: replacing) { progress in
            if !started && !line.isEnabled { printError("fetching \(source) into \(destination.path)") }
            started = true
            line.update(describe(progress, source: source))
        }
        line.clear()
        return outcome
    } catch let error as DownloadError {
        line.clear()
        throw CLIError(error.description)
    }
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
