/// One data point of a series, in data units (e.g. `x` = channels pruned, `y` = accuracy in %).
///
/// A point whose `x` or `y` is NaN or infinite is not drawn, and the series' line is broken
/// there rather than bridged, so a failed measurement shows as a gap instead of a made-up value.
public struct ChartPoint: Sendable, Hashable {
    /// Horizontal coordinate, in data units.
    public var x: Double
    /// Vertical coordinate, in data units.
    public var y: Double

    /// Creates a point from its coordinates in data units.
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// Whether both coordinates are finite, i.e. whether the point is drawn.
    public var isFinite: Bool { x.isFinite && y.isFinite }
}

/// How a series' connecting line is stroked.
public enum LineStyle: Sendable, Hashable {
    /// A continuous line.
    case solid
    /// A dashed line, e.g. to set a reference or a fine-tuned variant apart from the rest.
    case dashed
}

/// A named sequence of points drawn as one line with markers and one legend entry.
///
/// Points are drawn in the order given; sort them by `x` first if the line should read left to
/// right. Colour, marker and line style are chosen from the series' position in the chart
/// unless set here.
public struct ChartSeries: Sendable, Hashable {
    /// The legend text, e.g. `"mean-activation"`.
    public var name: String
    /// The data, in drawing order.
    public var points: [ChartPoint]
    /// The stroke; `nil` means solid, or dashed for series beyond the palette's length.
    public var lineStyle: LineStyle?
    /// The marker shape; `nil` means the shape belonging to the series' position.
    public var marker: MarkerShape?
    /// The colour; `nil` means the palette colour belonging to the series' position.
    public var color: ChartColor?
    /// A shaded band drawn beneath the line in the series' colour, lightly, e.g. the 95 %
    /// confidence interval around a mean; empty for none. SVG and PNG draw it; the terminal
    /// chart, which has no shades, does not.
    public var band: [ChartBandPoint]

    /// Creates a series from points.
    /// - Parameters:
    ///   - name: The legend text.
    ///   - points: The data, in drawing order.
    ///   - lineStyle: The stroke, or `nil` for the automatic choice.
    ///   - marker: The marker shape, or `nil` for the automatic choice.
    ///   - color: The colour, or `nil` for the automatic choice from `ChartColor.palette`.
    ///   - band: A shaded band beneath the line, or empty for none.
    public init(
        name: String,
        points: [ChartPoint],
        lineStyle: LineStyle? = nil,
        marker: MarkerShape? = nil,
        color: ChartColor? = nil,
        band: [ChartBandPoint] = []
    ) {
        self.name = name
        self.points = points
        self.lineStyle = lineStyle
        self.marker = marker
        self.color = color
        self.band = band
    }

    /// Creates a series from `(x, y)` pairs, e.g. `[(0, 69.1), (2, 68.4)]`.
    public init(
        name: String,
        points: [(x: Double, y: Double)],
        lineStyle: LineStyle? = nil,
        marker: MarkerShape? = nil,
        color: ChartColor? = nil,
        band: [ChartBandPoint] = []
    ) {
        self.init(
            name: name,
            points: points.map { ChartPoint(x: $0.x, y: $0.y) },
            lineStyle: lineStyle,
            marker: marker,
            color: color,
            band: band
        )
    }

    /// Creates a series from parallel arrays of x and y values; extra values in the longer
    /// array are ignored.
    public init(
        name: String,
        x: [Double],
        y: [Double],
        lineStyle: LineStyle? = nil,
        marker: MarkerShape? = nil,
        color: ChartColor? = nil,
        band: [ChartBandPoint] = []
    ) {
        self.init(
            name: name,
            points: zip(x, y).map { ChartPoint(x: $0, y: $1) },
            lineStyle: lineStyle,
            marker: marker,
            color: color,
            band: band
        )
    }

    /// The points split at non-finite values into runs that are each drawn as one unbroken line.
    var finiteRuns: [[ChartPoint]] {
        var runs: [[ChartPoint]] = []
        var current: [ChartPoint] = []
        for point in points {
            if point.isFinite {
                current.append(point)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}

/// A series' colour, marker and stroke after the automatic choices have been made.
struct ResolvedSeriesStyle: Sendable, Hashable {
    var color: ChartColor
    var marker: MarkerShape
    var lineStyle: LineStyle
    /// The terminal plot's marker character.
    var terminalMarker: Character

    /// The style of the series at `index`: explicit choices win, otherwise colours follow
    /// `ChartColor.palette`, markers follow `MarkerShape.allCases`, and series past the
    /// palette's length are dashed so that a reused colour never looks like the same series.
    init(series: ChartSeries, index: Int) {
        let palette = ChartColor.palette
        let shapes = MarkerShape.allCases
        color = series.color ?? palette[index % palette.count]
        marker = series.marker ?? shapes[index % shapes.count]
        lineStyle = series.lineStyle ?? (index >= palette.count ? .dashed : .solid)
        let characters: [Character] = ["*", "o", "+", "x", "#", "@", "%", "&", "=", "$"]
        terminalMarker = characters[index % characters.count]
    }
}
