/// Percentile bootstrap intervals (Efron 1979): resample the values with replacement, recompute
/// the statistic, and take the middle `level` of its resampled values. No distributional
/// assumption, which makes it a cross-check on the t intervals when the sample is skewed; with
/// few values (below about 10) it is too narrow, so prefer the t interval there.
///
/// Deterministic: the draws come from `SplitMix64(seed:)`, resample after resample, each index
/// as `next() % n` (for two samples: all of the first's indices, then all of the second's).
/// The quantiles of the resampled statistics are NumPy's default (`method="linear"`): at
/// `h = (B − 1)·q` in the sorted values, interpolated between `⌊h⌋` and `⌊h⌋ + 1`.
public enum Bootstrap {
    /// The interval for `statistic` (default: the mean) of one sample; nil for fewer than two values.
    /// - Parameters:
    ///   - values: the sample.
    ///   - resamples: how many bootstrap samples (B), default 10,000.
    ///   - level: coverage, default 0.95: the (1−level)/2 and (1+level)/2 quantiles.
    ///   - seed: seeds the generator.
    ///   - statistic: computed on each resample.
    public static func percentileInterval(_ values: [Double], resamples: Int = 10_000, level: Double = 0.95, seed: UInt64 = 0,
                                          statistic: ([Double]) -> Double = { SampleSummary($0).mean }) -> ConfidenceInterval? {
        precondition(resamples > 1 && level > 0 && level < 1)
        guard values.count > 1 else { return nil }
        var generator = SplitMix64(seed: seed)
        var sample = values
        var statistics = [Double]()
        statistics.reserveCapacity(resamples)
        for _ in 0..<resamples {
            for i in sample.indices { sample[i] = values[generator.index(below: values.count)] }
            statistics.append(statistic(sample))
        }
        return interval(of: &statistics, level: level)
    }

    /// The interval for `mean(first) − mean(second)` of two independent samples, each resampled
    /// on its own; nil unless both have at least two values.
    public static func percentileIntervalOfDifference(_ first: [Double], _ second: [Double], resamples: Int = 10_000,
                                                      level: Double = 0.95, seed: UInt64 = 0) -> ConfidenceInterval? {
        precondition(resamples > 1 && level > 0 && level < 1)
        guard first.count > 1, second.count > 1 else { return nil }
        var generator = SplitMix64(seed: seed)
        var a = first, b = second
        var statistics = [Double]()
        statistics.reserveCapacity(resamples)
        for _ in 0..<resamples {
            for i in a.indices { a[i] = first[generator.index(below: first.count)] }
            for i in b.indices { b[i] = second[generator.index(below: second.count)] }
            statistics.append(SampleSummary(a).mean - SampleSummary(b).mean)
        }
        return interval(of: &statistics, level: level)
    }

    /// NumPy's linear-interpolation quantile of `sorted` (ascending) at `q` in [0, 1].
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty && q >= 0 && q <= 1)
        let h = Double(sorted.count - 1) * q
        let low = Int(h.rounded(.down))
        guard low + 1 < sorted.count else { return sorted[sorted.count - 1] }
        return sorted[low] + (h - Double(low)) * (sorted[low + 1] - sorted[low])
    }

    private static func interval(of statistics: inout [Double], level: Double) -> ConfidenceInterval {
        statistics.sort()
        return ConfidenceInterval(lower: quantile(sorted: statistics, (1 - level) / 2),
                                  upper: quantile(sorted: statistics, (1 + level) / 2), level: level)
    }
}
