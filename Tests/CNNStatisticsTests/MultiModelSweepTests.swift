import CNNStatistics
import Testing

/// `MultiModelSweep` and `MultiModelSensitivity` on 3 models × 3 criteria × K = 0, 2, 4, with
/// every figure worked out by hand. With 3 models the t distribution has 2 degrees of freedom,
/// where `t_{0.975, 2} = 4.302652729911275` and the two-sided p-value has the closed form
/// `p = 1 − |t| / √(2 + t²)`.
@Suite struct MultiModelSweepTests {
    static let t975df2 = 4.302652729911275

    /// Accuracy (%) at K = 0, 2, 4 on models 0, 1, 2. Means over K = 2, 4 per model:
    /// random 55, 55, 55; l1 62, 63, 60; apoz 55.5, 54.5, 55.5.
    static let curves = [
        ReplicatedCurve(name: "random", xs: [0, 2, 4], valuesByModel: [[70, 60, 50], [72, 62, 48], [68, 58, 52]]),
        ReplicatedCurve(name: "l1", xs: [0, 2, 4], valuesByModel: [[70, 66, 58], [72, 66, 60], [68, 65, 55]]),
        ReplicatedCurve(name: "apoz", xs: [0, 2, 4], valuesByModel: [[70, 61, 50], [72, 61, 48], [68, 59, 52]]),
    ]

    static let sweep = MultiModelSweep(curves: curves, baselines: ["random", "l1", "not-a-criterion"])

    @Test func pointMeansAndIntervals() throws {
        let l1 = Self.sweep.curves[1]
        #expect(l1.values(at: 1) == [66, 66, 65])
        // 66, 66, 65: mean 65.6667, variance (1/9 + 1/9 + 4/9)/2 = 1/3, se = 1/3.
        let point = l1.points[1]
        #expect(abs(point.mean - 197.0 / 3) < 1e-12)
        let interval = try #require(point.interval)
        #expect(abs(interval.halfWidth - Self.t975df2 / 3) < 1e-9)
        #expect(abs(interval.lower - (197.0 / 3 - Self.t975df2 / 3)) < 1e-9)
        // K = 0 is the same model for every criterion: 70, 72, 68, mean 70, sd 2.
        #expect(Self.sweep.curves[0].points[0].mean == 70)
        #expect(abs(try #require(Self.sweep.curves[0].points[0].standardDeviation) - 2) < 1e-12)
    }

    @Test func meanOverKExcludesTheUnprunedPoint() throws {
        #expect(Self.curves[1].perModelMean { $0 > 0 } == [62, 63, 60])
        let l1 = Self.sweep.meanOverPoints[1]
        // 62, 63, 60: mean 61.6667, variance (1/9 + 16/9 + 25/9)/2 = 7/3.
        #expect(abs(l1.mean - 185.0 / 3) < 1e-12)
        #expect(abs(try #require(l1.summary.variance) - 7.0 / 3) < 1e-12)
        let interval = try #require(l1.interval)
        #expect(abs(interval.halfWidth - Self.t975df2 * (7.0 / 9).squareRoot()) < 1e-9)
        #expect(Self.sweep.meanOverPoints[0].mean == 55)
        #expect(Self.sweep.meanOverPoints[0].interval == ConfidenceInterval(lower: 55, upper: 55, level: 0.95))
    }

    @Test func pairedAgainstRandomWithHolm() throws {
        let results = try #require(Self.sweep.comparisons(against: "random"))
        #expect(results.map(\.name) == ["l1", "apoz"])
        // l1 − random per model: 7, 8, 5; mean 20/3, variance 7/3, se² = 7/9, t² = 400/7.
        let l1 = results[0]
        #expect(l1.differences == [7, 8, 5])
        #expect(abs(l1.meanDifference - 20.0 / 3) < 1e-12)
        let interval = try #require(l1.comparison.interval)
        #expect(abs(interval.lower - 2.872083632927202) < 1e-9)
        #expect(abs(interval.upper - 10.461249700406132) < 1e-9)
        let pL1 = 1 - ((400.0 / 7) / (2 + 400.0 / 7)).squareRoot()   // 0.0170536
        #expect(abs(try #require(l1.comparison.test).pValue - pL1) < 1e-9)
        // apoz − random: 0.5, −0.5, 0.5; mean 1/6, se 1/3, t = 0.5, p = 1 − 0.5/1.5 = 2/3.
        let apoz = results[1]
        #expect(abs(try #require(apoz.comparison.test).pValue - 2.0 / 3) < 1e-9)
        // Holm over the two: 2 · 0.0170536 = 0.0341073, then max(0.0341073, 1 · 2/3) = 2/3.
        #expect(abs(try #require(l1.holmAdjustedPValue) - 2 * pL1) < 1e-9)
        #expect(abs(try #require(apoz.holmAdjustedPValue) - 2.0 / 3) < 1e-9)
        #expect(l1.intervalExcludesZero)
        #expect(!apoz.intervalExcludesZero)
    }

