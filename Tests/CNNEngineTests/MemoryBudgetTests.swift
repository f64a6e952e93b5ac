import CNNEngine
import Foundation
import Testing

/// The memory estimate made before workspaces are allocated, and the stated limits.
@Suite struct MemoryBudgetTests {
    private func graph(_ json: String) throws -> Sequential {
        try ModelGraph.decode(Data(json.utf8)).sequential()
    }

    /// Flatten then a 4 → 3 linear layer, counted by hand: activations 4 + 4 + 3 floats per
    /// sample (training: the input's 4, then 4 and 3 with their gradients), 15 parameters.
    @Test func aSmallNetworkCountedByHand() throws {
        let architecture = try graph(#"{"input": [1, 2, 2], "layers": [{"type": "flatten"}, {"type": "linear", "name": "fc", "out": 3}]}"#)
        #expect(architecture.parameterCount == 15)
        #expect(architecture.layers.allSatisfy { $0.scratchPerSample == 0 && $0.scratchPerBatch == 0 && $0.transientPerSample == 0 && $0.keptPerBatch == 0 })
        #expect(MemoryBudget.estimatedBytes(for: architecture, samplesPerWorker: 1, workers: 1, training: false) == 4 * (15 + 11))
        #expect(MemoryBudget.estimatedBytes(for: architecture, samplesPerWorker: 1, workers: 1, training: true) == 4 * (15 + 18 + 15))
        #expect(MemoryBudget.estimatedBytes(for: architecture, samplesPerWorker: 10, workers: 2, training: true) == 4 * (15 + 2 * (10 * 18 + 15)))
    }

    @Test func anOverflowingEstimateIsNilAndRefused() throws {
        let architecture = try graph(#"{"input": [3, 32, 32], "layers": [{"type": "conv", "name": "c", "out": 64, "kernel": 3, "padding": 1}]}"#)
        #expect(MemoryBudget.estimatedBytes(for: architecture, samplesPerWorker: Int.max / 2, workers: 4, training: true) == nil)
        #expect(throws: MemoryBudgetError.self) { try MemoryBudget.check(architecture, samplesPerWorker: Int.max / 2, workers: 4, training: true) }
        // 2^40 samples of 64 × 32 × 32 floats: far beyond any machine, but countable.
        #expect { try MemoryBudget.checkTraining(architecture, batchSize: 1 << 40, threads: 2) } throws: {
            ($0 as? MemoryBudgetError)?.description.contains("available") == true
        }
        try MemoryBudget.checkTraining(architecture, batchSize: 64, threads: 2)
    }

    @Test func schedulesBeyondTheLimitsAreRefused() throws {
        var schedule = LearningRateSchedule(shape: .cosine, baseLearningRate: 0.1, epochs: 10, warmupEpochs: 2)
        try schedule.validate()
        schedule.epochs = TrainingLimits.maximumEpochs + 1
        #expect(throws: TrainingCheckpointError.self) { try schedule.validate() }
        schedule.epochs = 10
        schedule.warmupEpochs = Int.max
        #expect(throws: TrainingCheckpointError.self) { try schedule.validate() }
        schedule.warmupEpochs = 0
        schedule.milestones = [Int.max]
        #expect(throws: TrainingCheckpointError.self) { try schedule.validate() }
    }
}
