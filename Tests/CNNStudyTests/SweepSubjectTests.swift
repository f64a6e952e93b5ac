import CNNEngine
import CNNPruning
import CNNStudy
import Testing

/// `SweepSubject` and `ChannelGroups.studied`: which layer or group a sweep masks and at which
/// counts, with typed errors for names, counts and groups that cannot be studied.
@Suite struct SweepSubjectTests {
    @Test func aSimpleCNNLayerWithDefaultAndGivenCounts() throws {
        var generator = SeededGenerator(seed: 1)
        let network = Network(architecture: try StudyFixtures.widths.architecture(), generator: &generator)
        let (subject, counts) = try SweepSubject.layer(named: "conv2", of: network, counts: nil, fineTuned: false)
        guard case .layer(let layer) = subject else { Issue.record("not a layer"); return }
        #expect(layer.name == "conv2" && layer.unitCount == StudyFixtures.widths.conv2)
        #expect(counts == PruningCounts.defaultCounts(units: StudyFixtures.widths.conv2))
        #expect(try SweepSubject.layer(named: "fc1", of: network, counts: [0, 12], fineTuned: false).counts == [0, 12])
        #expect(throws: PruningError.self) { try SweepSubject.layer(named: "fc1", of: network, counts: [13], fineTuned: false) }
        #expect(throws: PruningError.self) { try SweepSubject.layer(named: "fc2", of: network, counts: nil, fineTuned: false) }
        // Fine-tuned, every K must leave a unit: 12 of fc1's 12 neurons is refused, 11 is not.
        #expect(try SweepSubject.layer(named: "fc1", of: network, counts: [0, 11], fineTuned: true).counts == [0, 11])
        do {
            _ = try SweepSubject.layer(named: "fc1", of: network, counts: [0, 12], fineTuned: true)
            Issue.record("a fine-tuned count removing every neuron was accepted")
        } catch let error as SweepSubject.FineTuningCountError {
            #expect(error.layer == "fc1" && error.units == 12 && error.unitName == "neuron" && error.count == 12)
            #expect(error.description == "a fine-tuned sweep must leave at least one neuron for every K: fc1 has 12, so K must be 0…11, got 12")
        }
    }

    @Test func aGroupOfAResidualNetwork() throws {
        let graph = try ModelZoo.graph(named: "resnet20", classes: 3, inputShape: [3, 8, 8], widthMultiplier: 0.25)
        var generator = SeededGenerator(seed: 9)
        let network = Network(architecture: try graph.sequential(), generator: &generator)
        let groups = try ChannelGroups(network.architecture)
        let prunable = groups.prunable(allowResidual: false)
        // No name: the last prunable group, with 16 counts from 0 (or as many as it has).
        let (subject, counts) = try SweepSubject.group(named: nil, of: network, counts: nil, allowResidual: false)
        guard case .group(let group) = subject else { Issue.record("not a group"); return }
        #expect(group.name == prunable.last?.name)
        #expect(counts == PruningCounts.defaultCounts(units: group.units))
        #expect(throws: PruningError.countOutOfRange(group.units + 1, layer: group.name, units: group.units, unitName: "channel")) {
            try SweepSubject.group(named: group.name, of: network, counts: [group.units + 1], allowResidual: false)
        }
        // A residual group is refused unless allowed, an output group always, an unknown name by name.
        let residual = try #require(groups.groups.first { $0.isResidual && $0.isPrunable(allowResidual: true) })
        #expect(throws: StudyError.self) { try groups.studied(residual.name, allowResidual: false) }
        #expect(try groups.studied(residual.name, allowResidual: true).name == residual.name)
        let output = try #require(groups.groups.first { $0.isOutput })
        do {
            _ = try groups.studied(output.name, allowResidual: true)
            Issue.record("the output group was studied")
        } catch StudyError.notPrunable(let refused, _) {
            #expect(refused.name == output.name)
        }
        #expect(throws: PruningError.unknownLayer("nope", valid: prunable.map(\.name))) { try groups.studied("nope", allowResidual: false) }
    }
}
