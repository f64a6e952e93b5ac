import CNNEngine
import Foundation
import Testing

/// `experiment --seeds N` end to end on the tiny data set: the files, the statistics' shape, the
/// fine-tuning recovery against the K = 0 control, and determinism — the same seeds and thread
/// count give byte-identical `seeds.json`, and every other JSON file differs at most in the
/// fields that measure time.
extension CommandOutputTests {
    /// Keys whose values are clock readings (seconds, images/s, speed-ups measured from them).
    static let timedKeys: Set<String> = [
        "seconds", "eval_seconds", "fine_tuning_seconds", "images_per_second", "images_per_second_runs", "speed_up",
    ]

    /// `value` with every timed key removed, at any depth.
    static func untimed(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { !timedKeys.contains($0.key) }.mapValues(untimed)
        }
        if let array = value as? [Any] { return array.map(untimed) }
        return value
    }

    @Test func experimentWithSeedsIsDeterministicAndComparesRecoveryToTheControl() throws {
        let scratch = try Scratch()
        let output = scratch.root.appendingPathComponent("seeds")
        let arguments = ["experiment", "--data", scratch.data.path, "--seeds", "2", "--epochs", "1", "--finetune-epochs", "1",
                         "--output", output.path]
        let first = try cnnprune(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        let names = ["seeds.json", "experiment.json", "sweep.json", "sensitivity.json"]
        let firstFiles = try names.map { try Data(contentsOf: output.appendingPathComponent($0)) }

        let seeds = try json(output.appendingPathComponent("seeds.json"))
        let models = try #require(seeds["models"] as? [[String: Any]])
        #expect(models.count == 2)
        #expect(models.map { $0["seed"] as? Int } == [0, 1])
        let criteria = try #require(seeds["criteria"] as? [[String: Any]])
        #expect(criteria.count >= 6)
        for criterion in criteria {
            let points = try #require(criterion["points"] as? [[String: Any]])
            for point in points {
                let accuracy = try #require(point["accuracy"] as? [String: Any])
                let perModel = try #require(accuracy["per_model"] as? [Double])
                #expect(perModel.count == 2)
                let mean = try #require(accuracy["mean"] as? Double)
                #expect(abs(mean - (perModel[0] + perModel[1]) / 2) < 1e-3)
                if let lower = accuracy["ci_lower"] as? Double, let upper = accuracy["ci_upper"] as? Double {
                    #expect(lower <= mean + 1e-9 && mean <= upper + 1e-9)
                }
            }
        }
        let recovery = try #require(seeds["recovery"] as? [String: Any])
        let pruned = try #require(recovery["pruned"] as? [Double])
        let control = try #require(recovery["control"] as? [Double])
        #expect(pruned.count == 2 && control.count == 2)
        #expect(recovery["k"] as? Int == 16 && recovery["epochs"] as? Int == 1)
        let difference = try #require(recovery["difference"] as? [String: Any])
        let mean = try #require(difference["mean"] as? Double)
        #expect(abs(mean - ((pruned[0] - control[0]) + (pruned[1] - control[1])) / 2) < 1e-3)
        // Model 0's pruned, fine-tuned accuracy is the removal study's fine-tuned row.
        let experiment = try json(output.appendingPathComponent("experiment.json"))
        let removal = try #require(experiment["removal"] as? [String: Any])
        let rows = try #require(removal["models"] as? [[String: Any]])
        let tuned = try #require(rows.last?["accuracy"] as? Double)
        #expect(abs(tuned - pruned[0]) < 0.01)

        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("## Across 2 models"))
        #expect(report.contains("Fine-tuning recovery: on every model"))
        #expect(report.contains("equally fine-tuned controls"))
        try checkPNG(output.appendingPathComponent("seeds.png"))
        try checkSVG(output.appendingPathComponent("seeds.svg"))
        let svg = try String(contentsOf: output.appendingPathComponent("seeds.svg"), encoding: .utf8)
        #expect(svg.contains(#"class="series-band""#), "the intervals are drawn as shaded bands")

        // The same command again, into the same folder: byte-identical statistics.
        try FileManager.default.removeItem(at: output)
        let second = try cnnprune(arguments)
        #expect(second.status == 0, "\(second.stderr)")
        let secondFiles = try names.map { try Data(contentsOf: output.appendingPathComponent($0)) }
        #expect(firstFiles[0] == secondFiles[0], "seeds.json differs between two identical runs")
        for index in names.indices.dropFirst() {
            let a = Self.untimed(try JSONSerialization.jsonObject(with: firstFiles[index]))
            let b = Self.untimed(try JSONSerialization.jsonObject(with: secondFiles[index]))
            let canonical = { (value: Any) in try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) }
            #expect(try canonical(a) == canonical(b), "\(names[index]) differs beyond its timings")
        }
    }
}

