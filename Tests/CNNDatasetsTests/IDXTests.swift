import CNNDatasets
import Foundation
import Testing

/// The IDX reader and MNIST / Fashion-MNIST loading against IDX files built byte by byte.
@Suite struct IDXTests {
    @Test func parsesHeaderAndPayload() throws {
        let data = DatasetFixtures.idx(dimensions: [2, 3, 4], payload: Array(0..<24))
        #expect(Array(data.prefix(4)) == [0, 0, 8, 3], "fixture: magic 2051 big-endian")
        let file = try IDXFile(data, file: "x", expectedMagic: IDXFile.imagesMagic)
        #expect(file.dimensions == [2, 3, 4])
        #expect(file.bytes == Array(0..<24))
    }

    @Test func wrongMagicNamesFileAndBothMagics() {
        let labels = DatasetFixtures.idx(dimensions: [3], payload: [1, 2, 3])
        #expect(throws: DatasetError("imgs", "magic number 2049 (0x801) is not 2051, an IDX images file (this is an IDX labels file)")) {
            try IDXFile(labels, file: "imgs", expectedMagic: IDXFile.imagesMagic)
        }
        let random = Data([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0])
        #expect(throws: DatasetError.self) { try IDXFile(random, file: "f", expectedMagic: IDXFile.labelsMagic) }
    }

    @Test func truncatedAndOverlongFilesAreErrors() throws {
        let data = DatasetFixtures.idx(dimensions: [2, 2, 2], payload: Array(repeating: 9, count: 8))
        #expect(throws: DatasetError("t", "truncated: the IDX header [2, 2, 2] announces 8 bytes of data, the file holds 7")) {
            try IDXFile(data.dropLast(), file: "t", expectedMagic: IDXFile.imagesMagic)
        }
        #expect(throws: DatasetError("t", "1 bytes after the 8 the IDX header [2, 2, 2] announces")) {
            try IDXFile(data + Data([0]), file: "t", expectedMagic: IDXFile.imagesMagic)
        }
        // Header cut inside the dimensions, and shorter than the magic.
        #expect(throws: DatasetError.self) { try IDXFile(data.prefix(10), file: "t", expectedMagic: IDXFile.imagesMagic) }
        #expect(throws: DatasetError.self) { try IDXFile(data.prefix(3), file: "t", expectedMagic: IDXFile.imagesMagic) }
        // Sizes whose product overflows.
        let huge = DatasetFixtures.idx(dimensions: [0x7FFF_FFFF, 0x7FFF_FFFF, 0x7FFF_FFFF], payload: [])
        #expect(throws: DatasetError.self) { try IDXFile(huge, file: "t", expectedMagic: IDXFile.imagesMagic) }
    }

    @Test(arguments: [false, true])
    func loadsMNISTFolderGzippedOrNot(gzipped: Bool) throws {
        let folder = try DatasetFixtures.mnistFolder(train: 5, test: 3, gzipped: gzipped)
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = try MNIST.load(directory: folder, split: .train, classNames: MNIST.digitNames, normalization: Normalization(mean: 0.1307, std: 0.3081))
        let expected = DatasetFixtures.mnistFiles(count: 5)
        #expect(train.count == 5)
        #expect(train.sampleShape == [1, 28, 28])
        #expect(train.pixels == expected.pixels)
        #expect((0..<5).map(train.label(at:)) == [0, 1, 2, 3, 4])
        #expect(train.classNames == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
        let test = try MNIST.load(directory: folder, split: .test, classNames: MNIST.fashionNames, normalization: Normalization(mean: 0.286, std: 0.353))
        #expect(test.count == 3)
        #expect(test.classNames[9] == "Ankle boot")
        // Image 1, pixel 100 normalised as torchvision does, in Float.
        var inputs = [Float](repeating: 0, count: 784)
        var index: Int32 = 1
        inputs.withUnsafeMutableBufferPointer { out in
            withUnsafePointer(to: &index) { train.fillInputs(indices: UnsafeBufferPointer(start: $0, count: 1), into: out.baseAddress!) }
        }
        let byte = expected.pixels[784 + 100]
        #expect(byte == 107)
        #expect(inputs[100] == (Float(107) / 255 - Float(0.1307)) / Float(0.3081))
    }

    @Test func countMismatchAndBadLabelsNameTheFile() throws {
        let files = DatasetFixtures.mnistFiles(count: 4, rows: 2, columns: 2)
        let images = try IDXFile(files.images, file: "imgs", expectedMagic: IDXFile.imagesMagic)
        let three = try IDXFile(DatasetFixtures.idx(dimensions: [3], payload: [0, 1, 2]), file: "labs", expectedMagic: IDXFile.labelsMagic)
        #expect(throws: DatasetError("labs", "holds 3 labels but imgs holds 4 images")) {
            try MNIST.combine(images: images, imagesFile: "imgs", labels: three, labelsFile: "labs", classNames: MNIST.digitNames, normalization: Normalization(mean: 0, std: 1))
        }
        let bad = try IDXFile(DatasetFixtures.idx(dimensions: [4], payload: [0, 1, 10, 2]), file: "labs", expectedMagic: IDXFile.labelsMagic)
        #expect(throws: DatasetError("labs", "label 10 of record 2 (byte 10) is not a class index 0–9")) {
            try MNIST.combine(images: images, imagesFile: "imgs", labels: bad, labelsFile: "labs", classNames: MNIST.digitNames, normalization: Normalization(mean: 0, std: 1))
        }
    }

    @Test func missingAndCorruptGzipFilesAreErrors() throws {
        let folder = try DatasetFixtures.mnistFolder(gzipped: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let norm = Normalization(mean: 0, std: 1)
        let labels = folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        try Data([0x1F, 0x8B, 8, 0, 1, 2, 3]).write(to: labels)
        #expect(throws: DatasetError.self) { try MNIST.load(directory: folder, split: .test, classNames: MNIST.digitNames, normalization: norm) }
        try FileManager.default.removeItem(at: labels)
        let error = #expect(throws: DatasetError.self) { try MNIST.load(directory: folder, split: .test, classNames: MNIST.digitNames, normalization: norm) }
        #expect(error?.description == "\(folder.appendingPathComponent("t10k-labels-idx1-ubyte").path): no such file (nor t10k-labels-idx1-ubyte.gz)")
    }
}
