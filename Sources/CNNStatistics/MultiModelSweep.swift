import Foundation

/// One curve — e.g. test accuracy against K channels pruned, for one criterion — measured on
/// each of several independently trained models, with the mean and its Student t interval at
/// every point.
public struct ReplicatedCurve: Sendable, Equatable {
    /// The curve's name, e.g. `l1` or `conv2`.
    public let name: String
    /// The x values (K, or a fraction pruned), the same for every model.
    public let xs: [Double]
    /// `valuesByModel[m][i]`: model `m`'s value at `xs[i]`.
    public let valuesByModel: [[Double]]
    /// At each x, the mean over models with its interval (nil interval for one model).
    public let points: [MeanEstimate]

    /// - Parameters:
    ///   - name: the curve's name.
    ///   - xs: the x values, shared by every model.
    ///   - valuesByModel: one array of values per model, each as long as `xs`; at least one model.
    ///   - level: the intervals' coverage, default 0.95.
    public init(name: String, xs: [Double], valuesByModel: [[Double]], level: Double = 0.95) {
        precondition(!valuesByModel.isEmpty, "a replicated curve needs at least one model")
        precondition(valuesByModel.allSatisfy { $0.count == xs.count }, "every model needs one value per x")
        self.name = name
        self.xs = xs
        self.valuesByModel = valuesByModel
        points = xs.indices.map { i in MeanEstimate(valuesByModel.map { $0[i] }, level: level) }
    }

    /// Number of models.
    public var modelCount: Int { valuesByModel.count }

    /// The models' values at `xs[index]`, in model order.
    public func values(at index: Int) -> [Double] { valuesByModel.map { $0[index] } }

    /// Each model's mean over the points whose x passes `include` (e.g. K > 0), in model order.
    public func perModelMean(where include: (Double) -> Bool) -> [Double] {
        let kept = xs.indices.filter { include(xs[$0]) }
        precondition(!kept.isEmpty, "no point passes the filter")
        return valuesByModel.map { values in kept.map { values[$0] }.reduce(0, +) / Double(kept.count) }
    }

    /// Each model's drop from `xs[reference]` to `xs[index]` (`value[reference] − value[index]`),
    /// summarised over models: e.g. the accuracy a layer loses when half its units are pruned.
    public func drop(from reference: Int, to index: Int, level: Double = 0.95) -> MeanEstimate {
        MeanEstimate(valuesByModel.map { $0[reference] - $0[index] }, level: level)
    }
}

/// One curve against a baseline curve on the same models: the per-model difference of their
/// means over the included points, compared with the paired t test.
public struct PairedCurveComparison: Sendable, Equatable {
    /// The curve compared, e.g. `l1`.
    public let name: String
    /// The curve it is compared against, e.g. `random`.
    public let baseline: String
    /// Per model, (mean of `name` over the points) − (mean of `baseline` over the same points):
    /// the mean over K of the paired differences. Its interval and paired t test.
    public let comparison: PairedComparison
    /// The per-model differences the comparison summarises, in model order.
    public let differences: [Double]
    /// The paired t test's p-value after Holm's correction over every curve compared against the
    /// same baseline; nil for one model.
    public let holmAdjustedPValue: Double?
    /// How many curves were compared against the same baseline (Holm's family).
    public let familySize: Int

    /// The mean difference (points of accuracy when the curves are accuracies in %).
    public var meanDifference: Double { comparison.meanDifference }

    /// Number of models (pairs).
    public var modelCount: Int { comparison.differences.count }

    /// Whether the interval lies entirely above or entirely below 0.
    public var intervalExcludesZero: Bool {
        guard let interval = comparison.interval else { return false }
        return interval.lower > 0 || interval.upper < 0
    }

    /// The reading in one sentence: "`l1` keeps more accuracy than `random` by 3.20 points (95 %
    /// CI 1.10 to 5.30; paired t, Holm-adjusted p = 0.012)" where the interval excludes 0, "less
    /// … by" when it lies below 0, "no difference between … detected with N models" otherwise.
    /// An interval that excludes 0 while the Holm-adjusted p-value is above 0.05 says so: the
    /// interval is for this comparison alone, not for the family.
    public var sentence: String {
        let d = meanDifference
        guard let interval = comparison.interval else {
            return "\(name) against \(baseline): \(signedNumber(d)) points on one model (no interval with one model)"
        }
        let percent = Int((interval.level * 100).rounded())
        var test = holmAdjustedPValue.map { "; paired t, Holm-adjusted \(pValueText($0))" } ?? ""
        if let adjusted = holmAdjustedPValue, adjusted > 0.05, intervalExcludesZero {
            test += "; not significant at 5 % after Holm's correction for the \(familySize) comparisons"
        }
        if interval.lower > 0 {
            return "\(name) keeps more accuracy than \(baseline) by \(number(d)) points (\(percent) % CI \(number(interval.lower)) to \(number(interval.upper))\(test))"
        }
        if interval.upper < 0 {
            return "\(name) keeps less accuracy than \(baseline) by \(number(-d)) points (\(percent) % CI \(number(-interval.upper)) to \(number(-interval.lower))\(test))"
        }
        return "no difference between \(name) and \(baseline) detected with \(modelCount) models (mean difference \(signedNumber(d)) points, \(percent) % CI \(signedNumber(interval.lower)) to \(signedNumber(interval.upper))\(test))"
    }
}