/// `sweep`, `sensitivity` and `prune` given several `--model` files.
extension CommandOutputTests {
    /// A second randomly initialised SimpleCNN beside the scratch model.
    func secondModel(in scratch: Scratch) throws -> URL {
        let url = scratch.root.appendingPathComponent("model-b.safetensors")
        var generator = SeededGenerator(seed: 99)
        let model = SimpleCNN()
        try Checkpoint.save(Network(architecture: try model.architecture(), generator: &generator), model: model, to: url)
        return url
    }

    /// The accuracies of `file`'s curves (`key`: criteria or layers), by curve name.
    func accuracies(_ url: URL, key: String, name: String) throws -> [String: [Double]] {
        let entries = try #require(try json(url)[key] as? [[String: Any]])
        var result: [String: [Double]] = [:]
        for entry in entries {
            let points = try #require(entry["points"] as? [[String: Any]])
            result[try #require(entry[name] as? String)] = points.compactMap { ($0["accuracy"] as? NSNumber)?.doubleValue }
        }
        return result
    }

    @Test func sweepAndSensitivityOfSeveralModelsAverageEachModelsOwnFiles() throws {
        let scratch = try Scratch()
        let models = [scratch.model.path, try secondModel(in: scratch).path]
        for (command, base, key, name) in [("sweep", "sweep", "criteria", "name"), ("sensitivity", "sensitivity", "layers", "layer")] {
            let output = scratch.root.appendingPathComponent(command)
            var arguments = [command, "--model", models.joined(separator: ","), "--data", scratch.data.path, "--output", output.path]
            if command == "sweep" { arguments += ["--criterion", "l1,random", "--k", "0,8,16"] }
            let run = try cnnprune(arguments)
            #expect(run.status == 0, "\(run.stderr)")
            let perModel = try (0..<2).map {
                try accuracies(output.appendingPathComponent("model-\($0)/\(base).json"), key: key, name: name)
            }
            let summary = try #require(try json(output.appendingPathComponent("\(base)-models.json"))[key] as? [[String: Any]])
            #expect(summary.count == perModel[0].count)
            for curve in summary {
                let curveName = try #require(curve["name"] as? String)
                let points = try #require(curve["points"] as? [[String: Any]])
                let first = try #require(perModel[0][curveName]), second = try #require(perModel[1][curveName])
                #expect(points.count == first.count)
                for (i, point) in points.enumerated() {
                    let accuracy = try #require(point["accuracy"] as? [String: Any])
                    #expect(accuracy["per_model"] as? [Double] == [first[i], second[i]])
                    let mean = try #require(accuracy["mean"] as? Double)
                    #expect(abs(mean - (first[i] + second[i]) / 2) < 1e-3)
                }
            }
            try checkPNG(output.appendingPathComponent("\(base)-models.png"))
            try checkSVG(output.appendingPathComponent("\(base)-models.svg"))
            #expect(try String(contentsOf: output.appendingPathComponent("\(base)-models.csv"), encoding: .utf8).hasPrefix("curve,"))
        }
    }

    @Test func pruneOfSeveralModelsWritesOneFilePerModelAndOneJSONObject() throws {
        let scratch = try Scratch()
        let models = [scratch.model.path, try secondModel(in: scratch).path]
        let output = scratch.root.appendingPathComponent("pruned.safetensors")
        let run = try cnnprune(["prune", "--model", models.joined(separator: ","), "--data", scratch.data.path, "--k", "8",
                                "--output", output.path, "--json", "--timing-runs", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let reports = try #require(object["models"] as? [[String: Any]])
        #expect(reports.count == 2)
        let before = try #require(object["before"] as? [String: Any])
        let perModel = try #require(before["per_model"] as? [Double])
        for (index, report) in reports.enumerated() {
            #expect(report["model"] as? String == models[index])
            #expect(report["output"] as? String == scratch.root.appendingPathComponent("pruned-\(index).safetensors").path)
            #expect(FileManager.default.fileExists(atPath: scratch.root.appendingPathComponent("pruned-\(index).safetensors").path))
            let reportBefore = try #require(report["before"] as? [String: Any])
            #expect(abs(try #require(reportBefore["accuracy"] as? Double) - perModel[index]) < 0.01)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
        let change = try #require(object["change"] as? [String: Any])
        #expect((change["sentence"] as? String)?.contains("2 models") == true)

        let same = try cnnprune(["prune", "--model", "\(models[0]),\(models[0])", "--data", scratch.data.path, "--k", "8", "--output", output.path])
        #expect(same.status != 0 && same.stderr.contains("same file twice"))
    }
}
