import CNNDatasets
import CNNEngine
import Foundation
import Testing

/// `train`'s recipe flags (and resuming such a run) and `evaluate --predictions` / `--json`'s
/// confusion matrix, run through the built executable on the tiny data set of `CommandOutputTests`.
@Suite(.serialized) struct RecipeCommandTests {
    let commands = CommandOutputTests()

    @Test func evaluateWritesPredictionsAndAConfusionMatrix() throws {
        let scratch = try CommandOutputTests.Scratch()
        let csv = scratch.root.appendingPathComponent("out/predictions.csv")
        let run = try commands.cnnprune(["evaluate", "--model", scratch.model.path, "--data", scratch.data.path, "--json",
                                         "--predictions", csv.path])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        for key in ["accuracy", "correct", "total", "per_class"] { #expect(document[key] != nil, "\(key)") }
        let matrix = try #require(document["confusion_matrix"] as? [[Int]])
        #expect(matrix.count == 10 && matrix.allSatisfy { $0.count == 10 })
        #expect(matrix.joined().reduce(0, +) == 60)
        #expect((0..<10).map { matrix[$0][$0] }.reduce(0, +) == document["correct"] as? Int)

        // Every row against a direct forward pass of the saved model over the test images.
        let test = try CIFAR10(directory: scratch.data, split: .test, layout: CommandOutputTests.Scratch.layout)
        let (network, _, _) = try Checkpoint.load(from: scratch.model)
        var images = Tensor(shape: [60, 3, 32, 32])
        let indices = (0..<60).map(Int32.init)
        indices.withUnsafeBufferPointer { i in images.scalars.withUnsafeMutableBufferPointer { test.fillInputs(indices: i, into: $0.baseAddress!) } }
        let logits = network(images)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "index,label,predicted," + (0..<10).map { "logit_\($0)" }.joined(separator: ","))
        #expect(lines.count == 61)
        var predictedPerLabel = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for (row, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",")
            #expect(Int(fields[0]) == row && Int(fields[1]) == test.label(at: row))
            for j in 0..<10 { #expect(abs(Float(fields[3 + j])! - logits[row, j]) <= 1e-4, "row \(row)") }
            predictedPerLabel[test.label(at: row)][Int(fields[2])!] += 1
        }
        #expect(predictedPerLabel == matrix)

        let folder = try commands.cnnprune(["evaluate", "--model", scratch.model.path, "--data", scratch.data.path,
                                            "--predictions", scratch.root.path])
        #expect(folder.status == 1)
        #expect(folder.stderr.split(separator: "\n").count == 1 && folder.stderr.contains("it is a folder"), "\(folder.stderr)")
    }

