import CNNEngine
import Foundation
import Testing

/// `InputPath` and `ModelFile`: a path that is not a readable file says what it is instead, and
/// a model file loads with its architecture, or names what is wrong.
@Suite struct ModelFileTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-modelfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func pathsThatAreNotReadableFilesSayWhatTheyAre() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        func reason(_ path: String) -> String? {
            do { try InputPath.check(path, what: "model file"); return nil } catch { return (error as? InputPathError)?.reason }
        }
        #expect(reason(root.appendingPathComponent("none").path) == "no such model file")
        #expect(reason(root.path) == "is a folder, not a model file")
        let dangling = root.appendingPathComponent("dangling")
        try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: root.appendingPathComponent("gone").path)
        #expect(reason(dangling.path) == "a symbolic link to a missing file, not a model file")
        let loop = root.appendingPathComponent("loop")
        try FileManager.default.createSymbolicLink(atPath: loop.path, withDestinationPath: loop.path)
        #expect(reason(loop.path) == "too many levels of symbolic links (a link loop?)")
        let file = root.appendingPathComponent("file")
        try Data().write(to: file)
        #expect(reason(file.path) == nil)
        #expect(InputPathError(path: "p", reason: "r").description == "p: r")
    }

    @Test func aModelLoadsWithItsArchitectureAndAnythingElseIsNamed() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let model = SimpleCNN(inputChannels: 3, imageSize: 8, conv1: 4, conv2: 8, fc1: 16, classes: 4)
        var generator = SeededGenerator(seed: 1)
        let network = Network(architecture: try model.architecture(), generator: &generator)
        let url = root.appendingPathComponent("model.safetensors")
        try Checkpoint.save(network, model: model, to: url, metadata: ["note": "kept"])
        let loaded = try ModelFile.load(url.path)
        #expect(loaded.network.parameters == network.parameters && loaded.simpleCNN == model && loaded.metadata["note"] == "kept")

        #expect(throws: InputPathError(path: root.path, reason: "is a folder, not a model file")) { _ = try ModelFile.load(root.path) }
        let text = root.appendingPathComponent("notes.safetensors")
        try Data("not a model".utf8).write(to: text)
        #expect { _ = try ModelFile.load(text.path) } throws: { ($0 as? CheckpointError)?.file == text.path }
    }
}
