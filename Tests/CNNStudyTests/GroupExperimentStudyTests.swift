import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation
import Testing

/// The channel-group study (any architecture) through the API: a ResNet-20 of a quarter width on
/// the generated 8×8 images, checked against direct evaluation of the network and its masked copies.
@Suite struct GroupExperimentStudyTests {
    let network: Network
    let group: ChannelGroup
    let report: GroupExperimentReport

    init() throws {
        let graph = try ModelZoo.graph(named: "resnet20", classes: 3, inputShape: [3, 8, 8], widthMultiplier: 0.25)
        var generator = SeededGenerator(seed: 9)
        network = Network(architecture: try graph.sequential(), generator: &generator)
        group = try #require(try ChannelGroups(network.architecture).prunable(allowResidual: false).last)
        report = try GroupExperimentStudy(calibration: .trainingSubset(120), seed: 5, threads: 1, datasetName: "generated colours")
            .run(network: network, name: "resnet20", origin: .loaded(path: "resnet.safetensors"), group: group,
                 train: StudyFixtures.train, test: StudyFixtures.test)
    }

    func evaluate(_ network: Network) -> Evaluation {
        Evaluator(threads: 1).evaluate(network, on: StudyFixtures.test)
    }

    @Test func everyCriterionsSweepEqualsDirectMaskedEvaluation() throws {
        let own = evaluate(network)
        #expect(report.accuracy == own.accuracy)
        #expect(report.group.name == group.name)
        let names = report.sweep.sweeps.map(\.request.criterion.name)
        #expect(names == ImportanceCriteria.names.filter { $0 != "bn-scale" || !group.normalizations.isEmpty })
        for sweep in report.sweep.sweeps {
            #expect(sweep.points.map(\.k) == PruningCounts.defaultCounts(units: group.units))
            #expect(sweep.points[0].correct == own.correct)
            for point in sweep.points.dropFirst() {
                #expect(Set(point.masked) == Set(sweep.ranking.prefix(point.k)))
                #expect(point.correct == evaluate(try network.masking(sweep.ranking.prefix(point.k), of: group)).correct,
                        "\(sweep.request.criterion.name), K = \(point.k)")
            }
        }
    }

    @Test func sensitivityCoversEveryGroupAndNamesTheOthers() throws {
        let groups = try ChannelGroups(network.architecture)
        #expect(report.sensitivity.curves.map(\.group.name) == groups.prunable(allowResidual: false).map(\.name))
        #expect(report.sensitivity.curves.count + report.sensitivity.unprunable.count == groups.groups.count)
        #expect(!report.sensitivity.unprunable.isEmpty, "residual groups are not prunable without pruneResidual")
        let own = evaluate(network).correct
        for curve in report.sensitivity.curves { #expect(curve.sweep.points.first?.correct == own) }
    }

    @Test func theReportSaysWhatWasMeasuredAndAddsTheRemovalWhenGiven() throws {
        var report = report
        let markdown = report.markdown()
        #expect(markdown.hasPrefix("# Pruning study: resnet20\n"))
        #expect(markdown.contains("Model: `resnet.safetensors`. Test accuracy **\(String(format: "%.2f", report.accuracy)) %** on the 90 generated colours test images"))
        #expect(markdown.contains("One trained model"))
        #expect(markdown.contains("## Sweep of `\(group.name)`"))
        #expect(!markdown.contains("## Removal"), "no removal was run")
        let measurement = GroupPruneReport.Measurement(parameters: 100, multiplyAccumulates: 1000, fileBytes: 500, accuracy: 50, imagesPerSecond: 10)
        let smaller = GroupPruneReport.Measurement(parameters: 50, multiplyAccumulates: 400, fileBytes: 250, accuracy: 40, imagesPerSecond: 20)
        report.removal = GroupPruneReport(model: "resnet.safetensors", output: "pruned.safetensors", architecture: "resnet20", criterion: "l1",
                                          target: "--global-ratio 0.5 (max 0.9 per group)", groups: [], before: measurement, pruned: smaller,
                                          fineTuned: nil, finetuneEpochs: 0, calibration: nil, scratch: nil, scratchEpochs: nil)
        let withRemoval = report.markdown()
        #expect(withRemoval.contains("## Removal"))
        #expect(withRemoval.contains("parameters 100 → 50, MACs 1000 → 400 (2.50× fewer), 2.00× faster, accuracy 50.00 → 40.00 % pruned."))

        let directory = try StudyFixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try report.write(to: directory).map { URL(fileURLWithPath: $0).lastPathComponent }
        var expected: Set<String> = ["experiment.json", "report.md"]
        for base in ["sweep", "sensitivity"] { expected.formUnion(["json", "csv", "png", "svg"].map { "\(base).\($0)" }) }
        #expect(Set(files) == expected)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("experiment.json"))) as? [String: Any])
        #expect(document["swept_layer"] as? String == group.name)
        #expect(document["trained_here"] as? Bool == false)
        #expect((document["removal"] as? [String: Any])?["target"] as? String == "--global-ratio 0.5 (max 0.9 per group)")
        #expect((document["sensitivity"] as? [String: Any])?.count == report.sensitivity.curves.count)
    }
}