    @Test func aRecipeRunResumesBitForBit() throws {
        let scratch = try CommandOutputTests.Scratch()
        let recipe = ["--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--weight-decay", "0.0005", "--lr", "0.05",
                      "--lr-schedule", "cosine", "--warmup-epochs", "1", "--augment", "--batch-size", "32", "--data", scratch.data.path]
        let straight = scratch.root.appendingPathComponent("straight.safetensors")
        let checkpoint = scratch.root.appendingPathComponent("run.checkpoint.safetensors")
        let a = try commands.cnnprune(["train", "--epochs", "3", "--output", straight.path] + recipe)
        #expect(a.status == 0, "\(a.stderr)")
        let b = try commands.cnnprune(["train", "--epochs", "3", "--checkpoint-every", "2", "--checkpoint", checkpoint.path,
                                       "--output", scratch.root.appendingPathComponent("interrupted.safetensors").path] + recipe)
        #expect(b.status == 0, "\(b.stderr)")
        let file = try SafeTensors(contentsOf: checkpoint)
        #expect(file.tensors[OptimizerSettings.momentumBufferName] != nil)
        let progress = try JSONDecoder().decode(TrainingProgress.self, from: Data(try #require(file.metadata[TrainingRun.progressKey]).utf8))
        #expect(progress.epoch == 2 && progress.optimizer?.kind == .sgd && progress.schedule?.shape == .cosine && progress.augmentation != nil)
        let resumedURL = scratch.root.appendingPathComponent("resumed.safetensors")
        let c = try commands.cnnprune(["train", "--resume", checkpoint.path, "--epochs", "3", "--data", scratch.data.path,
                                       "--output", resumedURL.path])
        #expect(c.status == 0, "\(c.stderr)")
        let resumed = try Checkpoint.load(from: resumedURL).network.parameters
        #expect(resumed == (try Checkpoint.load(from: straight).network.parameters))
    }

    @Test func pruneFineTunesWithTheRecipeFlags() throws {
        let scratch = try CommandOutputTests.Scratch()
        let output = scratch.root.appendingPathComponent("pruned.safetensors")
        let run = try commands.cnnprune(["prune", "--model", scratch.model.path, "--data", scratch.data.path, "--layer", "conv2",
                                         "--k", "8", "--finetune-epochs", "1", "--optimizer", "sgd", "--momentum", "0.9",
                                         "--lr-schedule", "cosine", "--augment", "--timing-runs", "1", "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Checkpoint.load(from: output).model.conv2 == 24)
        let bad = try commands.cnnprune(["prune", "--model", scratch.model.path, "--data", scratch.data.path, "--k", "8",
                                         "--finetune-epochs", "1", "--warmup-epochs", "1", "--output", output.path])
        #expect(bad.status == 64 && bad.stderr.contains("--warmup-epochs (1) must be below --finetune-epochs (1)"), "\(bad.stderr)")
    }

    @Test func sweepFineTunesWithTheRecipeAndSaysSo() throws {
        let scratch = try CommandOutputTests.Scratch()
        let output = scratch.root.appendingPathComponent("sweep")
        let run = try commands.cnnprune(["sweep", "--model", scratch.model.path, "--data", scratch.data.path, "--criterion", "l1",
                                         "--k", "0,8", "--finetune-epochs", "1", "--optimizer", "sgd", "--momentum", "0.9",
                                         "--lr", "0.01", "--lr-schedule", "cosine", "--augment", "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try commands.json(output.appendingPathComponent("sweep.json"))
        let fineTuning = try #require(document["fine_tuning"] as? [String: Any])
        let description = try #require(fineTuning["description"] as? String)
        #expect(description.contains("SGD (momentum 0.9), fresh optimizer, lr 0.01, cosine schedule, crop + flip augmentation"), "\(description)")
    }

    @Test(arguments: [
        (["--optimizer", "adam", "--momentum", "0.9"], "--momentum applies to --optimizer sgd only"),
        (["--optimizer", "sgd", "--nesterov"], "--nesterov needs --momentum above 0"),
        (["--lr-schedule", "step"], "--lr-schedule step needs --lr-step-epochs"),
        (["--lr-schedule", "step", "--lr-step-epochs", "5,x"], "--lr-step-epochs must be positive epoch numbers"),
        (["--warmup-epochs", "3", "--epochs", "3"], "--warmup-epochs (3) must be below --epochs (3)"),
        (["--optimizer", "rmsprop"], "'rmsprop' is invalid for '--optimizer"),
        // The library's value checks (`SettingError`), in the flags' words.
        (["--lr", "-1"], "--lr must be a positive finite number, got -1.0"),
        (["--optimizer", "sgd", "--momentum", "-0.5", "--nesterov"], "--momentum must be in [0, 1), got -0.5"),
        (["--batch-size", "0"], "--batch-size must be positive, got 0"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--lr-gamma", "0"], "--lr-gamma must be a positive finite number, got 0.0"),
        (["--weight-decay", "-1"], "--weight-decay must be a non-negative finite number, got -1.0"),
    ])
    func badRecipeFlagsAreUsageErrors(arguments: [String], message: String) throws {
        let run = try commands.cnnprune(["train", "--data", "/nonexistent"] + arguments)
        #expect(run.status == 64)
        #expect(run.stderr.split(separator: "\n").first?.contains(message) == true, "\(run.stderr)")
    }
}
