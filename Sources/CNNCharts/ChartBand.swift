/// The vertical extent of a shaded band at one x, in data units: e.g. the 95 % confidence
/// interval of a mean accuracy over several trained models.
///
/// A value whose `x`, `lower` or `upper` is NaN or infinite is not drawn, and the band is
/// broken there, as a series' line is.
public struct ChartBandPoint: Sendable, Hashable {
    /// Horizontal coordinate, in data units.
    public var x: Double
    /// The band's lower edge, in data units.
    public var lower: Double
    /// The band's upper edge, in data units.
    public var upper: Double

    /// Creates a band value from its x and its two edges (given in either order).
    public init(x: Double, lower: Double, upper: Double) {
        self.x = x
        // Swapped only when both are numbers in the wrong order, so a NaN stays a NaN.
        let swapped = lower > upper
        self.lower = swapped ? upper : lower
        self.upper = swapped ? lower : upper
    }

    /// Whether all three coordinates are finite, i.e. whether the value is drawn.
    public var isFinite: Bool { x.isFinite && lower.isFinite && upper.isFinite }
}

extension ChartSeries {
    /// The band's values split at non-finite ones into runs that are each drawn as one
    /// closed shape; a run of one value has no area and is dropped.
    var finiteBandRuns: [[ChartBandPoint]] {
        var runs: [[ChartBandPoint]] = []
        var current: [ChartBandPoint] = []
        for value in band {
            if value.isFinite {
                current.append(value)
            } else {
                if current.count > 1 { runs.append(current) }
                current = []
            }
        }
        if current.count > 1 { runs.append(current) }
        return runs
    }
}
