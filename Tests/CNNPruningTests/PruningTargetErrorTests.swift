import CNNEngine
import CNNPruning
import Testing

/// The group pruner's and the counts parser's errors are typed and say what is wrong in the
/// library's terms, without the command line's flags.
@Suite struct PruningTargetErrorTests {
    func network(_ name: String, width: Double) throws -> Network {
        let graph = try ModelZoo.graph(named: name, classes: 10, inputShape: [3, 32, 32], widthMultiplier: width)
        var generator = SeededGenerator(seed: 1)
        return Network(architecture: try graph.sequential(), generator: &generator)
    }

    @Test func targetErrorsCarryTheirValues() throws {
        let network = try network("vgg11-bn", width: 0.125)
        let group = try #require(try ChannelGroups(network.architecture).prunable(allowResidual: false).first)
        let pruner = GroupPruner(criterion: L1Norm())
        #expect(throws: PruningTargetError.tooManySteps(3, count: 2, group: group.name)) {
            try pruner.prune(network, to: .count(2, group: group.name), steps: 3) { $1 }
        }
        #expect(throws: PruningTargetError.fractionOutOfRange(.globalRatio(1.5))) { try pruner.prune(network, to: .globalRatio(1.5)) }
        #expect(throws: PruningTargetError.fractionOutOfRange(.parameters(0))) { try pruner.prune(network, to: .parameters(0)) }
        #expect(throws: PruningTargetError.calibrationNeeded(criterion: "taylor")) {
            try GroupPruner(criterion: Taylor()).prune(network, to: .uniformRatio(0.5))
        }
        do {
            _ = try GroupPruner(criterion: L1Norm(), maximumGroupRatio: 0.5).prune(network, to: .multiplyAccumulates(0.01))
            Issue.record("an unreachable budget was reached")
        } catch let error as PruningTargetError {
            guard case .budgetUnreachable(let target, let ratio, let reached) = error else { Issue.record("\(error)"); return }
            #expect(target == .multiplyAccumulates(0.01) && ratio == 0.5 && reached > 0.01 && reached < 1)
        }
        do {
            _ = try GroupPruner(criterion: L1Norm(), maximumGroupRatio: 0.5, allocation: .uniform).prune(network, to: .parameters(0.01))
            Issue.record("an unreachable budget was reached")
        } catch let error as PruningTargetError {
            guard case .uniformBudgetUnreachable(let target, _, let percent, let reached) = error else { Issue.record("\(error)"); return }
            #expect(target == .parameters(0.01) && percent == 50 && reached > 0.01)
        }
    }

    @Test(arguments: [PruningTargetError.calibrationNeeded(criterion: "taylor"), .tooManySteps(3, count: 2, group: "g"),
                      .fractionOutOfRange(.uniformRatio(2)), .fractionOutOfRange(.multiplyAccumulates(-1)),
                      .budgetUnreachable(.parameters(0.1), maximumGroupRatio: 0.9, reached: 0.2),
                      .uniformBudgetUnreachable(.multiplyAccumulates(0.1), maximumGroupRatio: 0.9, percent: 90, reached: 0.3),
                      .noPrunableGroup(allowResidual: false), .noPrunableGroup(allowResidual: true)])
    func messagesAreOneLineWithoutFlags(error: PruningTargetError) {
        #expect(!error.description.contains("--") && !error.description.contains("\n") && !error.description.isEmpty)
    }

    @Test func theMessagesSayTheValues() {
        #expect(PruningTargetError.fractionOutOfRange(.globalRatio(1.5)).description == "the global ratio must be strictly between 0 and 1, got 1.5")
        #expect(PruningTargetError.budgetUnreachable(.multiplyAccumulates(0.1), maximumGroupRatio: 0.9, reached: 0.2345).description
                == "cannot reach 0.1 of the original multiply-accumulates: every prunable group is down to 10 % of its channels (maximum group ratio 0.9) at 23 %")
        #expect(PruningTarget.parameters(0.3).fraction == 0.3 && PruningTarget.count(2, group: "g").fraction == nil)
    }

    @Test func badCountsCarryTheTextAndTheReason() {
        #expect(throws: PruningError.invalidCounts("3,2", reason: "the counts must increase, but 2 follows 3")) { try PruningCounts.parse("3,2") }
        #expect(!PruningError.invalidCounts("x", reason: "y").description.contains("--"))
    }
}