    @Test func holmKeepsTheAdjustedValuesMonotone() throws {
        let results = try #require(Self.sweep.comparisons(against: "l1"))
        #expect(results.map(\.name) == ["random", "apoz"])
        // random − l1: p = 0.0170536; apoz − l1: −6.5, −8.5, −4.5, variance 4, t² = 31.6875,
        // p = 0.0301388. Holm: 2 · 0.0170536 = 0.0341073 for the smaller, and the larger's
        // 1 · 0.0301388 is raised to the running maximum 0.0341073.
        let pRandom = 1 - ((400.0 / 7) / (2 + 400.0 / 7)).squareRoot()
        let pApoz = 1 - (31.6875 / 33.6875).squareRoot()
        #expect(abs(try #require(results[1].comparison.test).pValue - pApoz) < 1e-9)
        #expect(abs(try #require(results[0].holmAdjustedPValue) - 2 * pRandom) < 1e-9)
        #expect(abs(try #require(results[1].holmAdjustedPValue) - 2 * pRandom) < 1e-9)
        #expect(Self.sweep.comparisons.map(\.baseline) == ["random", "l1"])   // unknown names are skipped
        #expect(Self.sweep.comparisons(against: "not-a-criterion") == nil)
    }

    @Test func sentences() throws {
        let random = try #require(Self.sweep.comparisons(against: "random"))
        #expect(random[0].sentence == "l1 keeps more accuracy than random by 6.67 points (95 % CI 2.87 to 10.46; paired t, Holm-adjusted p = 0.034)")
        #expect(random[1].sentence == "no difference between apoz and random detected with 3 models (mean difference +0.17 points, 95 % CI −1.27 to +1.60; paired t, Holm-adjusted p = 0.667)")
        let l1 = try #require(Self.sweep.comparisons(against: "l1"))
        // apoz − l1: mean −6.5, CI −6.5 ± 4.3027 · √(4/3) = −11.47 to −1.53, read as "less by 6.50 (1.53 to 11.47)".
        #expect(l1[1].sentence == "apoz keeps less accuracy than l1 by 6.50 points (95 % CI 1.53 to 11.47; paired t, Holm-adjusted p = 0.034)")
        // Two identical criteria 6.5 points below l1 (p = 0.0301 each): Holm doubles the smaller to 0.0603.
        let copy = ReplicatedCurve(name: "apoz-copy", xs: Self.curves[2].xs, valuesByModel: Self.curves[2].valuesByModel)
        let family = try #require(MultiModelSweep(curves: [Self.curves[1], Self.curves[2], copy], baselines: ["l1"]).comparisons(against: "l1"))
        #expect(family[0].familySize == 2)
        #expect(family[0].sentence == "apoz keeps less accuracy than l1 by 6.50 points (95 % CI 1.53 to 11.47; paired t, Holm-adjusted p = 0.060; not significant at 5 % after Holm's correction for the 2 comparisons)")
        let one = MultiModelSweep(curves: [ReplicatedCurve(name: "random", xs: [0, 2], valuesByModel: [[70, 60]]),
                                           ReplicatedCurve(name: "l1", xs: [0, 2], valuesByModel: [[70, 65]])], baselines: ["random"])
        let single = try #require(one.comparisons(against: "random")?.first)
        #expect(single.holmAdjustedPValue == nil)
        #expect(single.sentence == "l1 against random: +5.00 points on one model (no interval with one model)")
    }

    @Test func sensitivityDropsAndTheMostSensitiveLayer() throws {
        // Drops at 50 %: conv1 10, 9, 11 (mean 10, variance 1); conv2 20, 22, 18 (mean 20,
        // variance 4); conv2 − conv1 per model 10, 13, 7 (mean 10, variance 9, se √3).
        let analysis = MultiModelSensitivity(layers: [
            ReplicatedCurve(name: "conv1", xs: [0, 0.5], valuesByModel: [[70, 60], [72, 63], [68, 57]]),
            ReplicatedCurve(name: "conv2", xs: [0, 0.5], valuesByModel: [[70, 50], [72, 50], [68, 50]]),
            ReplicatedCurve(name: "fc1", xs: [0, 0.25], valuesByModel: [[70, 69], [72, 71], [68, 67]]),
        ], fraction: 0.5)
        #expect(analysis.drops.map(\.layer) == ["conv1", "conv2"])   // fc1 did not measure 50 %
        #expect(analysis.drops[1].perModel == [20, 22, 18])
        let most = try #require(analysis.mostSensitive)
        #expect(most.layer == "conv2")
        #expect(most.drop.mean == 20)
        let overRunnerUp = try #require(most.overRunnerUp)
        #expect(overRunnerUp.baseline == "conv1")
        let interval = try #require(overRunnerUp.comparison.interval)
        #expect(abs(interval.lower - (10 - Self.t975df2 * 3.0.squareRoot())) < 1e-9)
        #expect(abs(try #require(overRunnerUp.comparison.test).pValue - (1 - ((100.0 / 3) / (2 + 100.0 / 3)).squareRoot())) < 1e-9)
        #expect(analysis.sentence == "pruning 50 % of a layer's units costs the most in conv2: 20.00 points (95 % CI 15.03 to 24.97); conv1 10.00 points (95 % CI 7.52 to 12.48). conv2 loses more than conv1 by 10.00 points (95 % CI 2.55 to 17.45, paired t p = 0.029)")
        #expect(Self.curves[0].drop(from: 0, to: 2).mean == 20)   // random: 70 − 50, 72 − 48, 68 − 52
    }
}
