import CNNStatistics
import Testing

/// Holm's correction against statsmodels and by hand; the bootstrap against a Python
/// transcription of its algorithm and against SciPy's own bootstrap; SplitMix64's stream.
@Suite struct CorrectionAndBootstrapTests {
    @Test func holmMatchesStatsmodels() {
        for case let (p, adjusted) in Reference.holm {
            let got = HolmBonferroni.adjustedPValues(p)
            #expect(got.count == adjusted.count)
            for (g, e) in zip(got, adjusted) { #expect(abs(g - e) < 1e-15, "\(p): \(got) vs \(adjusted)") }
        }
    }

    @Test func holmByHand() {
        // Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 → 0.02, 0.03, 0.06, 0.04 → running max 0.06 for the last.
        let adjusted = HolmBonferroni.adjustedPValues([0.01, 0.04, 0.03, 0.005])
        let expected = [0.03, 0.06, 0.06, 0.02]
        for (g, e) in zip(adjusted, expected) { #expect(abs(g - e) < 1e-15) }
        #expect(HolmBonferroni.rejections([0.01, 0.04, 0.03, 0.005]) == [true, false, false, true])
        #expect(HolmBonferroni.adjustedPValues([]) == [])
        #expect(HolmBonferroni.adjustedPValues([0.7, 0.9]) == [1, 1])
    }

    @Test func splitMixStream() {
        var generator = SplitMix64(seed: 1234567)
        #expect((0..<5).map { _ in generator.next() } == Reference.splitMix1234567)
        // Java's SplittableRandom/SplitMix64 with seed 0 starts 0xE220A8397B1DCDAF.
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test func bootstrapMatchesTranscriptionAndSciPy() throws {
        for case let (values, resamples, seed, lower, upper, scipyLower, scipyUpper) in Reference.bootstrap {
            let interval = try #require(Bootstrap.percentileInterval(values, resamples: resamples, seed: seed))
            #expect(relativeError(interval.lower, lower) < 1e-12, "\(interval.lower) vs \(lower)")
            #expect(relativeError(interval.upper, upper) < 1e-12, "\(interval.upper) vs \(upper)")
            // SciPy draws with another generator: the endpoints agree to Monte Carlo error
            // (a few percent of the interval's width with 2,000 resamples).
            let width = scipyUpper - scipyLower
            #expect(abs(interval.lower - scipyLower) < 0.1 * width)
            #expect(abs(interval.upper - scipyUpper) < 0.1 * width)
            // Same seed, same interval.
            #expect(Bootstrap.percentileInterval(values, resamples: resamples, seed: seed) == interval)
        }
        let difference = try #require(Bootstrap.percentileIntervalOfDifference(Reference.a, Reference.b, resamples: 2000, seed: 3))
        #expect(relativeError(difference.lower, Reference.bootstrapDifferenceAB.lower) < 1e-12)
        #expect(relativeError(difference.upper, Reference.bootstrapDifferenceAB.upper) < 1e-12)
    }

    @Test func percentileByHand() {
        // NumPy: np.percentile([1, 2, 3, 4, 5], 10) = 1.4; 97.5 % of 0…9 = 8.775.
        #expect(abs(Bootstrap.quantile(sorted: [1, 2, 3, 4, 5], 0.1) - 1.4) < 1e-15)
        #expect(abs(Bootstrap.quantile(sorted: (0..<10).map(Double.init), 0.975) - 8.775) < 1e-13)
        #expect(Bootstrap.quantile(sorted: [1, 2, 3], 1) == 3)
        #expect(Bootstrap.quantile(sorted: [7], 0.5) == 7)
    }
}
