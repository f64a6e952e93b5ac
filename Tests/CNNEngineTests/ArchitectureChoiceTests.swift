@testable import CNNEngine
import Foundation
import Testing

/// `ArchitectureChoice`: the network to build, by zoo name or architecture file, and its errors.
@Suite struct ArchitectureChoiceTests {
    @Test func defaultsToTheSimpleCNNForTheDataClasses() throws {
        let choice = ArchitectureChoice()
        #expect(!choice.isGiven)
        #expect(try choice.fallback(inputShape: [3, 32, 32], defaultClasses: 10) == nil)
        let graph = try choice.graph(inputShape: [3, 32, 32], defaultClasses: 7)
        #expect(SimpleCNN(graph: graph)?.classes == 7)
        let named = ArchitectureChoice(name: "resnet20", classes: 5, widthMultiplier: 0.5)
        #expect(named.isGiven)
        #expect(try named.graph(inputShape: [3, 32, 32], defaultClasses: 10) == ModelZoo.graph(named: "resnet20", classes: 5, widthMultiplier: 0.5))
        let network = try named.network(inputShape: [3, 32, 32], defaultClasses: 10, seed: 3)
        #expect(network.architecture.outputShape == [5])
        #expect(throws: ModelZooError.self) { try ArchitectureChoice(name: "nope").graph(inputShape: [3, 32, 32], defaultClasses: 10) }
    }

    @Test func architectureFilesAreCheckedAndNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a.json")
        try Data(SimpleCNN().graph.jsonString().utf8).write(to: file)
        let choice = ArchitectureChoice(file: file.path)
        #expect(try choice.graph(inputShape: [3, 32, 32], defaultClasses: 10).inputShape == [3, 32, 32])
        #expect(throws: ArchitectureError(subject: file.path, reason: "the architecture takes [3, 32, 32] inputs, the data set's images are [1, 28, 28]")) {
            try choice.graph(inputShape: [1, 28, 28], defaultClasses: 10)
        }
        let bad = folder.appendingPathComponent("bad.json")
        try Data("{".utf8).write(to: bad)
        let error = #expect(throws: ArchitectureError.self) { try ArchitectureChoice.readGraph(bad.path) }
        #expect(error?.subject == bad.path)
        #expect(throws: InputPathError.self) { try ArchitectureChoice.readGraph(folder.appendingPathComponent("none.json").path) }
    }
}
