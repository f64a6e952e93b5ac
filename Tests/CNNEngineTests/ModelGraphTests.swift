import CNNEngine
import Foundation
import Testing

/// Architectures as data: the JSON format, the zoo, checkpoints of every architecture and the
/// errors bad architecture files get.
@Suite struct ModelGraphTests {
    @Test func jsonRoundTripAndBuild() throws {
        for name in ModelZoo.names {
            let graph = try ModelZoo.graph(named: name, classes: 7, widthMultiplier: 0.25)
            let decoded = try ModelGraph.decode(Data(graph.jsonString().utf8))
            #expect(decoded == graph)
            #expect(decoded.name == name)
            let architecture = try decoded.sequential()
            #expect(architecture.graph == graph, "\(name): the bound layers describe the same graph")
            #expect(architecture.outputShape == [7])
        }
    }

    /// Parameter counts computed by hand from the definitions.
    @Test func zooSizes() throws {
        // ResNet-20: stem 3·16·9 + BN; per stage 3 blocks of two 3×3 convs + BNs; projections in stages 2, 3; fc 64·10 + 10.
        func bn(_ c: Int) -> Int { 2 * c }
        var expected = 3 * 16 * 9 + bn(16)
        for (input, width) in [(16, 16), (16, 32), (32, 64)] {
            expected += input * width * 9 + bn(width) + width * width * 9 + bn(width)       // first block
            expected += 2 * (width * width * 9 + bn(width) + width * width * 9 + bn(width)) // two more
            if input != width { expected += input * width + bn(width) }                     // downsample
        }
        expected += 64 * 10 + 10
        let resnet20 = try ModelZoo.graph(named: "resnet20").sequential()
        #expect(resnet20.parameterCount == expected)
        #expect(resnet20.parameterEntries.contains { $0.name == "layer3.2.bn2.bias" })
        #expect(resnet20.parameterEntries.contains { $0.name == "layer2.0.downsample.0.weight" && $0.shape == [32, 16, 1, 1] })
        #expect(!resnet20.parameterEntries.contains { $0.name.hasPrefix("layer1.0.downsample") })
        let resnet56 = try ModelZoo.graph(named: "resnet56").sequential()
        #expect(resnet56.parameterEntries.contains { $0.name == "layer3.8.conv2.weight" })
        #expect(!resnet56.parameterEntries.contains { $0.name.hasPrefix("layer3.9") })
        // VGG-11-BN: convs with bias + BN, then Linear(512, 10).
        var vgg = 0, input = 3
        for width in [64, 128, 256, 256, 512, 512, 512, 512] {
            vgg += input * width * 9 + width + bn(width)
            input = width
        }
        vgg += 512 * 10 + 10
        let vgg11 = try ModelZoo.graph(named: "vgg11-bn").sequential()
        #expect(vgg11.parameterCount == vgg)
        #expect(vgg11.parameterEntries.first?.name == "features.0.weight")
        #expect(vgg11.stateEntries.first?.name == "features.1.running_mean")
        #expect(vgg11.parameterEntries.contains { $0.name == "features.25.weight" && $0.shape == [512, 512, 3, 3] })
        #expect(vgg11.parameterEntries.last?.name == "classifier.bias")
    }

    /// torchvision's networks: the parameter counts torchvision 0.29 reports
    /// (`sum(p.numel() for p in model.parameters())` for `resnet18`, `resnet34` and
    /// `mobilenet_v2` with `weights=None, num_classes=10`, and `mobilenet_v2` with `width_mult`
    /// 0.25 and 0.125 and 7 classes), and their state_dict names and shapes.
    @Test func torchvisionSizesAndNames() throws {
        let counts: [(String, Double, Int, Int)] = [("resnet18", 1, 10, 11_181_642), ("resnet34", 1, 10, 21_289_802), ("mobilenetv2", 1, 10, 2_236_682),
                                                    ("mobilenetv2", 0.25, 7, 247_079), ("mobilenetv2", 0.125, 7, 120_279)]
        for (name, multiplier, classes, expected) in counts {
            let architecture = try ModelZoo.graph(named: name, classes: classes, widthMultiplier: multiplier).sequential()
            #expect(architecture.parameterCount == expected, "\(name) × \(multiplier)")
        }
        let resnet18 = try ModelZoo.graph(named: "resnet18").sequential()
        #expect(resnet18.parameterEntries.first.map { [$0.name: $0.shape] } == ["conv1.weight": [64, 3, 7, 7]])
        #expect(resnet18.parameterEntries.contains { $0.name == "layer4.1.bn2.weight" && $0.shape == [512] })
        #expect(resnet18.shapes[4] == [64, 8, 8], "the stem and the max-pool quarter a 32×32 image")
        let mobilenet = try ModelZoo.graph(named: "mobilenetv2").sequential()
        let shapes = Dictionary(uniqueKeysWithValues: mobilenet.parameterEntries.map { ($0.name, $0.shape) })
        #expect(shapes["features.0.0.weight"] == [32, 3, 3, 3])
        #expect(shapes["features.1.conv.0.0.weight"] == [32, 1, 3, 3], "t = 1: the depthwise convolution first")
        #expect(shapes["features.1.conv.1.weight"] == [16, 32, 1, 1])
        #expect(shapes["features.3.conv.1.0.weight"] == [144, 1, 3, 3])
        #expect(shapes["features.17.conv.3.weight"] == [320])
        #expect(shapes["features.18.0.weight"] == [1280, 320, 1, 1])
        #expect(shapes["classifier.1.weight"] == [10, 1280])
        #expect(mobilenet.stateEntries.contains { $0.name == "features.16.conv.2.running_mean" } == false, "conv.2 is the projection")
        #expect(mobilenet.stateEntries.contains { $0.name == "features.16.conv.3.running_mean" })
    }

