import CNNEngine
import Foundation
import Testing

/// Schedules against values computed by hand from PyTorch's `MultiStepLR`, `CosineAnnealingLR`
/// and `LinearLR` formulas.
@Suite struct LearningRateScheduleTests {
    func rates(_ schedule: LearningRateSchedule, steps: Int, stepsPerEpoch: Int) -> [Double] {
        (0..<steps).map { Double(schedule.learningRate(step: $0, stepsPerEpoch: stepsPerEpoch)) }
    }

    func expectClose(_ a: [Double], _ b: [Double], _ comment: Comment? = nil) {
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-6 * max(1, abs(y)), comment) }
    }

    @Test func constantIsTheBaseRateEveryStep() {
        #expect(rates(.constant(0.001), steps: 50, stepsPerEpoch: 7).allSatisfy { Float($0) == 0.001 })
    }

    @Test func stepLowersTheRateAtEachMilestoneEpoch() {
        // MultiStepLR(milestones=[2, 4], gamma=0.1) stepped per epoch: epochs 0–1 at 0.1, 2–3 at 0.01, 4+ at 0.001.
        let schedule = LearningRateSchedule(shape: .step, baseLearningRate: 0.1, epochs: 6, milestones: [4, 2], gamma: 0.1)
        let expected = [Double](repeating: 0.1, count: 6) + [Double](repeating: 0.01, count: 6) + [Double](repeating: 0.001, count: 6)
        expectClose(rates(schedule, steps: 18, stepsPerEpoch: 3), expected)
    }

    @Test func cosineAnnealsPerStepFromTheBaseTowardsZero() {
        // CosineAnnealingLR(T_max = 4): (1 + cos(π t/4))/2 for t = 0…3.
        let schedule = LearningRateSchedule(shape: .cosine, baseLearningRate: 1, epochs: 2)
        expectClose(rates(schedule, steps: 4, stepsPerEpoch: 2), [1, 0.8535533905932737, 0.5, 0.14644660940672627])
        #expect(schedule.learningRate(step: 4, stepsPerEpoch: 2) == 0)   // after the run: the end of the curve
    }

    @Test func warmupRisesLinearlyPerStepThenHandsOver() {
        // One warm-up epoch of 2 steps: base·1/2, base·2/2; then cosine over the remaining 2 epochs (T = 4).
        let cosine = LearningRateSchedule(shape: .cosine, baseLearningRate: 0.4, epochs: 3, warmupEpochs: 1)
        expectClose(rates(cosine, steps: 6, stepsPerEpoch: 2), [0.2, 0.4, 0.4, 0.4 * 0.8535533905932737, 0.2, 0.4 * 0.14644660940672627])
        // Warm-up over 4 steps (LinearLR(start_factor=1/4, total_iters=3)), then the step schedule
        // whose milestone (epoch 2) counts epochs of the whole run.
        let step = LearningRateSchedule(shape: .step, baseLearningRate: 0.1, epochs: 4, milestones: [2], gamma: 0.5, warmupEpochs: 1)
        expectClose(rates(step, steps: 12, stepsPerEpoch: 4), [0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05])
        let constant = LearningRateSchedule(shape: .constant, baseLearningRate: 1, epochs: 5, warmupEpochs: 2)
        expectClose(rates(constant, steps: 4, stepsPerEpoch: 1), [0.5, 1, 1, 1])
    }

    @Test func roundTripsThroughJSON() throws {
        let schedule = LearningRateSchedule(shape: .step, baseLearningRate: 0.1, epochs: 160, milestones: [100, 150], gamma: 0.1, warmupEpochs: 1)
        let json = try JSONEncoder().encode(schedule)
        #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: json) == schedule)
        #expect(String(decoding: json, as: UTF8.self).contains("\"warmup_epochs\":1"))
    }
}
