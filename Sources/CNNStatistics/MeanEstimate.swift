/// The mean of independent replicates (e.g. test accuracies of models trained with different
/// seeds) with its Student t confidence interval: how well N models pin down the mean accuracy
/// of the training recipe, not how accurate one model is.
public struct MeanEstimate: Sendable, Equatable {
    /// Count, mean and spread of the values.
    public let summary: SampleSummary
    /// `mean ± t_{(1+level)/2, n−1} · sd/√n`; nil for a single value (one model says nothing
    /// about the spread between models, so no interval can be given). Values that are all equal
    /// give the zero-width interval `[mean, mean]`.
    public let interval: ConfidenceInterval?

    /// - Parameters:
    ///   - values: one value per replicate, at least one.
    ///   - level: the interval's coverage, default 0.95.
    public init(_ values: [Double], level: Double = 0.95) {
        precondition(!values.isEmpty, "a mean needs at least one value")
        precondition(level > 0 && level < 1, "the level must lie in (0, 1)")
        summary = SampleSummary(values)
        if let standardError = summary.standardError {
            interval = .student(estimate: summary.mean, standardError: standardError,
                                degreesOfFreedom: Double(summary.count - 1), level: level)
        } else {
            interval = nil
        }
    }

    /// The mean of the values.
    public var mean: Double { summary.mean }
    /// The sample standard deviation; nil for a single value.
    public var standardDeviation: Double? { summary.standardDeviation }
    /// The number of values.
    public var count: Int { summary.count }
}
