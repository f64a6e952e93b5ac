import Foundation

/// A line chart of one or more named series against shared x and y axes, rendered as SVG,
/// PNG or plain terminal text — with no external programs or fonts.
///
/// Typical use: test accuracy (%) against the number of channels pruned, one series per
/// pruning criterion.
///
/// ```swift
/// let chart = LineChart(
///     title: "Accuracy after pruning conv2",
///     xLabel: "K (channels pruned)",
///     yLabel: "Test accuracy (%)",
///     series: [ChartSeries(name: "l1", x: [0, 2, 4], y: [69.2, 66.0, 61.5])],
///     yRange: 0...100
/// )
/// try chart.pngData().write(to: URL(fileURLWithPath: "accuracy.png"))
/// ```
///
/// Both axes are linear with ticks at round numbers; points with NaN or infinite coordinates
/// are skipped and break their line. The legend is placed where it hides no data: in a free
/// corner of the plot, else beside or below it.
public struct LineChart: Sendable, Hashable {
    /// The heading above the plot; empty for none.
    public var title: String
    /// The x-axis label, with units, e.g. `"K (channels pruned)"`; empty for none.
    public var xLabel: String
    /// The y-axis label, with units, e.g. `"Test accuracy (%)"`; empty for none.
    public var yLabel: String
    /// The lines, in legend order.
    public var series: [ChartSeries]
    /// A fixed y-axis range (e.g. `0...100` for percentages), or `nil` to fit the data.
    /// Parts of lines outside a fixed range are clipped.
    public var yRange: ClosedRange<Double>?
    /// Image width in pixels (SVG and PNG).
    public var width: Int
    /// Image height in pixels (SVG and PNG).
    public var height: Int

    /// Creates a chart.
    /// - Parameters:
    ///   - title: The heading above the plot.
    ///   - xLabel: The x-axis label, with units.
    ///   - yLabel: The y-axis label, with units.
    ///   - series: The lines, in legend order.
    ///   - yRange: A fixed y-axis range, or `nil` to fit the data.
    ///   - width: Image width in pixels.
    ///   - height: Image height in pixels.
    public init(
        title: String,
        xLabel: String,
        yLabel: String,
        series: [ChartSeries],
        yRange: ClosedRange<Double>? = nil,
        width: Int = 900,
        height: Int = 560
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yRange = yRange
        self.width = width
        self.height = height
    }

    /// The chart as a standalone SVG document (UTF-8 XML text), with every user-supplied text
    /// escaped. Each series is one `<path class="series-line">`.
    public func svg() -> String {
        SVGRenderer(layout: ChartLayout(chart: self, metrics: .vector), chart: self).document()
    }

    /// The chart as a PNG file: 8-bit RGB on white, `width` × `height` pixels, anti-aliased
    /// lines and markers, text in the embedded bitmap font at 2×.
    /// - Throws: `PNGEncodingError` if the size is not positive or compression fails.
    public func pngData() throws -> Data {
        guard width > 0, height > 0 else {
            throw PNGEncodingError.invalidDimensions(width: width, height: height)
        }
        let canvas = ChartRasterizer(layout: ChartLayout(chart: self, metrics: .bitmapFont), chart: self).render()
        return try PNGEncoder.encode(rgb: canvas.pixels, width: canvas.width, height: canvas.height)
    }

    /// The chart as text for a terminal: one marker character per series (`*`, `o`, `+`, …)
    /// at the data points joined by dots, a y axis with tick labels, an x axis with tick
    /// labels, the axis labels and a legend line.
    ///
    /// The result has exactly `height` lines (no trailing newline), none longer than `width`
    /// characters; the x axis spans the full width. Only when `height` leaves fewer than three
    /// plot rows after the title, labels and legend is the text taller than asked.
    /// - Parameters:
    ///   - width: Characters per line (at least 24).
    ///   - height: Number of lines, legend included.
    public func terminalText(width: Int = 72, height: Int = 20) -> String {
        TerminalChart(chart: self, width: width, height: height).render()
    }
}
