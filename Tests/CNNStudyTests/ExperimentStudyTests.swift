import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation
import Testing

/// The study run through the API on a small trained SimpleCNN, its typed results checked against
/// what the network itself says when evaluated directly.
@Suite struct ExperimentStudyTests {
    let network: Network
    let report: ExperimentReport

    init() throws {
        network = try StudyFixtures.trainedNetwork(seed: 3)
        let model = StudyModel(network: network, widths: StudyFixtures.widths, origin: .loaded(path: "small.safetensors"))
        report = try ExperimentStudy(configuration: StudyFixtures.configuration())
            .run(models: [model], train: StudyFixtures.train, test: StudyFixtures.test)
    }

    func evaluate(_ network: Network) -> Evaluation {
        Evaluator(threads: 1).evaluate(network, on: StudyFixtures.test)
    }

    @Test func theNetworkLearnedSomething() {
        // Otherwise every check below could hold on a network that predicts one class.
        #expect(report.evaluation.accuracy > 60, "\(report.evaluation.accuracy)")
    }

    @Test func everySweepStartsAtTheModelsOwnAccuracy() {
        let own = evaluate(network)
        #expect(report.evaluation.correct == own.correct && report.evaluation.total == StudyFixtures.test.count)
        #expect(report.counts == PruningCounts.defaultCounts(units: 8))
        #expect(report.sweeps.count == 3 + ImportanceCriteria.layerStudyNames.count)
        for sweep in report.sweeps {
            let first = sweep.points[0]
            #expect(first.k == 0 && first.masked.isEmpty)
            #expect(first.correct == own.correct, "\(sweep.request.label)")
        }
    }

    @Test func everyRankOnceSweepEqualsDirectMaskedEvaluation() throws {
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        for sweep in report.sweeps.dropFirst() {
            let keepBias = sweep.request.method.keepsBias
            for point in sweep.points {
                #expect(Set(point.masked) == Set(sweep.ranking.prefix(point.k)))
                let direct = evaluate(network.masking(sweep.ranking.prefix(point.k), of: layer, keepBias: keepBias))
                #expect(point.correct == direct.correct, "\(sweep.request.label), K = \(point.k)")
            }
        }
    }

    @Test func theExerciseLoopZeroesAtLeastKChannelsCumulatively() throws {
        let layer = try PrunableLayer(named: "conv2", in: network.architecture)
        var previous = Set<Int>()
        for point in report.exercise.points {
            let masked = Set(point.masked)
            #expect(masked.count == point.masked.count && masked.count >= point.k && masked.allSatisfy { (0..<8).contains($0) })
            #expect(masked.isSuperset(of: previous), "K = \(point.k): the loop never un-zeroes a channel")
            previous = masked
            // Its accuracy is that of the network with those channels' weights zeroed, biases kept.
            #expect(point.correct == evaluate(network.masking(point.masked, of: layer, keepBias: true)).correct)
        }
    }

    @Test func theAblationLeadsFromTheLoopToTheCorrectedMethod() {
        #expect(report.ablation.count == 4)
        #expect(report.ablation.first?.request.method == .exerciseLoop)
        #expect(report.ablation.last?.request.label == report.corrected.request.label)
        #expect(report.corrected.request.calibration == .trainingSubset(120))
        #expect(report.criteria.map(\.request.criterion.name).sorted() == ImportanceCriteria.layerStudyNames.sorted())
    }

    @Test func sensitivityCoversEveryLayerFromTheUnprunedAccuracy() {
        #expect(report.sensitivity.curves.map(\.group.name) == ["conv1", "conv2", "fc1"])
        let own = evaluate(network).accuracy
        for curve in report.sensitivity.curves {
            #expect(curve.baseline.accuracy == own)
            #expect(curve.sweep.points.first?.k == 0 && curve.sweep.points.first?.accuracy == own)
        }
    }

    @Test func removalShrinksConv2AndKeepsTheMaskedAccuracy() throws {
        let removal = try #require(report.removal)
        #expect(removal.rows.map(\.k) == [0, 2, 4])
        #expect(removal.fineTuned == nil && removal.trainLosses.isEmpty)
        for row in removal.rows {
            // Parameters and multiply-accumulates of the SimpleCNN with that many fewer conv2 channels.
            let widths = SimpleCNN(inputChannels: 3, imageSize: 8, conv1: 4, conv2: 8 - row.k, fc1: 12, classes: 3)
            let cost = ArchitectureCost(try widths.architecture())
            #expect(row.measurement.parameters == cost.parameters)
            #expect(row.measurement.multiplyAccumulates == cost.multiplyAccumulates)
            #expect(row.measurement.imagesPerSecondRuns.count == 1)
        }
        for row in removal.pruned {
            let masked = try #require(report.corrected.points.first { $0.k == row.k })
            #expect(abs(row.measurement.correct - masked.correct) <= 1, "K = \(row.k): removal is masking made permanent")
        }
    }

