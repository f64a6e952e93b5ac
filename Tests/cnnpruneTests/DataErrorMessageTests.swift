import CNNDatasets
import CNNEngine
import Foundation
import Testing

/// The library's data set errors say what is wrong in its own terms; the command line's messages
/// name the flag to use instead (`--dataset`, `--test-fraction`, `--normalize`).
@Suite(.serialized) struct DataErrorMessageTests {
    /// Runs the built `cnnprune` with `arguments`; the first line of stderr.
    func firstErrorLine(_ arguments: [String]) throws -> (status: Int32, line: String) {
        let executable = CommandOutputTests.executable
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build cnnprune first: \(executable.path) is missing")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + ["--threads", "1"]
        var environment = ProcessInfo.processInfo.environment
        environment["CNNPRUNE_TEST_RECORDS_PER_FILE"] = nil
        process.environment = environment
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "")
    }

    func scratch() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-messages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    func model(in root: URL) throws -> String {
        let url = root.appendingPathComponent("model.safetensors")
        var generator = SeededGenerator(seed: 1)
        try Checkpoint.save(Network(architecture: try SimpleCNN().architecture(), generator: &generator), model: SimpleCNN(), to: url)
        return url.path
    }

    @Test func cifar100FilesReadAsCIFAR10NameTheDatasetFlag() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("c10")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for name in CIFAR10.Split.train.fileNames + CIFAR10.Split.test.fileNames { try Data(repeating: 1, count: 2 * 3074).write(to: data.appendingPathComponent(name)) }
        try (0..<10).map { "c\($0)" }.joined(separator: "\n").write(to: data.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
        let run = try firstErrorLine(["evaluate", "--model", try model(in: root), "--data", data.path])
        #expect(run.status != 0)
        #expect(run.line.contains("6148 bytes is not a whole number of 3,073-byte CIFAR-10 records"), "\(run.line)")
        #expect(run.line.contains("CIFAR-100 data? use --dataset cifar100; `cnnprune download --data \(data.path) --force` fetches a fresh copy"), "\(run.line)")
    }

    @Test func cifar10FilesReadAsCIFAR100NameTheDatasetFlag() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("c100")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for name in ["train.bin", "test.bin"] { try Data(repeating: 1, count: 3 * 3073).write(to: data.appendingPathComponent(name)) }
        try (0..<100).map { "f\($0)" }.joined(separator: "\n").write(to: data.appendingPathComponent("fine_label_names.txt"), atomically: true, encoding: .utf8)
        try (0..<20).map { "c\($0)" }.joined(separator: "\n").write(to: data.appendingPathComponent("coarse_label_names.txt"), atomically: true, encoding: .utf8)
        let run = try firstErrorLine(["evaluate", "--model", try model(in: root), "--dataset", "cifar100", "--data", data.path])
        #expect(run.status != 0)
        #expect(run.line.hasSuffix("CIFAR-10 data? use --dataset cifar10"), "\(run.line)")
    }

    @Test func imageFolderSettingsAreNamedByTheirFlags() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("images")
        for name in ["a", "b"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
            try Data([1]).write(to: folder.appendingPathComponent("\(name)/1.png"))
        }
        let model = try model(in: root)
        let split = try firstErrorLine(["evaluate", "--model", model, "--dataset", "folder", "--data", folder.path])
        #expect(split.line == "Error: \(folder.path): has no train/ and test/ subfolders; pass --test-fraction F to hold out a fraction of each class for testing")
        let empty = try firstErrorLine(["evaluate", "--model", model, "--dataset", "folder", "--data", folder.path, "--test-fraction", "0.01"])
        #expect(empty.line == "Error: \(folder.path): --test-fraction 0.01 leaves 2 training and 0 test images; both need at least one")
    }

    @Test func aBadNormalizationNamesTheFlag() throws {
        let run = try firstErrorLine(["evaluate", "--model", "m.safetensors", "--normalize", "0.5,x"])
        #expect(run.status != 0)
        #expect(run.line == "Error: --normalize '0.5,x': expected comma-separated numbers: MEAN,STD or M1,M2,M3,S1,S2,S3")
    }
}
