/// A t statistic with its degrees of freedom and two-sided p-value, shared by the paired and
/// Welch tests.
///
/// When the standard error is 0 (every difference equal, or every value in both samples equal)
/// the statistic is defined here rather than NaN: a mean difference of 0 gives `t = 0`, `p = 1`
/// (no evidence of a difference); any other gives `t = ±∞`, `p = 0`. SciPy returns NaN there.
public struct TTestResult: Sendable, Equatable {
    /// The t statistic (difference / standard error).
    public let t: Double
    /// Degrees of freedom (Welch–Satterthwaite's may be fractional).
    public let degreesOfFreedom: Double
    /// Two-sided p-value, `P(|T| ≥ |t|)`.
    public let pValue: Double

    init(difference: Double, standardError: Double, degreesOfFreedom: Double) {
        self.degreesOfFreedom = degreesOfFreedom
        if standardError == 0 {
            t = difference == 0 ? 0 : (difference > 0 ? .infinity : -.infinity)
            pValue = difference == 0 ? 1 : 0
        } else {
            t = difference / standardError
            pValue = StudentT.twoSidedPValue(t, degreesOfFreedom: degreesOfFreedom)
        }
    }
}
