import Foundation

/// Student's t distribution with `ν` degrees of freedom (any real `ν > 0`, as Welch's test needs):
/// its CDF, tails and quantiles, from which every interval and p-value here is computed.
public enum StudentT {
    /// `P(T ≤ t)`. Computed from the regularised incomplete beta function:
    /// `P(|T| > |t|) = I_{ν/(ν+t²)}(ν/2, 1/2)`, halved for one side.
    /// - Parameters:
    ///   - t: the point; ±∞ give 1 and 0.
    ///   - degreesOfFreedom: `ν > 0` (NaN otherwise).
    public static func cdf(_ t: Double, degreesOfFreedom: Double) -> Double {
        guard degreesOfFreedom > 0, !t.isNaN else { return .nan }
        if t == 0 { return 0.5 }
        let tail = upperTail(abs(t), degreesOfFreedom: degreesOfFreedom)
        return t > 0 ? 1 - tail : tail
    }

    /// `P(T > t)`, computed directly (not as `1 − cdf`), so that small upper-tail p-values keep
    /// their relative accuracy.
    public static func survival(_ t: Double, degreesOfFreedom: Double) -> Double {
        guard degreesOfFreedom > 0, !t.isNaN else { return .nan }
        if t == 0 { return 0.5 }
        let tail = upperTail(abs(t), degreesOfFreedom: degreesOfFreedom)
        return t > 0 ? tail : 1 - tail
    }

    /// The two-sided p-value `P(|T| ≥ |t|)` of a t statistic.
    public static func twoSidedPValue(_ t: Double, degreesOfFreedom: Double) -> Double {
        guard degreesOfFreedom > 0, !t.isNaN else { return .nan }
        if t == 0 { return 1 }
        return min(1, 2 * upperTail(abs(t), degreesOfFreedom: degreesOfFreedom))
    }

    /// The density at `t`.
    public static func density(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0, t.isFinite else { return t.isInfinite ? 0 : .nan }
        let logDensity = lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * log(nu * Double.pi)
            - (nu + 1) / 2 * log1p(t * t / nu)
        return exp(logDensity)
    }

    /// The `p`-quantile: the `t` with `cdf(t) = p` (e.g. `quantile(0.975, 7)` ≈ 2.3646, the
    /// factor of a 95 % interval from 8 values). 0 and 1 give −∞ and +∞.
    ///
    /// Solved on the upper tail `q = min(p, 1 − p)` by Newton's method on `log tail(t)` within a
    /// bisection bracket that is kept throughout, to a relative tolerance of 1e-15 in `t`.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0, p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p == 0.5 { return 0 }
        let q = min(p, 1 - p)
        // Bracket [low, high] with tail(low) ≥ q ≥ tail(high).
        var low = 0.0, high = 1.0
        while upperTail(high, degreesOfFreedom: nu) > q {
            low = high
            high *= 2
            if high > 1e300 { break }
        }
        var t = (low + high) / 2
        for _ in 0..<200 {
            let tail = upperTail(t, degreesOfFreedom: nu)
            if tail > q { low = t } else { high = t }
            // Newton on log(tail): d/dt log tail = −density / tail.
            let slope = -density(t, degreesOfFreedom: nu) / tail
            var next = t - (log(tail) - log(q)) / slope
            if !(next > low && next < high) || !next.isFinite { next = (low + high) / 2 }
            if abs(next - t) <= 1e-15 * abs(next) { t = next; break }
            t = next
            if high - low <= 1e-15 * high { break }
        }
        return p > 0.5 ? t : -t
    }

    /// `P(T > t)` for `t ≥ 0`.
    private static func upperTail(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        if t.isInfinite { return 0 }
        // x = ν/(ν + t²), written to stay accurate when t² ≫ ν or t² ≪ ν.
        let x = 1 / (1 + (t / nu.squareRoot()) * (t / nu.squareRoot()))
        if x > 0.99 {
            // Near t = 0 use the complementary argument, 1 − x = t²/(ν + t²), to avoid cancellation.
            let y = (t * t) / (nu + t * t)
            return 0.5 - 0.5 * IncompleteBeta.regularized(x: y, a: 0.5, b: nu / 2)
        }
        return 0.5 * IncompleteBeta.regularized(x: x, a: nu / 2, b: 0.5)
    }
}
