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
                for name in split.fileNames { try records(split == .test ? 60 : 40).write(to: data.appendingPathComponent(name)) }
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

    func cnnprune(_ arguments: [String]) throws -> Run {
        let executable = Self.executable
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build cnnprune first: \(executable.path) is missing")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + ["--threads", "1"]
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

    @Test func experimentWritesAReportWhoseChartsExist() throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("experiment")
        let run = try cnnprune(["experiment", "--model", scratch.model.path, "--data", scratch.data.path, "--output", output.path])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        let linked = report.components(separatedBy: "](").dropFirst().compactMap { $0.split(separator: ")").first.map(String.init) }
            .filter { $0.hasSuffix(".png") }
        #expect(linked.count >= 3)
        for name in linked {
            try checkPNG(output.appendingPathComponent(name))
        }
        #expect(report.contains("exercise"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).contains("sweep.json"))
    }

    @Test(arguments: [
        (["--layer", "fc2"], "conv1, conv2, fc1"),
        (["--criterion", "mean-activation,weird"], "mean-activation, mean-activation-relu, apoz, l1, l2, taylor, random"),
        (["--k", "5:2"], "STOP excluded"),
        (["--k", "0:40:2"], "K = 34 is out of range"),
        (["--calibration", "validation"], "train:N"),
        (["--seed-compatible", "--calibration", "train:100"], "test set"),
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
