import Foundation

/// A linear axis: the range it spans and its "nice" tick values (1, 2 or 5 × 10ᵏ apart).
///
/// Ticks at round numbers are what make a chart readable at a glance: an axis for accuracies
/// between 18 % and 69 % gets ticks 10, 20, …, 70 rather than 18, 28.2, ….
/// Degenerate input is widened so that there is always something to draw: a single value `v`
/// gets an axis around it, and no finite values at all give `0...1`.
public struct AxisScale: Sendable, Hashable {
    /// The value at the start of the axis (left or bottom).
    public let lowerBound: Double
    /// The value at the end of the axis (right or top).
    public let upperBound: Double
    /// The distance between neighbouring ticks: 1, 2 or 5 times a power of ten.
    public let tickStep: Double
    /// The tick values, ascending, all within `lowerBound...upperBound`.
    public let ticks: [Double]

    /// An axis that covers `values` and is widened outwards to the nearest ticks, so that both
    /// ends carry a label. Non-finite values are ignored.
    /// - Parameters:
    ///   - values: The data the axis must show.
    ///   - targetTickCount: About how many ticks to aim for (at least 2).
    ///   - minimumTickStep: A floor for the step, e.g. 1 for counts such as channels pruned,
    ///     so that an axis over 0, 1, 2 is not labelled 0, 0.2, 0.4, ….
    public init(covering values: [Double], targetTickCount: Int = 6, minimumTickStep: Double = 0) {
        let finite = values.filter(\.isFinite)
        var low = finite.min() ?? 0
        var high = finite.max() ?? 1
        (low, high) = Self.widenedIfDegenerate(low, high)
        let step = max(Self.niceStep(span: high - low, targetTickCount: targetTickCount), minimumTickStep)
        let lower = (low / step).rounded(.down) * step
        let upper = (high / step).rounded(.up) * step
        self.init(lowerBound: lower, upperBound: upper, step: step)
    }

    /// An axis spanning exactly `range`, e.g. `0...100` for percentages, with nice ticks inside.
    /// - Parameters:
    ///   - range: The span of the axis; a zero-width range is widened around its value.
    ///   - targetTickCount: About how many ticks to aim for (at least 2).
    public init(fixed range: ClosedRange<Double>, targetTickCount: Int = 6) {
        let (low, high) = Self.widenedIfDegenerate(range.lowerBound, range.upperBound)
        let step = Self.niceStep(span: high - low, targetTickCount: targetTickCount)
        self.init(lowerBound: low, upperBound: high, step: step)
    }

    private init(lowerBound: Double, upperBound: Double, step: Double) {
        self.lowerBound = lowerBound
        self.upperBound = upperBound
        self.tickStep = step
        // Ticks are computed as integer multiples of the step, never by repeated addition,
        // so that 0.1 × 3 prints as 0.3 and not 0.30000000000000004.
        let tolerance = 1e-9
        let first = (lowerBound / step - tolerance).rounded(.up)
        let last = (upperBound / step + tolerance).rounded(.down)
        // Absurd inputs (overflowing spans) get no ticks rather than millions of them.
        guard first.isFinite, last.isFinite, first <= last, last - first <= 1000 else {
            ticks = []
            return
        }
        ticks = (Int(first)...Int(last)).map { Self.snapped(Double($0) * step, step: step) }
    }

    /// The nice step (1, 2 or 5 × 10ᵏ) closest to dividing `span` into `targetTickCount - 1`
    /// intervals: 100 with 6 ticks gives 20, 30 gives 5, 1 gives 0.2.
    public static func niceStep(span: Double, targetTickCount: Int) -> Double {
        guard span.isFinite, span > 0 else { return 1 }
        let rough = span / Double(max(targetTickCount - 1, 1))
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let fraction = rough / magnitude
        let nice: Double
        if fraction < 1.5 {
            nice = 1
        } else if fraction < 3 {
            nice = 2
        } else if fraction < 7 {
            nice = 5
        } else {
            nice = 10
        }
        return nice * magnitude
    }

    /// Where `value` lies along the axis: 0 at `lowerBound`, 1 at `upperBound`.
    public func fraction(of value: Double) -> Double {
        (value - lowerBound) / (upperBound - lowerBound)
    }

    /// The tick label for `value`, with as many decimals as the tick step needs
    /// (`"20"`, `"0.5"`, `"0.25"`) and never a negative zero.
    public func label(for value: Double) -> String {
        let decimals = max(0, Int((-log10(tickStep) - 1e-9).rounded(.up)))
        let snapped = Self.snapped(value, step: tickStep)
        return String(format: "%.\(min(decimals, 12))f", snapped)
    }

    /// Widens a zero-width (or inverted) range so that it has room for ticks around its value.
    private static func widenedIfDegenerate(_ low: Double, _ high: Double) -> (Double, Double) {
        if high > low { return (low, high) }
        let value = low
        let pad = value == 0 ? 1 : abs(value) * 0.1
        return (value - pad, value + pad)
    }

    /// Rounds away floating-point noise relative to the step and turns -0 into 0.
    private static func snapped(_ value: Double, step: Double) -> Double {
        if abs(value) < step * 1e-9 { return 0 }
        return value
    }
}
