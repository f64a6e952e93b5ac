import CNNDatasets
import CNNEngine
import CNNExport
import Foundation
import SwiftProtobuf
import Testing

/// A layer that exists only in Swift code: it has no `LayerSpec`, so export must refuse it.
private struct Squash: Layer {
    private var count = 0
    mutating func prepare(inputShape: [Int]) throws -> [Int] {
        count = inputShape.reduce(1, *)
        return inputShape
    }
    func forward(_ b: LayerBuffers) {
        for i in 0..<(b.batch * count) { b.output[i] = b.input[i] / (1 + abs(b.input[i])) }
    }
    func backward(_ b: LayerBuffers, gradients: LayerGradientBuffers) {}
}

/// `cnnprune export`'s library: a network becomes an ONNX model whose structure (operators,
/// initializers, shapes, opset, dynamic batch, metadata) is checked here by decoding the bytes
/// with SwiftProtobuf; numerical agreement with onnxruntime is `scripts/onnx_check.py`'s job.
@Suite struct ONNXExportTests {
    /// conv → BN → ReLU → residual (strided main branch, projection shortcut) → dropout →
    /// global average pool → flatten → linear, on 3×16×16 inputs.
    static let residualGraph = ModelGraph(name: "tiny-residual", inputShape: [3, 16, 16], layers: [
        .convolution(name: "conv1", outputChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: false),
        .batchNorm(name: "bn1"), .relu,
        .residual(name: "layer1.0", main: [
            .convolution(name: "conv1", outputChannels: 6, kernelSize: 3, stride: 2, padding: 1, bias: false),
            .batchNorm(name: "bn1"), .relu,
            .convolution(name: "conv2", outputChannels: 6, kernelSize: 3, stride: 1, padding: 1, bias: false),
            .batchNorm(name: "bn2"),
        ], shortcut: [
            .convolution(name: "downsample.0", outputChannels: 6, kernelSize: 1, stride: 2, padding: 0, bias: false),
            .batchNorm(name: "downsample.1"),
        ], rectifiesOutput: true),
        .dropout(probability: 0.5), .globalAvgPool, .flatten,
        .linear(name: "fc", outputFeatures: 10),
    ])

    static func network(_ graph: ModelGraph) throws -> Network {
        var generator = SeededGenerator(seed: 7)
        return Network(architecture: try graph.sequential(), generator: &generator)
    }

    /// Exports, serialises and decodes again, as a reader of the `.onnx` file would see it.
    static func roundTrip(_ network: Network, normalization: Normalization? = Normalization(mean: 0.5, std: 0.5)) throws -> Onnx_ModelProto {
        let model = try ONNXExporter(normalization: normalization).model(of: network)
        let bytes = try ONNXModelWriter.serialized(model)
        return try Onnx_ModelProto(serializedBytes: bytes)
    }

