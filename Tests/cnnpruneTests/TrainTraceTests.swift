import CNNDatasets
import CNNEngine
import Foundation
import Testing

/// `cnnprune train --trace` (hidden, for the PyTorch replay in `scripts/torch_interop.py`):
/// the file holds the run's real initial weights, batches and losses — checked by replaying
/// the recorded batches with the engine's `Trainer` from the recorded start, bit for bit.
@Suite(.serialized) struct TrainTraceTests {
    @Test func traceReplaysBitForBit() throws {
        let scratch = try CommandOutputTests.Scratch()
        let trace = scratch.root.appendingPathComponent("trace.safetensors")
        let output = scratch.root.appendingPathComponent("traced.safetensors")
        // 200 training images, batch 16: 13 steps per epoch (the last of 8), so 15 steps reach epoch 2.
        let run = try CommandOutputTests().cnnprune(["train", "--data", scratch.data.path, "--epochs", "2", "--batch-size", "16",
                                                     "--seed", "3", "--output", output.path, "--trace", trace.path,
                                                     "--trace-steps", "15", "--trace-at", "1,5,15,99"])
        #expect(run.status == 0, "\(run.stderr)")
        let file = try SafeTensors(contentsOf: trace)
        let sizes = try #require(file.tensors["batch_sizes"]).scalars.map(Int.init)
        #expect(sizes == Array(repeating: 16, count: 12) + [8, 16, 16])
        let indices = try #require(file.tensors["indices"]).scalars.map(Int32.init)
        #expect(indices.count == sizes.reduce(0, +))
        #expect(Set(indices[0..<200]) == Set(0..<200), "the first epoch's batches are a permutation")
        let json = try #require(file.metadata["cnnprune.trace"])
        // JSONDecoder, not JSONSerialization: the latter rounds some doubles on Linux.
        let summary = try JSONDecoder().decode(Summary.self, from: Data(json.utf8))
        #expect(summary.saved_steps == [1, 5, 15])
        #expect(summary.batch_size == 16 && summary.steps == 15 && summary.seed == 3)
        let losses = summary.loss
        #expect(losses.count == 15)

        // The initial weights are those of a fresh SimpleCNN with seed 3.
        let architecture = try SimpleCNN().architecture()
        var generator = SeededGenerator(seed: 3)
        let fresh = Network(architecture: architecture, generator: &generator)
        var initial = [Float]()
        for entry in architecture.parameterEntries { initial += try #require(file.tensors["initial.\(entry.name)"]).scalars }
        #expect(initial == fresh.parameters)

        // Replaying the recorded batches (one thread, as the command ran) gives the recorded
        // losses and parameters exactly.
        let train = try CIFAR10(directory: scratch.data, split: .train, layout: CommandOutputTests.Scratch.layout)
        let trainer = Trainer(network: fresh, optimizer: Adam(parameterCount: fresh.parameters.count, learningRate: 0.001),
                              batchSize: 16, threads: 1)
        var offset = 0
        for (step, size) in sizes.enumerated() {
            let batch = Array(indices[offset..<(offset + size)])
            offset += size
            let loss = batch.withUnsafeBufferPointer { trainer.step(data: train, indices: $0) } / Double(size)
            #expect(loss == losses[step], "step \(step + 1)")
            if [1, 5, 15].contains(step + 1) {
                var saved = [Float]()
                for entry in architecture.parameterEntries { saved += try #require(file.tensors["step\(step + 1).\(entry.name)"]).scalars }
                #expect(saved == trainer.network.parameters, "parameters after step \(step + 1)")
            }
        }
    }

    /// The trace's `cnnprune.trace` metadata.
    struct Summary: Decodable {
        var steps: Int
        var batch_size: Int
        var seed: UInt64
        var saved_steps: [Int]
        var loss: [Double]
    }

    @Test func traceFlagsAreValidated() throws {
        let scratch = try CommandOutputTests.Scratch()
        let bad = try CommandOutputTests().cnnprune(["train", "--data", scratch.data.path, "--trace", "/dev/null", "--trace-at", "1,x"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--trace-at"))
    }
}