    @Test func oneModelsReportSaysItShowsOneModel() {
        let markdown = report.markdown(totalSeconds: 1)
        #expect(markdown.contains("Every figure here comes from **one trained model**"))
        #expect(!markdown.contains("## Across"))
        #expect(markdown.contains("on the \(StudyFixtures.test.count) generated colours test images"))
        #expect(markdown.contains("Test accuracy: **\(String(format: "%.2f", report.evaluation.accuracy)) %**"))
        // The removal section, without fine-tuning.
        #expect(markdown.contains("## 4. Removing the channels for real"))
        #expect(markdown.contains("No fine-tuning in this run (`--finetune-epochs 0`)"))
        #expect(!markdown.contains("+ fine-tuned"))
        // The criteria section names the best criterion by its mean accuracy.
        let best = report.criteriaByMeanAccuracy()[0]
        #expect(markdown.contains("**\(best.sweep.request.criterion.name)** picks the channels that matter least best here"))
    }

    @Test func writesTheReportTheJSONAndTheCharts() throws {
        let directory = try StudyFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try report.write(to: directory, totalSeconds: 2)
        let names = Set(files.map { URL(fileURLWithPath: $0).lastPathComponent })
        var expected: Set<String> = ["experiment.json", "report.md"]
        for base in ["exercise", "ablation"] { expected.formUnion(["\(base).png", "\(base).svg"]) }
        for base in ["sweep", "sensitivity"] { expected.formUnion(["json", "csv", "png", "svg"].map { "\(base).\($0)" }) }
        #expect(names == expected)
        for name in names where name.hasSuffix(".png") {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "\(name)")
        }
        // Every chart the report links to exists.
        let markdown = try String(contentsOf: directory.appendingPathComponent("report.md"), encoding: .utf8)
        let linked = markdown.components(separatedBy: "](").dropFirst().compactMap { $0.split(separator: ")").first.map(String.init) }
        #expect(Set(linked) == ["exercise.png", "ablation.png", "sweep.png", "sensitivity.png"])

        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("experiment.json"))) as? [String: Any])
        #expect(summary["model"] as? String == "small.safetensors")
        #expect(summary["trained_here"] as? Bool == false)
        #expect(summary["layer"] as? String == "conv2" && summary["calibration"] as? String == "train:120")
        #expect(summary["correct"] as? Int == report.evaluation.correct && summary["total"] as? Int == StudyFixtures.test.count)
        #expect((summary["per_class"] as? [[String: Any]])?.map { $0["class"] as? String } == ["red", "green", "blue"])
        let loop = try #require(summary["exercise_loop"] as? [[String: Any]])
        #expect(loop.map { $0["k"] as? Int } == report.counts)
        #expect(loop.map { $0["masked_count"] as? Int } == report.exercise.points.map { $0.masked.count })
        let removal = try #require(summary["removal"] as? [String: Any])
        #expect((removal["models"] as? [[String: Any]])?.map { $0["name"] as? String } == ["original", "pruned K = 2", "pruned K = 4"])
        #expect(removal["finetune_epochs"] as? Int == 0)
        let seconds = try #require(summary["seconds"] as? [String: Double])
        #expect(Set(seconds.keys) == ["evaluation", "sweeps", "sensitivity", "removal", "total"])
        #expect(seconds["total"] == 2)

        let sweep = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("sweep.json"))) as? [String: Any])
        let criteria = try #require(sweep["criteria"] as? [[String: Any]])
        #expect(criteria.map { $0["label"] as? String } == report.sweeps.map(\.request.label))
        #expect(criteria.map { $0["ranking"] as? [Int] } == report.sweeps.map(\.ranking))
        let csv = try String(contentsOf: directory.appendingPathComponent("sweep.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + report.sweeps.count * report.counts.count)
    }

    @Test func documentsCarryTheTypedResults() {
        let document = report.sweepDocument()
        #expect(document.layer == "conv2" && document.units == 8 && document.baselineAccuracy == (report.evaluation.accuracy * 100).rounded() / 100)
        #expect(document.criteria.map { $0.points.map(\.correct) } == report.sweeps.map { $0.points.map(\.correct) })
        let summary = report.summaryDocument(totalSeconds: 0)
        #expect(summary.corrected.map(\.k) == report.counts)
        #expect(summary.removal?.models.map(\.k) == [0, 2, 4])
        #expect(report.exerciseChart().series.count == 3)
        #expect(report.ablationChart().series.count == 5)
        #expect(report.criteriaChart().series.count == ImportanceCriteria.layerStudyNames.count + 1)
    }
}
