/// Two measurements of the same units compared through their differences — e.g. the accuracy
/// of each seed's model before and after pruning, where the seed-to-seed spread cancels — with
/// the paired t test (`scipy.stats.ttest_rel`) and a Student t interval for the mean difference.
public struct PairedComparison: Sendable, Equatable {
    /// The differences `first[i] − second[i]` summarised.
    public let differences: SampleSummary
    /// The interval for the mean difference; nil for a single pair.
    public let interval: ConfidenceInterval?
    /// The paired t test of "mean difference = 0", `n − 1` degrees of freedom; nil for a single pair.
    public let test: TTestResult?

    /// - Parameters:
    ///   - first: one value per unit.
    ///   - second: the same units' other values, in the same order.
    ///   - level: the interval's coverage, default 0.95.
    public init(_ first: [Double], _ second: [Double], level: Double = 0.95) {
        precondition(first.count == second.count, "paired samples must have the same length")
        precondition(!first.isEmpty, "no pairs")
        precondition(level > 0 && level < 1, "the level must lie in (0, 1)")
        differences = SampleSummary(zip(first, second).map { $0 - $1 })
        if let standardError = differences.standardError {
            let df = Double(differences.count - 1)
            interval = .student(estimate: differences.mean, standardError: standardError, degreesOfFreedom: df, level: level)
            test = TTestResult(difference: differences.mean, standardError: standardError, degreesOfFreedom: df)
        } else {
            interval = nil
            test = nil
        }
    }

    /// The mean of `first − second`.
    public var meanDifference: Double { differences.mean }
}
