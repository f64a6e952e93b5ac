import CNNDatasets
import Foundation
import Testing

/// The CIFAR-100 binary reader against records built byte by byte.
@Suite struct CIFAR100Tests {
    @Test func readsFineAndCoarseLabelsAndPixels() throws {
        let folder = try DatasetFixtures.cifar100Folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let norm = DatasetKind.cifar100.defaultNormalization
        let fine = try CIFAR100.load(directory: folder, split: .train, labels: .fine, normalization: norm, layout: DatasetFixtures.cifar100Layout)
        #expect(fine.count == 4)
        #expect(fine.sampleShape == [3, 32, 32])
        #expect(fine.classNames.count == 100 && fine.classNames[7] == "fine7")
        #expect((0..<4).map(fine.label(at:)) == [0, 3, 6, 9])
        #expect(Array(fine.pixels[3072..<3075]) == [1, 2, 3], "record 1 starts with pixel (1 + 0) % 256")
        let coarse = try CIFAR100.load(directory: folder, split: .test, labels: .coarse, normalization: norm, layout: DatasetFixtures.cifar100Layout)
        #expect(coarse.count == 2 && coarse.classNames.count == 20)
        #expect((0..<2).map(coarse.label(at:)) == [0, 1])

        // Green channel (plane 1) of record 1, first pixel: byte (1 + 1024) % 256 = 1.
        var inputs = [Float](repeating: 0, count: 3072)
        var index: Int32 = 1
        inputs.withUnsafeMutableBufferPointer { out in
            withUnsafePointer(to: &index) { fine.fillInputs(indices: UnsafeBufferPointer(start: $0, count: 1), into: out.baseAddress!) }
        }
        #expect(inputs[1024] == (Float(1) / 255 - Float(0.4865)) / Float(0.2564))
        #expect(inputs[2048] == (Float(1) / 255 - Float(0.4409)) / Float(0.2762))
    }

    @Test func cifar10RecordsAreNamedAsSuch() {
        var pixels: [UInt8] = [], labels: [UInt16] = []
        let cifar10 = Data(repeating: 1, count: 3 * 3073)
        let error = #expect(throws: DatasetError.self) { try CIFAR100.decode(cifar10, file: "train.bin", labels: .fine, pixels: &pixels, labels: &labels) }
        #expect(error?.description.hasSuffix("CIFAR-10 data? use the CIFAR-10 reader") == true)
        #expect(error?.description(naming: { "<\($0)>" }).hasSuffix("CIFAR-10 data? use <the CIFAR-10 reader>") == true)
        #expect(error?.description.hasPrefix("train.bin: 9219 bytes is not a whole number of 3,074-byte CIFAR-100 records") == true)
    }

    @Test func cifar100GivenAsCIFAR10IsNamedAsSuch() {
        var pixels: [UInt8] = [], labels: [UInt8] = []
        let short = #expect(throws: CIFAR10Error.self) {
            try CIFAR10.decode(Data(repeating: 1, count: 2 * 3074), file: "data_batch_1.bin", pixels: &pixels, labels: &labels)
        }
        #expect(short?.description.hasSuffix("CIFAR-100 data? use the CIFAR-100 reader") == true)
        #expect(short?.description(naming: { _ in "X" }).hasSuffix("CIFAR-100 data? use X") == true)
    }

    @Test func outOfRangeLabelsNameRecordAndByte() {
        var records = DatasetFixtures.cifar100Records(3)
        records[3074 * 2 + 1] = 100
        var pixels: [UInt8] = [], labels: [UInt16] = []
        #expect(throws: DatasetError("t.bin", "fine label 100 of record 2 (byte 6149) is not a class index 0–99")) {
            try CIFAR100.decode(records, file: "t.bin", labels: .fine, pixels: &pixels, labels: &labels)
        }
        records[3074 * 2 + 1] = 5
        records[3074] = 20
        #expect(throws: DatasetError("t.bin", "coarse label 20 of record 1 (byte 3074) is not a class index 0–19")) {
            try CIFAR100.decode(records, file: "t.bin", labels: .fine, pixels: &pixels, labels: &labels)
        }
    }

    /// A file cut short on a record boundary is refused, naming the file; the official layout
    /// (50,000 training, 10,000 test records) is the default.
    @Test func refusesFilesWithAnotherRecordCountThanTheLayout() throws {
        let folder = try DatasetFixtures.cifar100Folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let norm = DatasetKind.cifar100.defaultNormalization
        let train = folder.appendingPathComponent("train.bin").path
        #expect(throws: DatasetError(train, "holds 4 records; the layout asked for has 5 in train.bin (truncated?)")) {
            try CIFAR100.load(directory: folder, split: .train, normalization: norm, layout: .init(trainRecords: 5, testRecords: 2))
        }
        #expect(throws: DatasetError(train, "holds 4 records; the CIFAR-100 layout has 50,000 in train.bin (truncated?)")) {
            try CIFAR100.load(directory: folder, split: .train, normalization: norm)
        }
        let test = folder.appendingPathComponent("test.bin").path
        #expect(throws: DatasetError(test, "holds 2 records; the CIFAR-100 layout has 10,000 in test.bin (truncated?)")) {
            try CIFAR100.load(directory: folder, split: .test, normalization: norm)
        }
        #expect(throws: DatasetError(test, "holds 2 records; the layout asked for has 1 in test.bin (not CIFAR-100's test.bin?)")) {
            try CIFAR100.load(directory: folder, split: .test, normalization: norm, layout: .init(trainRecords: 4, testRecords: 1))
        }
    }

    @Test func wrongNameCountIsAnError() throws {
        let folder = try DatasetFixtures.cifar100Folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("a\nb\n".utf8).write(to: folder.appendingPathComponent("coarse_label_names.txt"))
        #expect(throws: DatasetError.self) { try CIFAR100.load(directory: folder, split: .test, labels: .coarse, normalization: Normalization(mean: 0.5, std: 0.5), layout: DatasetFixtures.cifar100Layout) }
        #expect(CIFAR100.problem(with: folder)?.contains("coarse_label_names.txt") == true)
    }
}
