@testable import CNNDatasets
import CNNEngine
import Foundation
import Testing

/// `DatasetSource`: loading any data set from one value, its checks against a network, and the
/// library's errors in its own terms (a caller names its settings with `description(naming:)`).
@Suite struct DatasetSourceTests {
    @Test func loadsCIFAR100WithTheGivenLayoutLabelsAndNormalization() throws {
        let folder = try DatasetFixtures.cifar100Folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let layout = DatasetSource.RecordCounts(train: 4, test: 2)
        let source = DatasetSource(.cifar100, directory: folder.path, labels: .coarse, recordsPerFile: layout)
        #expect(source.folderState == .folder)
        let test = try source.load(.test)
        #expect(test.count == 2 && test.classNames.count == 20)
        #expect(test.normalization == DatasetKind.cifar100.defaultNormalization.expandedOrSelf)
        let direct = try CIFAR100.load(directory: folder, split: .test, labels: .coarse, normalization: DatasetKind.cifar100.defaultNormalization,
                                       layout: DatasetFixtures.cifar100Layout)
        #expect(test.pixels == direct.pixels)
        let description = try #require(DatasetDescription(metadata: source.metadata(for: test)))
        #expect(description.dataset == "cifar100" && description.labels == "coarse" && description.classes == 20)
        // The official layout refuses the short files.
        #expect(throws: DatasetError.self) { try DatasetSource(.cifar100, directory: folder.path).load(.test) }
    }

    @Test func folderStateTellsMissingFromFile() throws {
        let folder = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(DatasetSource(.mnist, directory: folder.appendingPathComponent("none").path).folderState == .missing)
        let file = folder.appendingPathComponent("file")
        try Data([1]).write(to: file)
        #expect(DatasetSource(.mnist, directory: file.path).folderState == .notAFolder)
        #expect(DatasetSource(.mnist, directory: folder.path).location.origin == .given)
    }

    @Test func recordCountsComeFromTheEnvironment() throws {
        #expect(try DatasetSource.recordCounts(in: [:]) == nil)
        #expect(try DatasetSource.recordCounts(in: [DatasetSource.recordCountsVariable: "40, 60"]) == DatasetSource.RecordCounts(train: 40, test: 60))
        for bad in ["40", "0,1", "a,b", "1,2,3"] {
            #expect(throws: DatasetSourceError.badRecordCounts(bad)) { try DatasetSource.recordCounts(in: [DatasetSource.recordCountsVariable: bad]) }
        }
    }

    @Test func networksThatDoNotFitTheDataAreNamed() throws {
        let folder = try DatasetFixtures.cifar100Folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = DatasetSource(.cifar100, directory: folder.path, recordsPerFile: .init(train: 4, test: 2))
        let test = try source.load(.test)
        var generator = SeededGenerator(seed: 1)
        let model = try source.simpleCNN(for: test)
        #expect(model.classes == 100)
        let fits = Network(architecture: try model.architecture(), generator: &generator)
        try source.check(fits, fits: test, name: "m")
        let ten = Network(architecture: try SimpleCNN().architecture(), generator: &generator)
        #expect(throws: NetworkDataFitError.classes(model: "m", outputs: 10, dataset: .cifar100, classes: 100)) { try source.check(ten, fits: test, name: "m") }
        let grey = Network(architecture: try SimpleCNN(inputChannels: 1, imageSize: 28, conv1: 4, conv2: 4, fc1: 8, classes: 100).architecture(), generator: &generator)
        let error = #expect(throws: NetworkDataFitError.self) { try source.check(grey, fits: test, name: "m") }
        #expect(error?.description == "m takes 1×28×28 images, but the CIFAR-100 data has 3×32×32 images; use the data set (and image size) it was trained with")
    }

    @Test func recordedDataDifferencesAreReported() throws {
        let folder = try DatasetFixtures.cifar100Folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = DatasetSource(.cifar100, directory: folder.path, recordsPerFile: .init(train: 4, test: 2))
        let test = try source.load(.test)
        #expect(source.difference(fromRecordedIn: [:], data: test) == nil)
        #expect(source.difference(fromRecordedIn: source.metadata(for: test), data: test) == nil)
        var other = source
        other.normalization = Normalization(mean: 0.5, std: 0.5)
        let otherTest = try other.load(.test)
        #expect(source.difference(fromRecordedIn: other.metadata(for: otherTest), data: test)
                == .normalization(recorded: otherTest.normalization, current: test.normalization))
        var cifar10 = source.description(of: test)
        cifar10.dataset = "cifar10"
        #expect(source.difference(fromRecordedIn: [DatasetDescription.metadataKey: cifar10.json], data: test) == .dataset(recorded: "cifar10", current: "cifar100"))
    }

    @Test func settingErrorsUseLibraryTermsAndCanBeRenamed() throws {
        let parse = #expect(throws: DatasetError.self) { try Normalization.parse("0.5,x") }
        #expect(parse?.description == "normalisation '0.5,x': expected comma-separated numbers: MEAN,STD or M1,M2,M3,S1,S2,S3")
        #expect(parse?.description(naming: { _ in "--normalize '0.5,x'" }) == "--normalize '0.5,x': expected comma-separated numbers: MEAN,STD or M1,M2,M3,S1,S2,S3")
        let channels = #expect(throws: DatasetError.self) { try Normalization(mean: [1, 2], std: [1, 1]).expanded(to: 3) }
        #expect(channels?.description == "normalisation: gives 2 means and stds, but the images have 3 channels")
        let root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a"), withIntermediateDirectories: true)
        try DatasetFixtures.png(width: 4, height: 4, pixels: DatasetFixtures.pattern(width: 4, height: 4)).write(to: root.appendingPathComponent("a/1.png"))
        let split = #expect(throws: DatasetError.self) { try ImageFolder().load(root) }
        #expect(split?.problem == "has no train/ and test/ subfolders; pass a test fraction to hold out a fraction of each class for testing")
        #expect(split?.description(naming: { $0 == .testFraction(nil) ? "F" : "?" }).hasSuffix("; pass F to hold out a fraction of each class for testing") == true)
        let empty = #expect(throws: DatasetError.self) { try ImageFolder(testFraction: 0.01).load(root) }
        #expect(empty?.problem == "test fraction 0.01 leaves 1 training and 0 test images; both need at least one")
        for text in [parse?.description, channels?.description, split?.description, empty?.description] { #expect(text?.contains("--") == false) }
    }
}

extension Normalization {
    /// Three channels' values (CIFAR images are RGB).
    fileprivate var expandedOrSelf: Normalization { (try? expanded(to: 3)) ?? self }
}
