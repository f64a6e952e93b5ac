import CNNDatasets
import CNNEngine
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Runs the built `cnnprune` executable on a tiny CIFAR-10-format data set and checks the files
/// `sweep`, `sensitivity` and `experiment` write, and their errors.
@Suite(.serialized) struct CommandOutputTests {
    /// A scratch directory with a tiny data set (5 × 40 training and 60 test images of random
    /// pixels) and a randomly initialised SimpleCNN.
    final class Scratch {
        /// The records in each training and test file: the tests read the data with this layout,
        /// and the binary with it through `$CNNPRUNE_TEST_RECORDS_PER_FILE` (see `cnnprune(_:)`).
        static let layout = CIFAR10.Layout(trainRecordsPerFile: 40, testRecordsPerFile: 60)

        let root: URL
        var data: URL { root.appendingPathComponent("cifar") }
        var model: URL { root.appendingPathComponent("model.safetensors") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-tests-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            var generator = SeededGenerator(seed: 11)
            func records(_ count: Int) -> Data {
                var bytes = [UInt8]()
                for _ in 0..<count {
                    bytes.append(UInt8(generator.next() % 10))
                    for _ in 0..<CIFAR10.imageBytes { bytes.append(UInt8(truncatingIfNeeded: generator.next())) }
                }
                return Data(bytes)
            }
            for split in CIFAR10.Split.allCases {
                for name in split.fileNames { try records(Scratch.layout.recordsPerFile(split)).write(to: data.appendingPathComponent(name)) }
            }
            let names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
            try names.joined(separator: "\n").write(to: data.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
            let model = SimpleCNN()
            var init_ = SeededGenerator(seed: 12)
            try Checkpoint.save(Network(architecture: try model.architecture(), generator: &init_), model: model, to: self.model)
        }

        deinit { try? FileManager.default.removeItem(at: root) }
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `cnnprune` built next to this test binary.
    static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("cnnprune")
    }

