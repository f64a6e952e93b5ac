import ArgumentParser
import CNNDatasets
import CNNStudy
import Foundation

/// `cnnprune download`: fetch the official CIFAR-10 binary archive, verify its MD5, and
/// install its `cifar-10-batches-bin` folder atomically.
struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download CIFAR-10 (binary version), CIFAR-100, MNIST or Fashion-MNIST, verify its MD5 and unpack it.",
        discussion: """
            --dataset cifar100 fetches the official cifar-100-binary.tar.gz; mnist the four IDX files from the \
            mirror torchvision uses (\(IDXDownload.mnistURL.absoluteString)); fashion-mnist the four IDX files \
            from \(IDXDownload.fashionMNISTURL.absoluteString); each file's MD5 is checked (torchvision's). \
            For MNIST and Fashion-MNIST --url names the folder holding the four .gz files (file:///dir/ works). \
            --data names the cifar-10-batches-bin folder itself, as for train and evaluate. The archive \
            is fetched and unpacked in a hidden folder beside it, which is renamed into place only when \
            complete: a failed or interrupted download leaves nothing behind. An existing complete folder \
            is kept unless --force. Without network, fetch cifar-10-binary.tar.gz elsewhere and pass \
            --url file:///path/to/cifar-10-binary.tar.gz (the checksum is still verified).
            """
    )

    @Option(name: .customLong("data"), help: "Where to put the data set's folder (default: as for train: for cifar10 $CIFAR10_DIR, else ./data/cifar-10-batches-bin).")
    var directory: String?

    @Option(help: "The data set: cifar10, cifar100, mnist or fashion-mnist.")
    var dataset: DatasetKind = .cifar10

    @Option(help: "Where to fetch the archive (for mnist and fashion-mnist: the folder of its files): https://, http://, file:// or a local path (default: the official location).")
    var url: String?

    @Option(help: "The archive's expected MD5 (default: the official file's; not for mnist and fashion-mnist, whose four files are checked against torchvision's MD5s).")
    var md5: String?

    @Option(parsing: .unconditional, help: "Seconds without data, while connecting or transferring, before giving up.")
    var timeout: Double = 15

    @Flag(help: "Download again and replace the folder even if it exists.")
    var force = false

    func validate() throws {
        if let md5 {
            guard md5.count == 32, md5.allSatisfy(\.isHexDigit) else {
                throw ValidationError("--md5 must be 32 hexadecimal digits, got '\(md5)'")
            }
            guard dataset == .cifar10 || dataset == .cifar100 else {
                throw ValidationError("--md5 applies to the single archive of cifar10 and cifar100; \(dataset.rawValue)'s files are checked against their own MD5s")
            }
        }
        guard dataset.isDownloadable else { throw ValidationError("--dataset folder is your own images; there is nothing to download") }
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds, got \(timeout)") }
        if let url, sourceURL == nil { throw ValidationError("--url '\(url)' is not a URL or path") }
    }

    /// `--url` as a URL (CNNDatasets' `DatasetDownload.sourceURL`): a string without a scheme is a local path.
    var sourceURL: URL? { url.flatMap { DatasetDownload.sourceURL($0, for: dataset) } }

    func run() throws {
        let destination = DataOptions.resolve(directory, dataset: dataset).url
        let name = dataset.displayName
        switch try installDataset(dataset, url: sourceURL, md5: md5, timeout: timeout, into: destination, replacing: force) {
        case .alreadyPresent:
            print("\(name) is already complete in \(destination.path); nothing to do (--force downloads it again)")
        case .installed(let bytes, let md5):
            if dataset == .mnist || dataset == .fashionMNIST {
                print("\(name) is ready in \(destination.path) (\(bytes) bytes, the MD5 of each of its 4 files verified)")
            } else {
                print("\(name) is ready in \(destination.path) (\(bytes) bytes, MD5 \(md5) verified)")
            }
        }
    }
}
