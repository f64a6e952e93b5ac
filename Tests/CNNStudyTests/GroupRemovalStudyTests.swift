import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Testing

/// `GroupRemovalStudy` on a quarter-width ResNet-20: the figures it reports are the networks' own,
/// the caller's training runs between the steps and once at the end, and bad targets are typed errors.
@Suite struct GroupRemovalStudyTests {
    let network: Network

    init() throws {
        let graph = try ModelZoo.graph(named: "resnet20", classes: 3, inputShape: [3, 8, 8], widthMultiplier: 0.25)
        var generator = SeededGenerator(seed: 9)
        network = Network(architecture: try graph.sequential(), generator: &generator)
    }

    func images() -> CalibrationImages {
        CalibrationImages(test: StudyFixtures.test, seed: 5, threads: 1, train: StudyFixtures.train)
    }

    @Test func theFiguresAreThePrunedNetworksOwn() throws {
        let removal = GroupRemovalStudy(target: .globalRatio(0.5), criterion: "l1", threads: 1, timingRuns: 1)
        var events: [String] = []
        let result = try removal.run(network: network, test: StudyFixtures.test, calibration: images(), observe: { event in
            if case .changes(let changes) = event { events.append("changes \(changes.count)") }
        })
        #expect(events == ["changes \(result.changes.count)"])
        #expect(!result.changes.isEmpty)
        let cost = ArchitectureCost(result.pruned.architecture), original = ArchitectureCost(network.architecture)
        #expect(result.before.parameters == original.parameters && result.before.multiplyAccumulates == original.multiplyAccumulates)
        #expect(result.prunedMeasurement.parameters == cost.parameters)
        #expect(result.prunedMeasurement.multiplyAccumulates == cost.multiplyAccumulates)
        #expect(cost.multiplyAccumulates < original.multiplyAccumulates)
        let accuracy = Evaluator(threads: 1).evaluate(result.pruned, on: StudyFixtures.test).accuracy
        #expect(abs(result.prunedMeasurement.accuracy - accuracy) < 0.006)
        #expect(result.fineTuned == nil && result.scratch == nil && result.measurements.count == 2)
        // Every removed channel count matches the group's shrinkage.
        let after = try ChannelGroups(result.pruned.architecture)
        for change in result.changes {
            #expect(change.before - change.after == change.removed.count)
            #expect(after.group(named: change.name)?.units == change.after)
        }
    }

    @Test func theCallersTrainingRunsBetweenStepsAndAtTheEnd() throws {
        let removal = GroupRemovalStudy(target: .globalRatio(0.4), criterion: "taylor", calibration: .trainingSubset(60), steps: 2,
                                   threads: 1, timingRuns: 1)
        var calls: [Int] = []
        var steps: [Int] = []
        let result = try removal.run(
            network: network, test: StudyFixtures.test, calibration: images(),
            fineTune: { current, step in calls.append(step); return current },
            trainFromScratch: { fresh in calls.append(-1); return fresh },
            observe: { event in
                if case .step(let step, _) = event { steps.append(step) }
            })
        #expect(steps == [1])
        #expect(calls == [1, 2, -1])
        #expect(result.fineTuned != nil && result.scratch != nil && result.measurements.count == 4)
        #expect(result.calibrationDescription == "train:60")
        #expect(result.scratch?.architecture.parameterCount == result.pruned.architecture.parameterCount)
    }

    @Test func anUnknownCriterionIsATypedError() {
        #expect(throws: StudyError.self) {
            try GroupRemovalStudy(target: .globalRatio(0.5), criterion: "no-such-criterion", threads: 1, timingRuns: 1)
                .run(network: network, test: StudyFixtures.test, calibration: images())
        }
    }
}