    @Test func simpleCNNGraphIsTheExercisesNetwork() throws {
        let model = SimpleCNN()
        #expect(SimpleCNN(graph: model.graph) == model)
        #expect(SimpleCNN(graph: try ModelZoo.graph(named: "resnet20")) == nil)
        #expect(try ModelZoo.graph(named: "simplecnn") == model.graph)
        #expect(try model.architecture().parameterCount == 532_202)
    }

    @Test func checkpointsOfEveryArchitectureRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-graph-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ModelZoo.names {
            let graph = try ModelZoo.graph(named: name, classes: 5, widthMultiplier: 0.125)
            var generator = SeededGenerator(seed: 40)
            var network = Network(architecture: try graph.sequential(), generator: &generator)
            for i in network.state.indices { network.state[i] = Float(i % 7) }
            let url = directory.appendingPathComponent("\(name).safetensors")
            try Checkpoint.save(network, to: url)
            let loaded = try Checkpoint.loadModel(from: url)
            #expect(loaded.graph == graph)
            #expect(loaded.network.parameters == network.parameters)
            #expect(loaded.network.state == network.state)
            // Written as PyTorch would: no metadata at all, num_batches_tracked as I64.
            var bare = Checkpoint.safeTensors(of: network)
            bare.metadata = [:]
            let file = try SafeTensors(data: bare.encoded())
            #expect(file.integerTensors == Set(network.architecture.stateEntries.filter(\.isInteger).map(\.name)))
            let (inferred, inferredGraph) = try Checkpoint.network(from: file, fallback: nil)
            #expect(inferredGraph == graph, "\(name) recognised from its tensors")
            #expect(inferred.parameters == network.parameters && inferred.state == network.state)
        }
    }

    @Test func checkpointsWithMismatchedTensorsAreRejected() throws {
        let graph = try ModelZoo.graph(named: "resnet20", widthMultiplier: 0.25)
        var generator = SeededGenerator(seed: 41)
        let network = Network(architecture: try graph.sequential(), generator: &generator)
        var file = Checkpoint.safeTensors(of: network)
        file.tensors["layer1.0.bn1.running_var"] = Tensor(shape: [5], repeating: 1)
        #expect(throws: CheckpointError.self) { try Checkpoint.network(from: file, fallback: nil) }
        file = Checkpoint.safeTensors(of: network)
        file.tensors["layer9.0.conv1.weight"] = Tensor(shape: [1], repeating: 1)
        let error = #expect(throws: CheckpointError.self) { try Checkpoint.network(from: file, fallback: nil) }
        #expect(error?.reason.contains("layer9.0.conv1.weight") == true)
        file = Checkpoint.safeTensors(of: network)
        file.tensors["fc.weight"] = nil
        #expect(throws: CheckpointError.self) { try Checkpoint.network(from: file, fallback: nil) }
    }

    func message(_ json: String) -> String {
        do {
            let graph = try ModelGraph.decode(Data(json.utf8))
            _ = try graph.sequential()
            return "accepted"
        } catch let error as ModelGraphError {
            return error.description
        } catch let error as EngineError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func badArchitectureFilesGetOneLineNamingTheLayer() {
        let head = #"{"input": [3, 8, 8], "layers": ["#
        #expect(message(head + #"{"type": "conv3d", "name": "c", "out": 4, "kernel": 3}]}"#).contains("layers[0]"))
        #expect(message(head + #"{"type": "conv3d", "name": "c", "out": 4, "kernel": 3}]}"#).contains("unknown layer type 'conv3d'"))
        #expect(message(head + #"{"type": "conv", "name": "c", "kernel": 3}]}"#).contains("missing field 'out'"))
        #expect(message(head + #"{"type": "conv", "name": "c", "out": 100000000, "kernel": 3}]}"#).contains("(conv 'c')"))
        #expect(message(head + #"{"type": "conv", "name": "c", "out": 4, "kernel": 30}]}"#).contains("does not fit"))
        #expect(message(head + #"{"type": "linear", "name": "fc", "out": 4}]}"#).contains("flatten"))
        #expect(message(head + #"{"type": "residual", "name": "r", "main": [{"type": "conv", "name": "c", "out": 5, "kernel": 1}]}]}"#).contains("must match"))
        #expect(message(head + #"{"type": "batchnorm", "name": ""}]}"#).contains("name"))
        #expect(message(#"{"input": [3, 8], "layers": []}"#).contains("input shape"))
        #expect(message("[1, 2").contains("JSON"))
        #expect(message(head + #"{"type": "conv", "name": "a", "out": 4, "kernel": 1}, {"type": "conv", "name": "a", "out": 4, "kernel": 1}]}"#).contains("two tensors named 'a.weight'"))
        // Absurd depth: nested blocks and too many layers.
        var nested = #"{"type": "relu"}"#
        for i in 0..<6 { nested = #"{"type": "residual", "name": "r\#(i)", "main": [\#(nested)]}"# }
        #expect(message(head + nested + "]}").contains("nested"))
        let many = Array(repeating: #"{"type": "relu"}"#, count: 2_001).joined(separator: ",")
        #expect(message(head + many + "]}").contains("more than 2000 layers"))
        #expect(message(head + #"{"type": "relu"}, {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 4}]}"#) == "accepted")
    }
}
