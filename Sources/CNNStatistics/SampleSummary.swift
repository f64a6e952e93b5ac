/// The count, mean and spread of a sample: the numbers every test and interval here starts from.
///
/// The variance is the unbiased sample variance (divisor `n − 1`, NumPy's `ddof=1`), because the
/// values are draws (e.g. one test accuracy per training seed) and the question is always about
/// the population they come from. The mean is summed in `Double` with a second, corrective pass
/// (the two-pass algorithm), so that values such as 68.37 ± 0.01 keep their last digits.
public struct SampleSummary: Sendable, Equatable {
    /// Number of values.
    public let count: Int
    /// Arithmetic mean (NaN for an empty sample).
    public let mean: Double
    /// Unbiased sample variance, divisor `count − 1`; nil for fewer than two values, where no
    /// spread can be estimated.
    public let variance: Double?

    /// Summarises `values`.
    public init<Values: Collection>(_ values: Values) where Values.Element == Double {
        count = values.count
        guard count > 0 else {
            mean = .nan
            variance = nil
            return
        }
        let first = values.reduce(0, +) / Double(count)
        // Second pass: the mean of the residuals corrects the first pass's rounding.
        let correction = values.reduce(0) { $0 + ($1 - first) } / Double(count)
        let mean = first + correction
        self.mean = mean
        if count > 1 {
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            variance = squares / Double(count - 1)
        } else {
            variance = nil
        }
    }

    /// Sample standard deviation (√variance); nil for fewer than two values.
    public var standardDeviation: Double? { variance.map { $0.squareRoot() } }

    /// Standard error of the mean, `sd / √n`; nil for fewer than two values.
    public var standardError: Double? { variance.map { ($0 / Double(count)).squareRoot() } }
}