    @Test func residualNetworkBecomesTheExpectedGraph() throws {
        let network = try Self.network(Self.residualGraph)
        let model = try Self.roundTrip(network)

        #expect(model.irVersion == 8)
        #expect(model.opsetImport.map { "\($0.domain):\($0.version)" } == [":17"])
        #expect(model.producerName == "cnnprune")
        #expect(model.graph.name == "tiny-residual")
        #expect(model.graph.node.map(\.opType) == [
            "Conv", "BatchNormalization", "Relu",
            "Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", // main branch
            "Conv", "BatchNormalization",                                         // projection shortcut
            "Add", "Relu", "GlobalAveragePool", "Flatten", "Gemm",                // no Dropout
        ])

        // Initializers: every parameter and running statistic under its state_dict name and
        // shape (not num_batches_tracked), the values bit for bit.
        let expected = (network.architecture.parameterEntries + network.architecture.stateEntries).filter { !$0.isInteger }
        #expect(Set(model.graph.initializer.map(\.name)) == Set(expected.map(\.name)))
        #expect(model.graph.initializer.count == expected.count)
        for entry in expected {
            let proto = try #require(model.graph.initializer.first { $0.name == entry.name })
            #expect(proto.dims == entry.shape.map(Int64.init), "\(entry.name)")
            #expect(proto.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue))
            let values = try network.tensor(named: entry.name).scalars
            let decoded = proto.rawData.withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            #expect(decoded == values, "\(entry.name)")
        }
        #expect(model.graph.initializer.contains { $0.name == "layer1.0.downsample.0.weight" && $0.dims == [6, 4, 1, 1] })
        #expect(model.graph.initializer.contains { $0.name == "fc.weight" && $0.dims == [10, 6] })

        // Input and output: float32, the batch a named dimension.
        let input = try #require(model.graph.input.first)
        #expect(model.graph.input.count == 1 && input.name == "input")
        #expect(input.type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue))
        #expect(input.type.tensorType.shape.dim.map(\.dimParam) == ["batch", "", "", ""])
        #expect(input.type.tensorType.shape.dim.dropFirst().map(\.dimValue) == [3, 16, 16])
        let output = try #require(model.graph.output.first)
        #expect(output.name == "logits")
        #expect(output.type.tensorType.shape.dim.first?.dimParam == "batch")
        #expect(output.type.tensorType.shape.dim.dropFirst().map(\.dimValue) == [10])

        // A well-formed dataflow: each value produced once, before it is read; the last node
        // produces the output; the sum reads the main branch's and the shortcut's BatchNorms.
        var available = Set(["input"] + model.graph.initializer.map(\.name))
        for node in model.graph.node {
            for name in node.input { #expect(available.contains(name), "\(node.name) reads '\(name)' before it exists") }
            for name in node.output { #expect(available.insert(name).inserted, "'\(name)' is produced twice") }
        }
        #expect(model.graph.node.last?.output == ["logits"])
        let add = try #require(model.graph.node.first { $0.opType == "Add" })
        #expect(add.input == ["layer1.0.bn2", "layer1.0.downsample.1"])

        // Attributes: the strided 3×3 convolution, the 1×1 projection, BatchNorm's eps, Gemm's transB.
        func attributes(_ name: String) throws -> [String: Onnx_AttributeProto] {
            let node = try #require(model.graph.node.first { $0.name == name })
            return Dictionary(uniqueKeysWithValues: node.attribute.map { ($0.name, $0) })
        }
        let strided = try attributes("layer1.0.conv1")
        #expect(strided["strides"]?.ints == [2, 2] && strided["pads"]?.ints == [1, 1, 1, 1] && strided["kernel_shape"]?.ints == [3, 3])
        let projection = try attributes("layer1.0.downsample.0")
        #expect(projection["kernel_shape"]?.ints == [1, 1] && projection["pads"]?.ints == [0, 0, 0, 0])
        #expect(try attributes("bn1")["epsilon"]?.f == 1e-5)
        #expect(try attributes("fc")["transB"]?.i == 1)
    }

    @Test func metadataRecordsNormalisationPerChannelAndTheGraph() throws {
        let model = try Self.roundTrip(try Self.network(Self.residualGraph), normalization: Normalization(mean: 0.5, std: 0.25))
        let properties = Dictionary(uniqueKeysWithValues: model.metadataProps.map { ($0.key, $0.value) })
        let recorded = try JSONDecoder().decode(Normalization.self, from: Data(try #require(properties[ONNXExporter.normalizationKey]).utf8))
        #expect(recorded == Normalization(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]))
        let graph = try ModelGraph.decode(Data(try #require(properties[Checkpoint.graphKey]).utf8))
        #expect(graph == Self.residualGraph)
        #expect(properties[ONNXExporter.inputDescriptionKey]?.contains("(pixel / 255 - mean[c]) / std[c]") == true)
        // Sorted keys: the same network gives the same bytes.
        #expect(model.metadataProps.map(\.key) == model.metadataProps.map(\.key).sorted())
        let again = try ONNXModelWriter.serialized(try ONNXExporter(normalization: Normalization(mean: 0.5, std: 0.25)).model(of: try Self.network(Self.residualGraph)))
        #expect(again == (try ONNXModelWriter.serialized(model)))
    }

    @Test func normalisationThatDoesNotFitTheChannelsIsRefused() throws {
        let network = try Self.network(Self.residualGraph)
        #expect(throws: ONNXExportError.normalizationMismatch(channels: 3, means: 2, deviations: 2)) {
            try ONNXExporter(normalization: Normalization(mean: [0.1, 0.2], std: [0.3, 0.4])).model(of: network)
        }
    }

    /// SimpleCNN (pruned widths, as `cnnprune prune` leaves them): max pooling, two Gemms, biases.
    @Test func prunedSimpleCNN() throws {
        let model = SimpleCNN(inputChannels: 3, imageSize: 32, conv1: 16, conv2: 13, fc1: 200, classes: 10)
        let onnx = try Self.roundTrip(try Self.network(model.graph))
        #expect(onnx.graph.node.map(\.opType) == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"])
        let dims = Dictionary(uniqueKeysWithValues: onnx.graph.initializer.map { ($0.name, $0.dims) })
        #expect(dims == ["conv1.weight": [16, 3, 3, 3], "conv1.bias": [16], "conv2.weight": [13, 16, 3, 3], "conv2.bias": [13],
                         "fc1.weight": [200, 13 * 8 * 8], "fc1.bias": [200], "fc2.weight": [10, 200], "fc2.bias": [10]])
        let pool = try #require(onnx.graph.node.first { $0.opType == "MaxPool" })
        #expect(pool.attribute.first { $0.name == "kernel_shape" }?.ints == [2, 2])
        #expect(pool.attribute.first { $0.name == "ceil_mode" }?.i == 0)
    }

    /// Every zoo architecture exports, with one initializer per tensor (less num_batches_tracked).
    @Test func everyZooArchitectureExports() throws {
        for name in ModelZoo.names {
            let network = try Self.network(try ModelZoo.graph(named: name, classes: 10, widthMultiplier: 0.125))
            let onnx = try Self.roundTrip(network)
            let tensors = (network.architecture.parameterEntries + network.architecture.stateEntries).filter { !$0.isInteger }
            // Besides the tensors, ReLU6's Clip shares two scalar initializers, its bounds 0 and 6.
            let clips = onnx.graph.node.contains { $0.opType == "Clip" } ? 2 : 0
            #expect(onnx.graph.initializer.count == tensors.count + clips, "\(name)")
            #expect(Set(tensors.map(\.name)).isSubset(of: Set(onnx.graph.initializer.map(\.name))), "\(name)")
            #expect(onnx.graph.node.last?.output == ["logits"], "\(name)")
            #expect(Set(onnx.graph.node.map(\.output.first!)).count == onnx.graph.node.count, "\(name): node outputs are unique")
        }
    }

    @Test func averagePoolAndResidualWithoutReLU() throws {
        let graph = ModelGraph(inputShape: [1, 9, 9], layers: [
            .convolution(name: "a", outputChannels: 2, kernelSize: 3, stride: 1, padding: 1, bias: true),
            .residual(name: "a", main: [.convolution(name: "b", outputChannels: 2, kernelSize: 3, stride: 1, padding: 1, bias: true)],
                      shortcut: [], rectifiesOutput: false),
            .avgPool(kernel: 3, stride: 2), .flatten, .linear(name: "fc", outputFeatures: 3),
        ])
        let onnx = try Self.roundTrip(try Self.network(graph), normalization: nil)
        #expect(onnx.graph.node.map(\.opType) == ["Conv", "Conv", "Add", "AveragePool", "Flatten", "Gemm"])
        // The identity shortcut adds the block's input; the block's name is taken by the conv
        // before it, so the sum's output gets another one.
        let add = try #require(onnx.graph.node.first { $0.opType == "Add" })
        #expect(add.input == ["a.b", "a"])
        #expect(add.output == ["a_2"])
        let pool = try #require(onnx.graph.node.first { $0.opType == "AveragePool" })
        #expect(pool.attribute.first { $0.name == "strides" }?.ints == [2, 2])
        #expect(!onnx.metadataProps.contains { $0.key == ONNXExporter.normalizationKey })
    }

    @Test func activationsBecomeTheirONNXOperators() throws {
        let graph = ModelGraph(inputShape: [1, 6, 6], layers: [
            .convolution(name: "conv", outputChannels: 2, kernelSize: 3, stride: 1, padding: 1, bias: true),
            .activation(.relu6), .activation(.leakyReLU(slope: 0.2)), .activation(.silu), .activation(.hardswish),
            .activation(.hardsigmoid), .activation(.relu6), .activation(.sigmoid), .flatten, .linear(name: "fc", outputFeatures: 3),
        ])
        let onnx = try Self.roundTrip(try Self.network(graph), normalization: nil)
        #expect(onnx.graph.node.map(\.opType) == ["Conv", "Clip", "LeakyRelu", "Sigmoid", "Mul", "HardSwish", "HardSigmoid", "Clip",
                                                  "Sigmoid", "Flatten", "Gemm"])
        // ReLU6's bounds are shared scalar initializers.
        let clips = onnx.graph.node.filter { $0.opType == "Clip" }
        #expect(clips.count == 2 && Array(clips[0].input.dropFirst()) == Array(clips[1].input.dropFirst()))
        let bounds = clips[0].input.dropFirst().map { name in onnx.graph.initializer.first { $0.name == name } }
        #expect(bounds.map { $0?.dims } == [[], []])
        #expect(bounds.map { $0.map { $0.rawData.withUnsafeBytes { $0.loadUnaligned(as: Float.self) } } } == [0, 6])
        // SiLU multiplies the input by its sigmoid.
        let mul = try #require(onnx.graph.node.first { $0.opType == "Mul" })
        let gate = try #require(onnx.graph.node.first { $0.opType == "Sigmoid" })
        #expect(mul.input == [gate.input[0], gate.output[0]])
        let leaky = try #require(onnx.graph.node.first { $0.opType == "LeakyRelu" })
        #expect(leaky.attribute.first { $0.name == "alpha" }?.f == 0.2)
        let hard = try #require(onnx.graph.node.first { $0.opType == "HardSigmoid" })
        #expect(hard.attribute.first { $0.name == "alpha" }?.f == Float(1.0 / 6))
        #expect(hard.attribute.first { $0.name == "beta" }?.f == 0.5)
    }

    @Test func layerWithoutDescriptionIsNamedInTheError() throws {
        let architecture = try Sequential(inputShape: [3, 8, 8], layers: [
            Conv2D(name: "conv1", inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1),
            Residual(name: "block", main: [Squash()]),
            Flatten(), Linear(name: "fc", inputFeatures: 256, outputFeatures: 10),
        ])
        var generator = SeededGenerator(seed: 1)
        let network = Network(architecture: architecture, generator: &generator)
        let error = try #require(throws: ONNXExportError.self) { try ONNXExporter().model(of: network) }
        #expect(error == .unsupportedLayer(path: "layers[1].main[0]", layer: "Squash",
                                           reason: "it has no architecture description (a layer defined only in Swift code)"))
        #expect(error.description == "layers[1].main[0] (Squash): cannot be exported to ONNX: it has no architecture description (a layer defined only in Swift code)")
    }

    @Test func networkOfOnlyDropoutHasNothingToExport() throws {
        let network = try Self.network(ModelGraph(inputShape: [2, 4, 4], layers: [.dropout(probability: 0.1)]))
        #expect(throws: ONNXExportError.emptyNetwork) { try ONNXExporter().model(of: network) }
    }

    @Test func writingIsAtomicAndFailuresLeaveNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("model.onnx")
        func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() }

        // An export that fails writes nothing, and an existing file stays as it was.
        try Data("old".utf8).write(to: target)
        let unsupported = Network(architecture: try Sequential(inputShape: [1, 4, 4], layers: [Squash()]), parameters: [])
        #expect(throws: ONNXExportError.self) { try ONNXModelWriter.write(try ONNXExporter().model(of: unsupported), to: target) }
        #expect(try contents() == ["model.onnx"])
        #expect(try Data(contentsOf: target) == Data("old".utf8))

        // A write that fails (the target is a folder) leaves no temporary file behind.
        let model = try ONNXExporter().model(of: try Self.network(Self.residualGraph))
        let blocked = folder.appendingPathComponent("blocked.onnx")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: false)
        let error = try #require(throws: ONNXExportError.self) { try ONNXModelWriter.write(model, to: blocked) }
        #expect(error.description.contains("blocked.onnx"))
        #expect(try contents() == ["blocked.onnx", "model.onnx"])

        // A successful write replaces the file with the whole model.
        try ONNXModelWriter.write(model, to: target)
        #expect(try contents() == ["blocked.onnx", "model.onnx"])
        let decoded = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: target))
        #expect(decoded == model)
    }
}
