import CNNDatasets
import CNNEngine
import Foundation
import Testing

/// The CIFAR-10 binary reader on small files the tests write, and (when `CIFAR10_DIR` is set)
/// a short training run on the real data.
@Suite struct CIFAR10Tests {
    static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    /// A directory with `batches.meta.txt` and the given files.
    func makeDirectory(_ files: [String: Data], meta: String? = CIFAR10Tests.classNames.joined(separator: "\n") + "\n") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cifar-test-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if let meta { try Data(meta.utf8).write(to: url.appendingPathComponent("batches.meta.txt")) }
        for (name, data) in files { try data.write(to: url.appendingPathComponent(name)) }
        return url
    }

    /// `count` records: label `i % 10`, pixel j of record i = (i·7 + j) mod 256.
    func records(_ count: Int, firstLabel: Int = 0) -> Data {
        var data = Data()
        for i in 0..<count {
            data.append(UInt8((firstLabel + i) % 10))
            data.append(contentsOf: (0..<3072).map { UInt8((i * 7 + $0) % 256) })
        }
        return data
    }

    @Test func readsRecordsAndNormalisesLikePyTorch() throws {
        let directory = try makeDirectory(["test_batch.bin": records(3, firstLabel: 4)])
        defer { try? FileManager.default.removeItem(at: directory) }
        let test = try CIFAR10(directory: directory, split: .test, layout: .init(trainRecordsPerFile: 3, testRecordsPerFile: 3))
        #expect(test.count == 3)
        #expect(test.classNames == CIFAR10Tests.classNames)
        #expect((0..<3).map { test.label(at: $0) } == [4, 5, 6])
        var inputs = [Float](repeating: 0, count: 2 * 3072)
        let indices: [Int32] = [2, 0]
        indices.withUnsafeBufferPointer { i in inputs.withUnsafeMutableBufferPointer { test.fillInputs(indices: i, into: $0.baseAddress!) } }
        // Record 2, pixel 0 is byte 14: (14/255 − 0.5)/0.5. Record 0, pixel 255 is byte 255 → 1; pixel 0 is 0 → −1.
        #expect(inputs[0] == (Float(14) / 255 - 0.5) / 0.5)
        #expect(inputs[3072] == -1)
        #expect(inputs[3072 + 255] == 1)
        // Channel planes: pixel 1024 of the record is the first green value.
        #expect(inputs[1024] == (Float((14 + 1024) % 256) / 255 - 0.5) / 0.5)
    }

    @Test func readsTheFiveTrainingFilesInOrder() throws {
        var files: [String: Data] = [:]
        for b in 1...5 { files["data_batch_\(b).bin"] = records(2, firstLabel: b) }
        let directory = try makeDirectory(files)
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = try CIFAR10(directory: directory, split: .train, layout: .init(trainRecordsPerFile: 2, testRecordsPerFile: 0))
        #expect(train.count == 10)
        #expect((0..<10).map { train.label(at: $0) } == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6])
    }

    @Test func rejectsTruncatedFilesBadLabelsAndMissingFiles() throws {
        var truncated = records(2)
        truncated.removeLast(100)
        let directory = try makeDirectory(["test_batch.bin": truncated])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: CIFAR10Error.badSize(directory.appendingPathComponent("test_batch.bin").path, 2 * 3073 - 100)) {
            try CIFAR10(directory: directory, split: .test)
        }
        var badLabel = records(2)
        badLabel[3073] = 12
        try badLabel.write(to: directory.appendingPathComponent("test_batch.bin"))
        #expect(throws: CIFAR10Error.badLabel(directory.appendingPathComponent("test_batch.bin").path, offset: 3073, value: 12)) {
            try CIFAR10(directory: directory, split: .test, layout: .init(trainRecordsPerFile: 2, testRecordsPerFile: 2))
        }
        #expect(throws: CIFAR10Error.missingFile(directory.appendingPathComponent("data_batch_1.bin").path)) {
            try CIFAR10(directory: directory, split: .train)
        }
        let noMeta = try makeDirectory(["test_batch.bin": records(1)], meta: nil)
        defer { try? FileManager.default.removeItem(at: noMeta) }
        #expect(throws: CIFAR10Error.self) { try CIFAR10(directory: noMeta, split: .test) }
        let shortMeta = try makeDirectory(["test_batch.bin": records(1)], meta: "cat\ndog\n")
        defer { try? FileManager.default.removeItem(at: shortMeta) }
        #expect(throws: CIFAR10Error.badMeta(shortMeta.appendingPathComponent("batches.meta.txt").path, "has 2 class names, expected 10")) {
            try CIFAR10(directory: shortMeta, split: .test)
        }
    }

    /// A file cut short on a record boundary is whole records, but not the layout's count: an
    /// error naming the file, not a smaller data set. The official layout is the default.
    @Test func refusesFilesWithAnotherRecordCountThanTheLayout() throws {
        var files: [String: Data] = ["test_batch.bin": records(3)]
        for b in 1...5 { files["data_batch_\(b).bin"] = records(b == 3 ? 1 : 2) }
        let directory = try makeDirectory(files)
        defer { try? FileManager.default.removeItem(at: directory) }
        let small = CIFAR10.Layout(trainRecordsPerFile: 2, testRecordsPerFile: 3)
        let batch3 = directory.appendingPathComponent("data_batch_3.bin").path
        #expect(throws: CIFAR10Error.badRecordCount(batch3, found: 1, expected: 2)) {
            try CIFAR10(directory: directory, split: .train, layout: small)
        }
        #expect(CIFAR10Error.badRecordCount(batch3, found: 1, expected: 2).description
            == "\(batch3): holds 1 records; the layout asked for has 2 per file (truncated?)")
        #expect(try CIFAR10(directory: directory, split: .test, layout: small).count == 3)

        // Without a layout, the official 10,000 per file is required.
        let test = directory.appendingPathComponent("test_batch.bin").path
        let official = #expect(throws: CIFAR10Error.self) { try CIFAR10(directory: directory, split: .test) }
        #expect(official == .badRecordCount(test, found: 3, expected: 10_000))
        #expect(official?.description == "\(test): holds 3 records; the CIFAR-10 layout has 10,000 per file (truncated?)")
        #expect(CIFAR10Error.badRecordCount(test, found: 9_999, expected: 10_000).description
            == "\(test): holds 9,999 records; the CIFAR-10 layout has 10,000 per file (truncated?)")
        #expect(CIFAR10.Layout.official.recordsPerFile(.train) == 10_000 && CIFAR10.Layout.official.recordsPerFile(.test) == 10_000)
    }

    @Test func subsetIsSeededAndDistinct() throws {
        let directory = try makeDirectory(["test_batch.bin": records(50)])
        defer { try? FileManager.default.removeItem(at: directory) }
        let test = try CIFAR10(directory: directory, split: .test, layout: .init(trainRecordsPerFile: 50, testRecordsPerFile: 50))
        let a = Subset(test, randomCount: 20, seed: 3), b = Subset(test, randomCount: 20, seed: 3)
        #expect(a.indices == b.indices)
        #expect(Set(a.indices).count == 20)
        #expect(a.label(at: 0) == test.label(at: Int(a.indices[0])))
    }

    /// Integration: one epoch on 10,000 real training images must beat 35 % on 2,000 test images.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CIFAR10_DIR"] != nil))
    func oneEpochOnRealDataBeatsThirtyFivePercent() throws {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["CIFAR10_DIR"]!)
        let train = Subset(try CIFAR10(directory: directory, split: .train), indices: Array(0..<10_000))
        let test = Subset(try CIFAR10(directory: directory, split: .test), indices: Array(0..<2_000))
        var generator = SeededGenerator(seed: 0)
        let network = Network(architecture: try SimpleCNN().architecture(), generator: &generator)
        let trainer = Trainer(network: network, optimizer: Adam(parameterCount: network.parameters.count), batchSize: 64, threads: 2)
        _ = try trainer.trainEpoch(on: train, generator: &generator)
        let accuracy = Evaluator(threads: 2).evaluate(trainer.network, on: test).accuracy
        #expect(accuracy > 35, "accuracy \(accuracy)%")
    }
}