/// Sweeps of several curves (one per pruning criterion) on each of several models, summarised:
/// per curve and point the mean with its interval, per curve the mean over the included points,
/// and every curve compared *paired* (same model, same K) against each baseline curve, with
/// Holm's correction over the curves compared against the same baseline.
public struct MultiModelSweep: Sendable, Equatable {
    /// The curves, in input order.
    public let curves: [ReplicatedCurve]
    /// Per curve (same order), the models' means over the included points, summarised.
    public let meanOverPoints: [MeanEstimate]
    /// Per baseline (same order as given), every other curve compared against it.
    public let comparisons: [(baseline: String, results: [PairedCurveComparison])]

    /// - Parameters:
    ///   - curves: one per criterion, all on the same models (same order) and the same xs.
    ///   - baselines: names of curves every other curve is compared against, e.g. `random` and
    ///     the exercise's `mean-activation`; names not among the curves are skipped.
    ///   - level: the intervals' coverage, default 0.95.
    ///   - include: which x values the means over points cover; by default K > 0 (K = 0 is the
    ///     unpruned model, the same for every curve).
    public init(curves: [ReplicatedCurve], baselines: [String], level: Double = 0.95, include: (Double) -> Bool = { $0 > 0 }) {
        precondition(!curves.isEmpty, "no curves")
        let models = curves[0].modelCount
        precondition(curves.allSatisfy { $0.modelCount == models && $0.xs == curves[0].xs }, "every curve needs the same models and xs")
        self.curves = curves
        let means = curves.map { $0.perModelMean(where: include) }
        meanOverPoints = means.map { MeanEstimate($0, level: level) }
        comparisons = baselines.compactMap { baseline in
            guard let b = curves.firstIndex(where: { $0.name == baseline }) else { return nil }
            let others = curves.indices.filter { $0 != b }
            let paired = others.map { PairedComparison(means[$0], means[b], level: level) }
            let pValues = paired.compactMap { $0.test?.pValue }
            let adjusted: [Double?] = pValues.count == paired.count ? HolmBonferroni.adjustedPValues(pValues) : paired.map { _ in nil }
            let results = zip(others, zip(paired, adjusted)).map { index, pair in
                PairedCurveComparison(name: curves[index].name, baseline: baseline, comparison: pair.0,
                                      differences: zip(means[index], means[b]).map { $0 - $1 }, holmAdjustedPValue: pair.1,
                                      familySize: others.count)
            }
            return (baseline, results)
        }
    }

    /// Number of models.
    public var modelCount: Int { curves[0].modelCount }

    /// The comparisons against `baseline`, or nil when it was not a baseline.
    public func comparisons(against baseline: String) -> [PairedCurveComparison]? {
        comparisons.first { $0.baseline == baseline }?.results
    }

    public static func == (lhs: MultiModelSweep, rhs: MultiModelSweep) -> Bool {
        lhs.curves == rhs.curves && lhs.meanOverPoints == rhs.meanOverPoints
            && lhs.comparisons.map(\.baseline) == rhs.comparisons.map(\.baseline)
            && lhs.comparisons.map(\.results) == rhs.comparisons.map(\.results)
    }
}

/// Each layer pruned alone on several models: which layer loses the most accuracy at one
/// fraction pruned, with intervals, and whether it loses more than the runner-up (paired).
public struct MultiModelSensitivity: Sendable, Equatable {
    /// One curve per layer: accuracy against the fraction pruned, the first x being 0 (unpruned).
    public let layers: [ReplicatedCurve]
    /// The fraction the drops are read at, e.g. 0.5.
    public let fraction: Double
    /// Per layer (same order) that measured `fraction`: the accuracy drop from x = 0 to it.
    public let drops: [(layer: String, drop: MeanEstimate, perModel: [Double])]

