import CNNEngine
import Foundation
import Testing

/// Checkpoints: PyTorch names, widths in metadata, files without metadata, and wrong contents.
@Suite struct CheckpointTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-checkpoint-\(UInt64.random(in: 0...UInt64.max))")

    @Test func savesAndLoadsAnyWidths() throws {
        let model = SimpleCNN(conv1: 5, conv2: 7, fc1: 11)
        var generator = SeededGenerator(seed: 1)
        let network = Network(architecture: try model.architecture(), generator: &generator)
        let url = directory.appendingPathComponent("m.safetensors")
        try Checkpoint.save(network, model: model, to: url)
        let loaded = try Checkpoint.load(from: url)
        #expect(loaded.model == model)
        #expect(loaded.network.parameters == network.parameters)
        #expect(loaded.metadata[Checkpoint.architectureKey] != nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(leftovers == ["m.safetensors"], "no temporary file is left behind")
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func fileWithoutMetadataIsReadAsTheSimpleCNN() throws {
        var generator = SeededGenerator(seed: 2)
        let network = Network(architecture: try SimpleCNN().architecture(), generator: &generator)
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in network.namedTensors { tensors[name] = tensor }
        let (loaded, model) = try Checkpoint.network(from: SafeTensors(tensors: tensors))
        #expect(model == SimpleCNN())
        #expect(loaded.parameters == network.parameters)
    }

    @Test func rejectsMissingExtraAndMisshapenTensors() throws {
        var generator = SeededGenerator(seed: 3)
        let network = Network(architecture: try SimpleCNN(conv1: 2, conv2: 3, fc1: 4).architecture(), generator: &generator)
        let good = Checkpoint.safeTensors(of: network, model: SimpleCNN(conv1: 2, conv2: 3, fc1: 4))
        var missing = good
        missing.tensors["fc2.bias"] = nil
        #expect(throws: CheckpointError.self) { try Checkpoint.network(from: missing) }
        var extra = good
        extra.tensors["fc3.weight"] = Tensor(shape: [1], scalars: [0])
        #expect(throws: CheckpointError.self) { try Checkpoint.network(from: extra) }
        var misshapen = good
        misshapen.tensors["conv2.bias"] = Tensor(shape: [4], scalars: [0, 0, 0, 0])
        do {
            _ = try Checkpoint.network(from: misshapen)
            Issue.record("misshapen tensor accepted")
        } catch {
            #expect("\(error)".contains("conv2.bias"))
        }
        var nonFinite = good
        nonFinite.tensors["fc2.bias"]!.scalars[0] = .nan
        #expect(throws: CheckpointError.self) { try Checkpoint.network(from: nonFinite) }
    }
}
