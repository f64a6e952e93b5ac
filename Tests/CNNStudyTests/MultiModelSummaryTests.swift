import CNNStatistics
import CNNStudy
import Foundation
import Testing

/// The several-model summaries of `sweep`, `sensitivity` and `prune --model a,b,…`, built from
/// typed per-model curves and accuracies.
@Suite struct MultiModelSummaryTests {
    static let models = ["a.safetensors", "b.safetensors", "c.safetensors"]
    static let sweeps: [[ModelCurve]] = [
        [ModelCurve(name: "l1", xs: [0, 2, 4], accuracies: [70, 66, 60]), ModelCurve(name: "random", xs: [0, 2, 4], accuracies: [70, 60, 50])],
        [ModelCurve(name: "l1", xs: [0, 2, 4], accuracies: [68, 65, 61]), ModelCurve(name: "random", xs: [0, 2, 4], accuracies: [68, 59, 47])],
        [ModelCurve(name: "l1", xs: [0, 2, 4], accuracies: [69, 67, 59]), ModelCurve(name: "random", xs: [0, 2, 4], accuracies: [69, 61, 52])],
    ]

    @Test func sweepSummaryIsTheStatisticsOfTheTypedCurves() throws {
        let summary = try MultiModelSweepSummary(models: Self.models, curves: Self.sweeps, classes: 10)
        #expect(summary.curves.curves.map(\.name) == ["l1", "random"])
        #expect(summary.curves.curves[0].values(at: 1) == [66, 65, 67])
        let expected = MultiModelSweep(curves: summary.curves.curves, baselines: ["random", "l1"])
        #expect(summary.sweep == expected)
        #expect(summary.lines[0] == "Over 3 models (mean ± half-width of the 95 % interval):")
        #expect(summary.lines[1].hasPrefix("  l1: mean accuracy over K > 0 63.00 ± "))
        let csv = summary.curves.csv(xName: "k").split(separator: "\n")
        #expect(csv[0] == "curve,k,mean,ci_lower,ci_upper,model_0,model_1,model_2")
        #expect(csv.count == 1 + 2 * 3)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnstudy-multi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try summary.write(to: directory).map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(files == ["sweep-models.json", "sweep-models.csv", "sweep-models.svg", "sweep-models.png"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("sweep-models.json"))) as? [String: Any])
        #expect(json["models"] as? [String] == Self.models)
        #expect((json["comparisons"] as? [[String: Any]])?.count == 2)
        #expect((json["mean_over_k"] as? [String: Any])?.keys.sorted() == ["l1", "random"])
    }

    @Test func modelsWithOtherCurvesAreRefused() throws {
        var curves = Self.sweeps
        curves[2][1].xs = [0, 2, 6]
        #expect(throws: StudyError.self) { try MultiModelSweepSummary(models: Self.models, curves: curves, classes: 10) }
        curves = Self.sweeps
        curves[1] = [curves[1][0]]
        do {
            _ = try MultiModelSweepSummary(models: Self.models, curves: curves, classes: 10)
            Issue.record("a model with fewer curves was accepted")
        } catch let error as StudyError {
            #expect(error.description == "b.safetensors gives other curves than a.safetensors (l1 against l1, random); several models must be of one architecture")
        }
    }

    @Test func sensitivitySummaryNamesTheMostSensitiveLayer() throws {
        let curves = (0..<3).map { m in
            [ModelCurve(name: "conv1", xs: [0, 0.5], accuracies: [70 + Double(m), 60 + Double(m)]),
             ModelCurve(name: "conv2", xs: [0, 0.5], accuracies: [70 + Double(m), 30 + 2 * Double(m)])]
        }
        let summary = try MultiModelSensitivitySummary(models: Self.models, curves: curves, classes: 10)
        #expect(summary.sensitivity == MultiModelSensitivity(layers: summary.curves.curves, fraction: 0.5))
        #expect(summary.sensitivity.mostSensitive?.layer == "conv2")
        #expect(summary.line.hasPrefix("Over 3 models: "))
    }

    @Test func pruneSummaryPairsTheFinalAccuracyWithTheOneBefore() throws {
        let summary = MultiModelPruneSummary(before: [70, 68, 69], pruned: [50, 49, 52], fineTuned: [66, 65, 67])
        #expect(summary.fineTuned == [66, 65, 67])
        #expect(summary.change == PairedComparison([66, 65, 67], [70, 68, 69]))
        #expect(summary.sentence.hasPrefix("pruning and fine-tuning changes test accuracy by −3.00 points over 3 models"))
        let partly = MultiModelPruneSummary(before: [70, 68], pruned: [50, 49], fineTuned: [66, nil])
        #expect(partly.fineTuned == nil)
        #expect(partly.change == PairedComparison([50, 49], [70, 68]))
        struct Report: Encodable { var k: Int }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try summary.json(reports: [Report(k: 1), Report(k: 2), Report(k: 3)]).utf8)) as? [String: Any])
        #expect(json.keys.sorted() == ["before", "change", "fine_tuned", "models", "pruned"])
        #expect((json["models"] as? [[String: Int]])?.map { $0["k"] } == [1, 2, 3])
    }
}
