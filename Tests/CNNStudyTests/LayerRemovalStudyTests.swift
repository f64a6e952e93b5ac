import CNNEngine
import CNNPruning
import CNNStudy
import Foundation
import Testing

/// `prune`'s SimpleCNN study as a library value: the removal, the history it records and the
/// report it prints.
@Suite struct LayerRemovalStudyTests {
    @Test func removesRecordsTheHistoryAndReports() throws {
        let network = try StudyFixtures.trainedNetwork(seed: 3)
        let study = LayerRemovalStudy(layer: "conv2", count: 3, steps: 1, criterion: try ImportanceCriteria.named("l1", seed: 0),
                                      calibrationLabel: "none", threads: 1, timingRuns: 1)
        var removals: [PruningStep] = []
        let result = try study.run(network: network, model: StudyFixtures.widths, calibration: nil, test: StudyFixtures.test,
                                   onRemoval: { removals.append($0) })
        #expect(result.model.conv2 == 5)
        #expect(removals.map(\.removed) == [result.outcome.removed])
        #expect(result.outcome.removed.count == 3)

        // The history appends to the input's.
        let first = try study.metadata(for: result.outcome, source: "/some/dir/model.safetensors", inputMetadata: [:], extra: ["x": "1"])
        #expect(first["x"] == "1")
        let again = try study.metadata(for: result.outcome, source: "pruned.safetensors", inputMetadata: first)
        let history = try JSONDecoder().decode([PruningRecord].self, from: Data(try #require(again[PruningRecord.metadataKey]).utf8))
        #expect(history.map(\.source) == ["model.safetensors", "pruned.safetensors"])
        #expect(history[0].k == 3 && history[0].layer == "conv2" && history[0].removed == result.outcome.removed)

        let report = study.report(result.outcome, model: "model.safetensors", output: "pruned.safetensors")
        let table = report.table(timingRuns: 1, threads: 1)
        #expect(table.split(separator: "\n")[1].hasPrefix("conv2 width"))
        #expect(table.contains("threads: 1; images/s are whole evaluation passes over the 90 test images"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        #expect(json["k"] as? Int == 3 && json["layer"] as? String == "conv2" && json["steps"] as? Int == 1)
        #expect(json["removed"] as? [Int] == result.outcome.removed)
    }

    @Test func aCountThatLeavesNoUnitIsAStudyError() throws {
        let network = try StudyFixtures.trainedNetwork(seed: 3)
        let study = LayerRemovalStudy(layer: "conv2", count: 8, criterion: try ImportanceCriteria.named("l1", seed: 0),
                                      calibrationLabel: "none", threads: 1)
        #expect(throws: StudyError.self) {
            try study.run(network: network, model: StudyFixtures.widths, calibration: nil, test: StudyFixtures.test)
        }
    }
}