    /// - Parameters:
    ///   - layers: one curve per layer, each starting at x = 0.
    ///   - fraction: where the drops are read; layers that did not measure it are left out.
    ///   - level: the intervals' coverage, default 0.95.
    public init(layers: [ReplicatedCurve], fraction: Double, level: Double = 0.95) {
        self.layers = layers
        self.fraction = fraction
        drops = layers.compactMap { curve in
            guard let start = curve.xs.firstIndex(where: { abs($0) < 1e-9 }),
                  let index = curve.xs.firstIndex(where: { abs($0 - fraction) < 1e-9 }) else { return nil }
            let perModel = curve.valuesByModel.map { $0[start] - $0[index] }
            return (curve.name, MeanEstimate(perModel, level: level), perModel)
        }
    }

    /// The layer with the largest mean drop, and the paired comparison of its drop with the
    /// runner-up's (nil with fewer than two layers).
    public var mostSensitive: (layer: String, drop: MeanEstimate, overRunnerUp: PairedCurveComparison?)? {
        let ordered = drops.sorted { $0.drop.mean > $1.drop.mean }
        guard let first = ordered.first else { return nil }
        var overRunnerUp: PairedCurveComparison?
        if ordered.count > 1 {
            let paired = PairedComparison(first.perModel, ordered[1].perModel)
            overRunnerUp = PairedCurveComparison(name: first.layer, baseline: ordered[1].layer, comparison: paired,
                                                 differences: zip(first.perModel, ordered[1].perModel).map { $0 - $1 },
                                                 holmAdjustedPValue: paired.test?.pValue, familySize: 1)
        }
        return (first.layer, first.drop, overRunnerUp)
    }

    /// "Pruning 50 % of a layer's units costs the most in conv2: 12.30 points (95 % CI 10.10 to
    /// 14.50); conv1 5.00 points (…), fc1 …", then whether the most sensitive layer's drop is
    /// larger than the runner-up's (paired t interval of the difference of drops).
    public var sentence: String {
        guard let most = mostSensitive else { return "no layer measured at \(Int((fraction * 100).rounded())) %" }
        let others = drops.sorted { $0.drop.mean > $1.drop.mean }.dropFirst().map { "\($0.layer) \(estimateText($0.drop))" }
        var text = "pruning \(Int((fraction * 100).rounded())) % of a layer's units costs the most in \(most.layer): \(estimateText(most.drop))"
        if !others.isEmpty { text += "; " + others.joined(separator: ", ") }
        if let runnerUp = most.overRunnerUp, let interval = runnerUp.comparison.interval {
            let percent = Int((interval.level * 100).rounded())
            text += runnerUp.intervalExcludesZero && runnerUp.meanDifference > 0
                ? ". \(most.layer) loses more than \(runnerUp.baseline) by \(number(runnerUp.meanDifference)) points (\(percent) % CI \(number(interval.lower)) to \(number(interval.upper)), paired t \(pValueText(runnerUp.comparison.test!.pValue)))"
                : ". Between \(most.layer) and \(runnerUp.baseline) no difference is detected with \(runnerUp.modelCount) models (difference \(signedNumber(runnerUp.meanDifference)) points, \(percent) % CI \(signedNumber(interval.lower)) to \(signedNumber(interval.upper)))"
        }
        return text
    }

    public static func == (lhs: MultiModelSensitivity, rhs: MultiModelSensitivity) -> Bool {
        lhs.layers == rhs.layers && lhs.fraction == rhs.fraction
            && lhs.drops.map(\.layer) == rhs.drops.map(\.layer) && lhs.drops.map(\.drop) == rhs.drops.map(\.drop)
    }
}

/// `12.30 points (95 % CI 10.10 to 14.50)`, or `12.30 points` for one model.
func estimateText(_ estimate: MeanEstimate) -> String {
    guard let interval = estimate.interval else { return "\(number(estimate.mean)) points" }
    return "\(number(estimate.mean)) points (\(Int((interval.level * 100).rounded())) % CI \(number(interval.lower)) to \(number(interval.upper)))"
}

/// Two decimals, with a minus sign (U+2212) when negative.
func number(_ value: Double) -> String { (value < 0 ? "−" : "") + String(format: "%.2f", abs(value)) }

/// Two decimals with a sign: `+1.20`, `−0.40`.
func signedNumber(_ value: Double) -> String { (value >= 0 ? "+" : "−") + number(abs(value)) }

/// `p = 0.012`, or `p < 0.001`.
func pValueText(_ p: Double) -> String { p < 0.001 ? "p < 0.001" : String(format: "p = %.3f", p) }
