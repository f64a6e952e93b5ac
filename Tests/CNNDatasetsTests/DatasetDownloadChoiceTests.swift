import CNNDatasets
import Foundation
import Testing

/// `DatasetDownload`: the download each data set kind gets, its progress, and refusals in the
/// library's own words (no command-line flags).
@Suite struct DatasetDownloadChoiceTests {
    @Test func eachKindGetsItsOfficialSource() throws {
        #expect(try DatasetDownload(.cifar10).source == CIFAR10Download.officialURL)
        #expect(try DatasetDownload(.cifar100).source == CIFAR10Download.cifar100URL)
        #expect(try DatasetDownload(.mnist).source == IDXDownload.mnistURL)
        #expect(try DatasetDownload(.fashionMNIST).source == IDXDownload.fashionMNISTURL)
        guard case .archive(let cifar100) = try DatasetDownload(.cifar100, expectedMD5: String(repeating: "0", count: 32)).files else {
            Issue.record("CIFAR-100 is one archive"); return
        }
        #expect(cifar100.expectedMD5 == String(repeating: "0", count: 32) && cifar100.archiveFolder == "cifar-100-binary")
        guard case .idx(let fashion) = try DatasetDownload(.fashionMNIST, timeout: 3).files else { Issue.record("Fashion-MNIST is IDX files"); return }
        #expect(fashion.files == IDXDownload.fashionMNISTFiles && fashion.timeout == 3)
    }

    @Test func refusalsSayWhatIsWrongWithoutFlags() {
        #expect(throws: DownloadError.notDownloadable(dataset: "folder")) { _ = try DatasetDownload(.folder) }
        #expect(throws: DownloadError.checksumNotApplicable(dataset: "mnist")) { _ = try DatasetDownload(.mnist, expectedMD5: String(repeating: "0", count: 32)) }
        let errors: [DownloadError] = [.notDownloadable(dataset: "folder"), .checksumNotApplicable(dataset: "mnist"),
                                       .offline(url: "https://example.org/a.tar.gz", reason: "no route"), .destinationExists(path: "/data", reason: "is not a folder")]
        for error in errors { #expect(!error.description.contains("--"), "\(error.description)") }
    }

    @Test func installsAnArchiveFromAFileURLWithProgress() throws {
        let archive = try DownloadFixtures.datasetArchive()
        let root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("cifar-10-binary.tar.gz")
        try archive.write(to: file)
        let destination = root.appendingPathComponent("data/cifar-10-batches-bin")
        let download = try DatasetDownload(.cifar10, source: file, expectedMD5: MD5.digest(archive).hex)
        #expect(download.stagingDirectory(for: destination).deletingLastPathComponent() == destination.deletingLastPathComponent().standardizedFileURL)
        var stages: Set<CIFAR10Download.Progress.Stage> = []
        guard case .installed(let bytes, _) = try download.install(into: destination, progress: { stages.insert($0.stage) }) else {
            Issue.record("not installed"); return
        }
        #expect(bytes == Int64(archive.count))
        #expect(stages.contains(.downloading))
        #expect(CIFAR10Download.problem(with: destination) == nil)
        #expect(try download.install(into: destination) == .alreadyPresent)
    }
}
