import Testing
@testable import CNNStatistics

/// Fine-tuning recovery against the K = 0 control, paired by model; intervals by hand
/// (t quantiles: 4.302653 for 2 degrees of freedom, 2.776445 for 4).
@Suite("Recovery against the control")
struct RecoveryComparisonTests {
    @Test("a consistent loss: the interval lies below 0 and the sentence says how far")
    func consistentLoss() throws {
        // Differences −1, −1.2, −0.8, −1.1, −0.9: mean −1, sd √0.025, se 0.0707107.
        let recovery = RecoveryComparison(pruned: [70, 69.8, 70.2, 69.9, 70.1], control: [71, 71, 71, 71, 71])
        let interval = try #require(recovery.comparison.interval)
        #expect(abs(recovery.meanDifference + 1) < 1e-12)
        #expect(abs(interval.lower - (-1 - 2.776445 * 0.0707107)) < 1e-5)
        #expect(abs(interval.upper - (-1 + 2.776445 * 0.0707107)) < 1e-5)
        #expect(recovery.sentence == "after fine-tuning the pruned models stay below their equally fine-tuned controls by 1.00 points (95 % CI 0.80 to 1.20; paired t p < 0.001)")
    }

    @Test("a spread that straddles 0: no difference detected, with the interval")
    func noDifference() throws {
        // Differences −1, −1.5, −0.5: mean −1, sd 0.5, se 0.288675; half-width 1.242068.
        let recovery = RecoveryComparison(pruned: [70, 71, 69], control: [71, 72.5, 69.5])
        let interval = try #require(recovery.comparison.interval)
        #expect(abs(interval.lower - (-2.242068)) < 1e-5 && abs(interval.upper - 0.242068) < 1e-5)
        #expect(recovery.sentence.hasPrefix("no difference between the fine-tuned pruned models and their equally fine-tuned controls detected with 3 models (mean difference −1.00 points, 95 % CI −2.24 to +0.24; paired t p = "))
    }

    @Test("a gain above the control says so; one model says it is one model")
    func gainAndOneModel() {
        let gain = RecoveryComparison(pruned: [72, 72.2, 71.8, 72.1, 71.9], control: [71, 71, 71, 71, 71])
        #expect(gain.sentence.hasPrefix("after fine-tuning the pruned models end above their equally fine-tuned controls by 1.00 points (95 % CI 0.80 to 1.20"))
        let one = RecoveryComparison(pruned: [70], control: [71.5])
        #expect(one.comparison.interval == nil)
        #expect(one.sentence == "after fine-tuning the pruned model is −1.50 points from its equally fine-tuned control, on one model (no interval with one model)")
    }
}