    /// Runs the binary with `arguments` on one thread. The scratch data's files are smaller than
    /// CIFAR-10's, which the binary accepts only when told their size: the hidden
    /// `$CNNPRUNE_TEST_RECORDS_PER_FILE` gives `Scratch.layout` (inherited by the processes
    /// `experiment` starts).
    func cnnprune(_ arguments: [String]) throws -> Run {
        let executable = Self.executable
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build cnnprune first: \(executable.path) is missing")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + ["--threads", "1"]
        var environment = ProcessInfo.processInfo.environment
        environment["CNNPRUNE_TEST_RECORDS_PER_FILE"] = "\(Scratch.layout.trainRecordsPerFile),\(Scratch.layout.testRecordsPerFile)"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    func json(_ url: URL) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// A PNG with the signature, an IHDR of at least 800 × 500, image data and an end chunk,
    /// every chunk's length in bounds.
    func checkPNG(_ url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func be32(_ i: Int) -> Int { bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8
        var chunks: [String] = []
        while offset + 8 <= bytes.count {
            let length = be32(offset)
            chunks.append(String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self))
            if chunks.count == 1 {
                #expect(be32(offset + 8) >= 800 && be32(offset + 12) >= 500)
            }
            offset += 12 + length
        }
        #expect(offset == bytes.count)
        #expect(chunks.first == "IHDR" && chunks.contains("IDAT") && chunks.last == "IEND")
    }

    func checkSVG(_ url: URL) throws {
        let parser = XMLParser(data: try Data(contentsOf: url))
        #expect(parser.parse(), "\(url.lastPathComponent) is not well-formed XML")
    }

    @Test func sweepWritesTheFilesTheIssueSpecifies() throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("sweep")
        let run = try cnnprune(["sweep", "--model", scratch.model.path, "--data", scratch.data.path, "--layer", "conv2",
                                "--criterion", "taylor,mean-activation,l1", "--k", "0:8:2", "--calibration", "train:50",
                                "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try json(output.appendingPathComponent("sweep.json"))
        #expect(document["model"] as? String == scratch.model.path)
        #expect(document["layer"] as? String == "conv2")
        #expect(document["calibration"] as? String == "train:50")
        let criteria = try #require(document["criteria"] as? [[String: Any]])
        #expect(criteria.map { $0["name"] as? String } == ["taylor", "mean-activation", "l1"])
        for criterion in criteria {
            let scores = try #require(criterion["scores"] as? [Double])
            let ranking = try #require(criterion["ranking"] as? [Int])
            #expect(scores.count == 32)
            #expect(ranking.sorted() == Array(0..<32))
            #expect(zip(ranking, ranking.dropFirst()).allSatisfy { scores[$0] <= scores[$1] })
            let points = try #require(criterion["points"] as? [[String: Any]])
            #expect(points.map { $0["k"] as? Int } == [0, 2, 4, 6])
            #expect(points.allSatisfy { ($0["accuracy"] as? Double).map { (0...100).contains($0) } ?? false })
        }
        let csv = try String(contentsOf: output.appendingPathComponent("sweep.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n")
        #expect(rows.first == "criterion,label,method,k,masked_count,accuracy,correct,total")
        #expect(rows.count == 1 + 3 * 4)
        #expect(rows[1].hasPrefix("taylor,taylor,rank-once,0,0,"))
        try checkSVG(output.appendingPathComponent("sweep.svg"))
        try checkPNG(output.appendingPathComponent("sweep.png"))
        #expect(run.stdout.contains("mean-activation"))
        // Nothing but the atomically renamed files is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        #expect(names == ["sweep.csv", "sweep.json", "sweep.png", "sweep.svg"])
    }

    /// `sweep --finetune-epochs`: every point gains `fine_tuned_accuracy` (the existing fields
    /// unchanged), the CSV a column; K = 0 is exactly `train --model` for as many epochs with
    /// the same seed, and K > 0 exactly `prune --k K --finetune-epochs` with the same seed.
    @Test func fineTunedSweepAddsAnAccuracyPerK() throws {
        let scratch = try Scratch()
        let plain = scratch.root.appendingPathComponent("plain")
        let tuned = scratch.root.appendingPathComponent("tuned")
        let common = ["sweep", "--model", scratch.model.path, "--data", scratch.data.path, "--criterion", "mean-activation,l1",
                      "--k", "0,4,8", "--calibration", "train:50", "--seed", "3"]
        let before = try cnnprune(common + ["--output", plain.path])
        #expect(before.status == 0, "\(before.stderr)")
        let run = try cnnprune(common + ["--finetune-epochs", "1", "--output", tuned.path])
        #expect(run.status == 0, "\(run.stderr)")

        let document = try json(tuned.appendingPathComponent("sweep.json"))
        let reference = try json(plain.appendingPathComponent("sweep.json"))
        for key in ["model", "layer", "calibration", "baseline_accuracy"] {
            #expect("\(document[key] ?? "nil")" == "\(reference[key] ?? "nil")", "\(key)")
        }
        let fineTuning = try #require(document["fine_tuning"] as? [String: Any])
        #expect(fineTuning["epochs"] as? Int == 1)
        #expect(fineTuning["seed"] as? Int == 3)
        #expect(fineTuning["training_images"] as? Int == 200)
        #expect(reference["fine_tuning"] == nil)
        let criteria = try #require(document["criteria"] as? [[String: Any]])
        let referenceCriteria = try #require(reference["criteria"] as? [[String: Any]])
        #expect(criteria.map { $0["name"] as? String } == ["mean-activation", "l1"])
        var k0: [Double] = []
        for (criterion, plainCriterion) in zip(criteria, referenceCriteria) {
            #expect(criterion["ranking"] as? [Int] == plainCriterion["ranking"] as? [Int])
            #expect(criterion["scores"] as? [Double] == plainCriterion["scores"] as? [Double])
            let points = try #require(criterion["points"] as? [[String: Any]])
            let plainPoints = try #require(plainCriterion["points"] as? [[String: Any]])
            #expect(points.map { $0["k"] as? Int } == [0, 4, 8])
            for (point, plainPoint) in zip(points, plainPoints) {
                // The masked accuracy is the sweep's, fine-tuning or not.
                #expect(point["accuracy"] as? Double == plainPoint["accuracy"] as? Double)
                #expect(point["masked"] as? [Int] == plainPoint["masked"] as? [Int])
                #expect(plainPoint["fine_tuned_accuracy"] == nil)
                let accuracy = try #require(point["fine_tuned_accuracy"] as? Double, "K = \(point["k"] ?? "?")")
                #expect((0...100).contains(accuracy))
                let correct = try #require(point["fine_tuned_correct"] as? Int)
                #expect(abs(Double(correct) / 60 * 100 - accuracy) < 0.006)
            }
            k0.append(try #require(points[0]["fine_tuned_accuracy"] as? Double))
        }
        #expect(k0[0] == k0[1])

        let csv = try String(contentsOf: tuned.appendingPathComponent("sweep.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.first?.map(String.init) == ["criterion", "label", "method", "k", "masked_count", "accuracy", "correct", "total",
                                                 "fine_tuned_accuracy", "fine_tuned_correct"])
        #expect(rows.count == 1 + 2 * 3)
        #expect(rows.dropFirst().allSatisfy { $0.count == 10 && Double($0[8]) != nil })
        #expect(rows[1][8] == Substring(format2(k0[0])))
        #expect(run.stdout.contains("fine-tuned"))
        try checkSVG(tuned.appendingPathComponent("sweep.svg"))
        try checkPNG(tuned.appendingPathComponent("sweep.png"))
        let svg = try String(contentsOf: tuned.appendingPathComponent("sweep.svg"), encoding: .utf8)
        #expect(svg.contains("l1, fine-tuned 1 epoch"))

        // K = 0: the unpruned model trained one more epoch with the same seed.
        let trained = try cnnprune(["train", "--model", scratch.model.path, "--data", scratch.data.path, "--epochs", "1", "--seed", "3",
                                    "--json", "--output", scratch.root.appendingPathComponent("trained.safetensors").path])
        #expect(trained.status == 0, "\(trained.stderr)")
        let training = try #require(JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as? [String: Any])
        #expect(training["test_accuracy"] as? Double == k0[0])

        // K = 4 with l1: prune's removal and fine-tuning, same seed.
        let pruned = try cnnprune(["prune", "--model", scratch.model.path, "--data", scratch.data.path, "--layer", "conv2", "--k", "4",
                                   "--criterion", "l1", "--finetune-epochs", "1", "--seed", "3", "--timing-runs", "1", "--json",
                                   "--output", scratch.root.appendingPathComponent("pruned.safetensors").path])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let outcome = try #require(JSONSerialization.jsonObject(with: Data(pruned.stdout.utf8)) as? [String: Any])
        let l1Points = try #require(criteria[1]["points"] as? [[String: Any]])
        #expect((outcome["fine_tuned"] as? [String: Any])?["accuracy"] as? Double == l1Points[1]["fine_tuned_accuracy"] as? Double)
        #expect((outcome["pruned"] as? [String: Any])?["accuracy"] as? Double == l1Points[1]["accuracy"] as? Double)
    }

    @Test func pruneSharesAMACBudgetUniformlyOnRequest() throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("uniform.safetensors")
        let run = try cnnprune(["prune", "--model", scratch.model.path, "--data", scratch.data.path, "--target-macs", "0.5",
                                "--allocation", "uniform", "--timing-runs", "1", "--json", "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((report["target"] as? String)?.contains("the same fraction of every group") == true)
        let before = try #require((report["before"] as? [String: Any])?["macs"] as? Int)
        let after = try #require((report["pruned"] as? [String: Any])?["macs"] as? Int)
        #expect(Double(after) <= 0.5 * Double(before))
        // Each group lost the same share of its channels, to within one channel.
        let groups = try #require(report["groups"] as? [[String: Any]])
        let shares = groups.compactMap { group -> Double? in
            guard let before = group["before"] as? Int, let after = group["after"] as? Int else { return nil }
            return Double(before - after) / Double(before)
        }
        #expect(shares.count == groups.count && groups.count >= 2)
        let widest = try #require(groups.compactMap { $0["before"] as? Int }.min())
        #expect(shares.max()! - shares.min()! <= 1 / Double(widest) + 1e-9, "\(shares)")
        for (arguments, expected) in [(["--target-macs", "0.5", "--allocation", "weird"], "--allocation must be global or uniform"),
                                      (["--global-ratio", "0.5", "--allocation", "uniform"], "--allocation applies to --target-macs and --target-params only")] {
            let bad = scratch.root.appendingPathComponent("bad.safetensors")
            let refused = try cnnprune(["prune", "--model", scratch.model.path, "--data", scratch.data.path, "--output", bad.path] + arguments)
            #expect(refused.status != 0)
            #expect(refused.stderr.split(separator: "\n").first?.contains(expected) == true, "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: bad.path))
        }
    }

    func format2(_ value: Double) -> String { String(format: "%.2f", value) }

    @Test func seedCompatibleSweepIsLabelledAndRanksOnTheTestSet() throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("seed")
        let run = try cnnprune(["sweep", "--model", scratch.model.path, "--data", scratch.data.path, "--seed-compatible",
                                "--k", "0,4,8", "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try json(output.appendingPathComponent("sweep.json"))
        #expect(document["calibration"] as? String == "test")
        #expect(document["seed_compatible"] as? Bool == true)
        #expect(document["keep_bias"] as? Bool == true)
        let criterion = try #require((document["criteria"] as? [[String: Any]])?.first)
        #expect(criterion["method"] as? String == "exercise-loop")
        #expect(run.stdout.contains("evaluation data"))
    }

    @Test func sensitivityCoversEveryLayer() throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("sensitivity")
        let run = try cnnprune(["sensitivity", "--model", scratch.model.path, "--data", scratch.data.path, "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try json(output.appendingPathComponent("sensitivity.json"))
        let layers = try #require(document["layers"] as? [[String: Any]])
        #expect(layers.map { $0["layer"] as? String } == ["conv1", "conv2", "fc1"])
        for layer in layers {
            let points = try #require(layer["points"] as? [[String: Any]])
            #expect(points.count == 10)
            #expect(points.first?["k"] as? Int == 0)
        }
        let csv = try String(contentsOf: output.appendingPathComponent("sensitivity.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 30)
        try checkSVG(output.appendingPathComponent("sensitivity.svg"))
        try checkPNG(output.appendingPathComponent("sensitivity.png"))
    }

    // What the report says, its JSON fields and its charts are tested on the library
    // (Tests/CNNStudyTests); here: the command's flags, files and exit codes.

    @Test func experimentWritesItsFilesWithTheFlagsDefaults() throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("experiment")
        let run = try cnnprune(["experiment", "--model", scratch.model.path, "--data", scratch.data.path, "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        let written = Set(try FileManager.default.contentsOfDirectory(atPath: output.path))
        var expected: Set<String> = ["report.md", "experiment.json", "exercise.png", "exercise.svg", "ablation.png", "ablation.svg"]
        for base in ["sweep", "sensitivity"] { expected.formUnion(["json", "csv", "svg", "png"].map { "\(base).\($0)" }) }
        #expect(written == expected)
        #expect(run.stdout.contains("Wrote \(expected.count) files into \(output.path)"))
        #expect(run.stdout.contains("Best criterion on conv2:"))

        // The defaults reach the study: --calibration train:5000, --finetune-epochs 2, --timing-runs 5.
        let summary = try json(output.appendingPathComponent("experiment.json"))
        #expect(summary["calibration"] as? String == "train:5000")
        #expect(summary["trained_here"] as? Bool == false)
        let removal = try #require(summary["removal"] as? [String: Any])
        #expect(removal["finetune_epochs"] as? Int == 2)
        #expect(removal["timing_runs"] as? Int == 5)
        #expect(removal["threads"] as? Int == 1)
        let models = try #require(removal["models"] as? [[String: Any]])
        #expect(models.map { $0["k"] as? Int } == [0, 8, 16, 16])
        #expect(models.map { $0["width"] as? Int } == [32, 24, 16, 16])
        for model in models { #expect((model["images_per_second_runs"] as? [Double])?.count == 5) }
        // The training set (200 images) is smaller than the default calibration set: one note on stderr.
        #expect(run.stderr.contains("note: calibration set train:5000 is larger than the 200 training images; using all of them"))
    }

    @Test func experimentWithoutFineTuningHasThreeModels() throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("experiment")
        let run = try cnnprune(["experiment", "--model", scratch.model.path, "--data", scratch.data.path, "--finetune-epochs", "0",
                                "--timing-runs", "1", "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        let removal = try #require(try json(output.appendingPathComponent("experiment.json"))["removal"] as? [String: Any])
        #expect(removal["finetune_epochs"] as? Int == 0)
        #expect(removal["timing_runs"] as? Int == 1)
        #expect((removal["models"] as? [[String: Any]])?.map { $0["name"] as? String } == ["original", "pruned K = 8", "pruned K = 16"])
    }

    @Test(arguments: [
        (["--seeds", "0"], "--seeds must be at least 1, got 0"),
        (["--timing-runs", "0"], "--timing-runs must be at least 1, got 0"),
        (["--finetune-epochs=-1"], "--finetune-epochs must be 0 or more"),
        (["--models", "a.safetensors,"], "--model and --models exclude each other"),
        (["--global-ratio", "1"], "--global-ratio must be strictly between 0 and 1"),
        (["--calibration", "validation"], "train:N"),
    ])
    func badExperimentArgumentsFailWithOneLine(arguments: [String], expected: String) throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("bad")
        let run = try cnnprune(["experiment", "--model", scratch.model.path, "--data", scratch.data.path, "--output", output.path] + arguments)
        #expect(run.status != 0)
        let first = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("Error: "), "\(run.stderr)")
        #expect(first.contains(expected), "\(first)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test(arguments: [
        (["--layer", "fc2"], "conv1, conv2, fc1"),
        (["--criterion", "mean-activation,weird"], "the criteria are l1, l2, bn-scale, fpgm, mean-activation, mean-activation-relu, apoz, taylor, random"),
        (["--k", "5:2"], "STOP excluded"),
        (["--k", "0:40:2"], "K = 34 is out of range"),
        (["--calibration", "validation"], "train:N"),
        (["--seed-compatible", "--calibration", "train:100"], "test set"),
        (["--finetune-epochs", "1", "--seed-compatible"], "ranked once"),
        (["--finetune-epochs", "1", "--keep-bias"], "drop --keep-bias"),
        (["--finetune-epochs", "1", "--k", "0,16,32"], "K must be 0…31, got 32"),
        (["--finetune-epochs=-1"], "0 or more"),
    ])
    func badArgumentsFailWithOneLine(arguments: [String], expected: String) throws {
        let scratch = try Scratch()
        let run = try cnnprune(["sweep", "--model", scratch.model.path, "--data", scratch.data.path,
                                "--output", scratch.root.appendingPathComponent("bad").path] + arguments)
        #expect(run.status != 0)
        let first = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("Error: "), "\(run.stderr)")
        #expect(first.contains(expected), "\(first)")
        #expect(!FileManager.default.fileExists(atPath: scratch.root.appendingPathComponent("bad").path))
    }
}
