/// A two-sided confidence interval `[lower, upper]` at a stated level (e.g. 0.95).
public struct ConfidenceInterval: Sendable, Equatable {
    /// The lower end.
    public let lower: Double
    /// The upper end.
    public let upper: Double
    /// The coverage the interval was built for, in (0, 1).
    public let level: Double

    /// The interval `[lower, upper]` at coverage `level`.
    public init(lower: Double, upper: Double, level: Double) {
        self.lower = lower
        self.upper = upper
        self.level = level
    }

    /// Half the width: the "±" of `centre ± halfWidth` for symmetric intervals.
    public var halfWidth: Double { (upper - lower) / 2 }

    /// Whether `value` lies in the closed interval.
    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }

    /// The Student t interval `estimate ± t_{(1+level)/2, ν} · standardError`.
    static func student(estimate: Double, standardError: Double, degreesOfFreedom: Double, level: Double) -> ConfidenceInterval {
        let factor = StudentT.quantile((1 + level) / 2, degreesOfFreedom: degreesOfFreedom)
        // A zero standard error gives the degenerate interval [estimate, estimate], not NaN.
        let half = standardError == 0 ? 0 : factor * standardError
        return ConfidenceInterval(lower: estimate - half, upper: estimate + half, level: level)
    }
}
