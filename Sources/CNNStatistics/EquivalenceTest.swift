/// The two one-sided tests (TOST, Schuirmann 1987) for equivalence of two independent means
/// within a margin: does `mean(first) − mean(second)` lie inside `(−margin, +margin)`? A Welch
/// test that finds no difference does not show that there is none; TOST can, by rejecting both
/// "difference ≤ −margin" and "difference ≥ +margin". Each side is a one-sided Welch t test
/// (as `statsmodels`' `ttost_ind(…, usevar="unequal")`); the p-value is the larger of the two.
/// Equivalently, equivalence at level α holds when the `1 − 2α` Welch interval lies inside the
/// margins.
public struct EquivalenceTest: Sendable, Equatable {
    /// The margin δ > 0, in the values' unit (e.g. 0.5 accuracy points).
    public let margin: Double
    /// `mean(first) − mean(second)`.
    public let meanDifference: Double
    /// Welch–Satterthwaite degrees of freedom of both one-sided tests.
    public let degreesOfFreedom: Double
    /// `(difference + δ) / se` and its p-value for H₀: difference ≤ −δ.
    public let lowerT: Double
    /// The p-value of `lowerT`.
    public let lowerPValue: Double
    /// `(difference − δ) / se` and its p-value for H₀: difference ≥ +δ.
    public let upperT: Double
    /// The p-value of `upperT`.
    public let upperPValue: Double
    /// The `1 − 2α` Welch interval for the difference.
    public let interval: ConfidenceInterval
    /// The level α the decision is taken at.
    public let alpha: Double

    /// Nil unless both samples have at least two values.
    /// - Parameters:
    ///   - first: one sample.
    ///   - second: another sample, independent of the first.
    ///   - margin: δ > 0.
    ///   - alpha: the level of each one-sided test, default 0.05.
    public init?(_ first: [Double], _ second: [Double], margin: Double, alpha: Double = 0.05) {
        precondition(margin > 0, "the equivalence margin must be positive")
        precondition(alpha > 0 && alpha < 0.5, "alpha must lie in (0, 0.5)")
        guard let welch = WelchTest(first, second, level: 1 - 2 * alpha) else { return nil }
        self.margin = margin
        self.alpha = alpha
        meanDifference = welch.meanDifference
        degreesOfFreedom = welch.degreesOfFreedom
        interval = welch.interval
        let se = welch.standardError, d = welch.meanDifference, df = welch.degreesOfFreedom
        if se == 0 {
            // No spread at all: each null hypothesis is decided by the difference alone.
            lowerT = d + margin > 0 ? .infinity : -.infinity
            upperT = d - margin < 0 ? -.infinity : .infinity
            lowerPValue = d > -margin ? 0 : 1
            upperPValue = d < margin ? 0 : 1
        } else {
            lowerT = (d + margin) / se
            upperT = (d - margin) / se
            lowerPValue = StudentT.survival(lowerT, degreesOfFreedom: df)
            upperPValue = StudentT.cdf(upperT, degreesOfFreedom: df)
        }
    }

    /// The TOST p-value: the larger one-sided p-value.
    public var pValue: Double { max(lowerPValue, upperPValue) }
    /// Whether equivalence within ±margin is shown at level α (`pValue < alpha`).
    public var isEquivalent: Bool { pValue < alpha }
}
