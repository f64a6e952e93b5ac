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

    /// `file` with `name`'s dtype in the header replaced by `dtype` (same data bytes).
    func relabelled(_ file: Data, _ name: String, as dtype: String) throws -> Data {
        let length = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try #require(JSONSerialization.jsonObject(with: file.subdata(in: 8..<(8 + length))) as? [String: Any])
        var entry = try #require(header[name] as? [String: Any])
        entry["dtype"] = dtype
        header[name] = entry
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + file.subdata(in: (8 + length)..<file.count)
    }

    /// Float weights relabelled as integers would load as the integers their bits spell:
    /// refused, naming the file, the tensor and both kinds. The file as written still loads.
    @Test func refusesFloatWeightsRelabelledAsIntegers() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = SimpleCNN(conv1: 2, conv2: 3, fc1: 4)
        var generator = SeededGenerator(seed: 6)
        let network = Network(architecture: try model.architecture(), generator: &generator)
        let url = directory.appendingPathComponent("m.safetensors")
        try Checkpoint.save(network, to: url)
        #expect(try Checkpoint.loadModel(from: url).network.parameters == network.parameters)
        try relabelled(Data(contentsOf: url), "conv1.weight", as: "I32").write(to: url)
        do {
            _ = try Checkpoint.loadModel(from: url)
            Issue.record("conv1.weight stored as I32 was loaded")
        } catch let error as CheckpointError {
            #expect(error.description == "\(url.path): tensor 'conv1.weight' is stored as I32, but the architecture holds it as floating-point")
        }
    }

    /// Weights written as I64 (rounded to whole numbers) are refused too; a counter the
    /// architecture holds as an integer may come as floats only with whole values.
    @Test func checksWhichTensorsAreIntegers() throws {
        let graph = try ModelZoo.graph(named: "resnet20", classes: 3, widthMultiplier: 0.125)
        var generator = SeededGenerator(seed: 7)
        let network = Network(architecture: try graph.sequential(), generator: &generator)
        let written = Checkpoint.safeTensors(of: network)
        let counter = try #require(network.architecture.stateEntries.first { $0.isInteger }).name

        var weightsAsIntegers = written
        weightsAsIntegers.integerTensors.insert("fc.weight")
        let relabelled = #expect(throws: CheckpointError.self) {
            try Checkpoint.network(from: SafeTensors(data: weightsAsIntegers.encoded()), fallback: nil)
        }
        #expect(relabelled?.reason == "tensor 'fc.weight' is stored as I64, but the architecture holds it as floating-point")

        var fractionalCounter = written
        fractionalCounter.integerTensors.remove(counter)
        fractionalCounter.tensors[counter] = Tensor(shape: written.tensors[counter]!.shape, scalars: [2.5])
        let fractional = #expect(throws: CheckpointError.self) {
            try Checkpoint.network(from: SafeTensors(data: fractionalCounter.encoded()), fallback: nil)
        }
        #expect(fractional?.reason == "tensor '\(counter)' is stored as F32 with the non-integral value 2.5, but the architecture holds it as an integer")

        var wholeCounter = fractionalCounter
        wholeCounter.tensors[counter] = Tensor(shape: written.tensors[counter]!.shape, scalars: [3])
        let loaded = try Checkpoint.network(from: SafeTensors(data: wholeCounter.encoded()), fallback: nil).0
        #expect(try loaded.tensor(named: counter).scalars == [3])
    }
}
