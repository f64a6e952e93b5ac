/// Welch's two-sample t test (unequal variances; `scipy.stats.ttest_ind(a, b, equal_var=False)`)
/// and the Welch interval for `mean(a) − mean(b)`: the right comparison of two independent sets
/// of replicates, such as cnnprune's seeds against the PyTorch peer's, whose spreads need not
/// be equal.
public struct WelchTest: Sendable, Equatable {
    /// The two samples summarised.
    public let first: SampleSummary
    /// The second sample's summary.
    public let second: SampleSummary
    /// `mean(first) − mean(second)`.
    public let meanDifference: Double
    /// `√(s₁²/n₁ + s₂²/n₂)`.
    public let standardError: Double
    /// The statistic, its Welch–Satterthwaite degrees of freedom and two-sided p-value.
    public let test: TTestResult
    /// The interval for the mean difference at `level`.
    public let interval: ConfidenceInterval

    /// Nil unless both samples have at least two values (the test needs each sample's variance).
    /// - Parameters:
    ///   - first: one sample.
    ///   - second: another sample, independent of the first.
    ///   - level: the interval's coverage, default 0.95.
    public init?(_ first: [Double], _ second: [Double], level: Double = 0.95) {
        precondition(level > 0 && level < 1, "the level must lie in (0, 1)")
        let a = SampleSummary(first), b = SampleSummary(second)
        guard let va = a.variance, let vb = b.variance else { return nil }
        self.first = a
        self.second = b
        meanDifference = a.mean - b.mean
        let ua = va / Double(a.count), ub = vb / Double(b.count)
        standardError = (ua + ub).squareRoot()
        // Welch–Satterthwaite; with both variances 0 it is 0/0, and the pooled n₁ + n₂ − 2 is used.
        let df = ua + ub == 0 ? Double(a.count + b.count - 2)
            : (ua + ub) * (ua + ub) / (ua * ua / Double(a.count - 1) + ub * ub / Double(b.count - 1))
        test = TTestResult(difference: meanDifference, standardError: standardError, degreesOfFreedom: df)
        interval = .student(estimate: meanDifference, standardError: standardError, degreesOfFreedom: df, level: level)
    }

    /// Welch–Satterthwaite degrees of freedom.
    public var degreesOfFreedom: Double { test.degreesOfFreedom }
    /// Two-sided p-value of "equal means".
    public var pValue: Double { test.pValue }
}
