/// The kinds of text on a chart; each renderer gives each kind its own size.
enum TextRole: Sendable, Hashable {
    case title
    case axisLabel
    case tickLabel
    case legend
}

/// How a renderer's text measures, so that one layout algorithm serves SVG and PNG.
enum TextMetrics: Sendable {
    /// The embedded bitmap font at 2×, as the PNG renderer draws it (exact).
    case bitmapFont
    /// Vector text in a sans-serif font of `fontSize(for:)`, as in SVG (a slightly generous
    /// estimate, since the viewer picks the actual font).
    case vector

    /// The bitmap font's scale, in output pixels per font pixel.
    static let bitmapScale = 2

    /// The SVG font size for `role`, in pixels.
    func fontSize(for role: TextRole) -> Double {
        switch role {
        case .title: return 20
        case .axisLabel: return 16
        case .tickLabel: return 14
        case .legend: return 15
        }
    }

    /// The width of `text` in pixels.
    func width(of text: String, role: TextRole) -> Double {
        switch self {
        case .bitmapFont:
            return Double(BitmapFont.width(of: text, scale: Self.bitmapScale) + (role == .title ? 1 : 0))
        case .vector:
            // Average advance of Helvetica/Arial-like fonts is about 0.55 em; bold is wider.
            let perCharacter = role == .title ? 0.62 : 0.56
            return Double(text.count) * fontSize(for: role) * perCharacter
        }
    }

    /// The height of capitals, from the top of the text box to the baseline, in pixels.
    func capHeight(for role: TextRole) -> Double {
        switch self {
        case .bitmapFont: return Double(BitmapFont.capHeight * Self.bitmapScale)
        case .vector: return fontSize(for: role) * 0.72
        }
    }

    /// The height of the text box including descenders, in pixels.
    func boxHeight(for role: TextRole) -> Double {
        switch self {
        case .bitmapFont: return Double(BitmapFont.lineHeight * Self.bitmapScale)
        case .vector: return fontSize(for: role) * 0.95
        }
    }
}

/// A piece of text with its position, in pixels.
struct TextPlacement: Sendable, Hashable {
    enum Alignment: Sendable, Hashable {
        case start, middle, end
    }

    var text: String
    var role: TextRole
    /// Horizontal anchor: the text's left edge, centre or right edge per `alignment`. For
    /// rotated text, the left edge of the rotated box (where the tops of the letters are).
    var x: Double
    /// The top of the capitals. For rotated text, the vertical centre of the text.
    var top: Double
    var alignment: Alignment
    /// Runs upwards (rotated 90° anticlockwise), for the y-axis label.
    var rotated = false
}

/// Where everything on a line chart goes, in pixels: the plot area, the axes and their ticks,
/// every text, the legend and the series' pixel coordinates.
///
/// SVG and PNG output share this one layout (measured with their own `TextMetrics`), so the two
/// formats show the same chart. The legend goes inside the plot in a corner where it covers no
/// line or marker; if no corner is free, to the right of the plot, or below it when the names
/// are too long for that.
struct ChartLayout: Sendable {
    struct LegendEntry: Sendable, Hashable {
        var seriesIndex: Int
        var swatchStart: PixelPoint
        var swatchEnd: PixelPoint
        var label: TextPlacement
    }

    /// The shaded rectangle behind the swatch of a series that has a band.
    static func bandSwatch(for entry: LegendEntry) -> [PixelPoint] {
        let top = entry.swatchStart.y - bandSwatchHalfHeight, bottom = entry.swatchStart.y + bandSwatchHalfHeight
        return [
            PixelPoint(x: entry.swatchStart.x, y: top), PixelPoint(x: entry.swatchEnd.x, y: top),
            PixelPoint(x: entry.swatchEnd.x, y: bottom), PixelPoint(x: entry.swatchStart.x, y: bottom),
        ]
    }

    struct Legend: Sendable, Hashable {
        var box: PixelRect
        var entries: [LegendEntry]
    }

    enum LegendPosition: Sendable, Hashable {
        case inside, right, below
    }

    static let padding = 18.0
    static let tickLength = 5.0
    static let dataInset = 10.0
    static let tickLabelGap = 6.0
    static let axisLabelGap = 12.0
    static let titleGap = 16.0
    static let lineWidth = 2.25
    static let markerRadius = 4.5
    static let dashPattern = [9.0, 6.0]
    /// How strongly a band's colour covers what lies beneath it: light enough that lines,
    /// grid and overlapping bands stay readable.
    static let bandOpacity = 0.18
    /// Half the height of the shaded rectangle behind a banded series' legend swatch.
    static let bandSwatchHalfHeight = 5.0
    static let legendSwatchLength = 32.0
    static let legendPadding = 10.0
    static let legendTextGap = 8.0
    static let legendRowGap = 5.0
    static let legendColumnGap = 28.0
    static let legendMargin = 12.0

    let width: Double
    let height: Double
    let metrics: TextMetrics
    let plot: PixelRect
    let xAxis: AxisScale
    let yAxis: AxisScale
    /// Title, axis labels and tick labels.
    let texts: [TextPlacement]
    let legend: Legend?
    let legendPosition: LegendPosition?
    let styles: [ResolvedSeriesStyle]
    /// Per series, the unbroken runs of its line in pixels.
    let runs: [[[PixelPoint]]]
    /// Per series, the markers that fall inside the plot area.
    let markers: [[PixelPoint]]
    /// Per series, the closed outlines of its shaded band (upper edge left to right, then the
    /// lower edge back), with the edges clamped to the y axis so they stay inside the plot.
    let bands: [[[PixelPoint]]]

    init(chart: LineChart, metrics: TextMetrics) {
        self.metrics = metrics
        width = Double(max(chart.width, 1))
        height = Double(max(chart.height, 1))
        styles = chart.series.enumerated().map { ResolvedSeriesStyle(series: $1, index: $0) }

        let legendSize = Self.legendEntrySizes(chart: chart, metrics: metrics)
        var frame = Frame(chart: chart, metrics: metrics, width: width, height: height, reservedRight: 0, reservedBottom: 0)
        var legend: Legend?
        var position: LegendPosition?

        if !chart.series.isEmpty {
            let singleColumn = Self.legendBoxSize(entries: legendSize, columns: 1)
            if let box = Self.freeCorner(for: singleColumn, frame: frame, chart: chart) {
                legend = Self.arrangeLegend(entries: legendSize, columns: 1, in: box, metrics: metrics)
                position = .inside
            } else if singleColumn.width <= width * 0.3 {
                let reserved = singleColumn.width + Self.legendMargin
                frame = Frame(chart: chart, metrics: metrics, width: width, height: height, reservedRight: reserved, reservedBottom: 0)
                let box = PixelRect(
                    x: frame.plot.maxX + Self.legendMargin + frame.rightOverhang,
                    y: frame.plot.minY,
                    width: singleColumn.width,
                    height: singleColumn.height
                )
                legend = Self.arrangeLegend(entries: legendSize, columns: 1, in: box, metrics: metrics)
                position = .right
            } else {
                let available = width - 2 * Self.padding
                let widest = legendSize.map(\.width).max() ?? 0
                var columns = Int((available - 2 * Self.legendPadding + Self.legendColumnGap) / (widest + Self.legendColumnGap))
                columns = min(max(columns, 1), legendSize.count)
                let size = Self.legendBoxSize(entries: legendSize, columns: columns)
                frame = Frame(
                    chart: chart, metrics: metrics, width: width, height: height,
                    reservedRight: 0, reservedBottom: size.height + Self.legendMargin
                )
                let x = min(max(frame.plot.midX - size.width / 2, Self.padding), max(width - Self.padding - size.width, Self.padding))
                let box = PixelRect(x: x, y: height - Self.padding - size.height, width: size.width, height: size.height)
                legend = Self.arrangeLegend(entries: legendSize, columns: columns, in: box, metrics: metrics)
                position = .below
            }
        }

        plot = frame.plot
        xAxis = frame.xAxis
        yAxis = frame.yAxis
        self.legend = legend
        legendPosition = position
        runs = frame.runs(of: chart)
        markers = frame.markers(of: chart)
        bands = frame.bands(of: chart)
        texts = Self.texts(chart: chart, frame: frame, metrics: metrics, width: width, height: height)
    }

    /// The pixel x of data value `x`.
    func pixelX(_ x: Double) -> Double { Self.pixelX(x, plot: plot, axis: xAxis) }
    /// The pixel y of data value `y`.
    func pixelY(_ y: Double) -> Double { Self.pixelY(y, plot: plot, axis: yAxis) }

    /// Data is mapped into the plot rectangle shrunk by `dataInset`, so that markers at the
    /// ends of an axis sit clear of the axis lines (as ggplot2's and matplotlib's margins do).
    private static func pixelX(_ x: Double, plot: PixelRect, axis: AxisScale) -> Double {
        let area = plot.insetBy(dataInset)
        return area.minX + axis.fraction(of: x) * area.width
    }

    private static func pixelY(_ y: Double, plot: PixelRect, axis: AxisScale) -> Double {
        let area = plot.insetBy(dataInset)
        return area.maxY - axis.fraction(of: y) * area.height
    }

    // MARK: - Plot frame

    /// The plot rectangle and axes for a given amount of space kept free for the legend.
    private struct Frame {
        var plot: PixelRect
        var xAxis: AxisScale
        var yAxis: AxisScale
        /// Space to the right of the plot taken by the last x tick label.
        var rightOverhang: Double

        init(chart: LineChart, metrics: TextMetrics, width: Double, height: Double, reservedRight: Double, reservedBottom: Double) {
            let padding = ChartLayout.padding
            let top = padding + (chart.title.isEmpty ? 0 : metrics.boxHeight(for: .title) + ChartLayout.titleGap)
            let bottom = height - padding - reservedBottom
                - (chart.xLabel.isEmpty ? 0 : metrics.boxHeight(for: .axisLabel) + ChartLayout.axisLabelGap)
                - metrics.boxHeight(for: .tickLabel) - ChartLayout.tickLabelGap - ChartLayout.tickLength
            let plotHeight = max(bottom.rounded(.down) - top, 10)

            let bandEdges = chart.series.flatMap(\.band).filter(\.isFinite).flatMap {
                [ChartPoint(x: $0.x, y: $0.lower), ChartPoint(x: $0.x, y: $0.upper)]
            }
            let points = chart.series.flatMap(\.points).filter(\.isFinite) + bandEdges
            let yTarget = min(max(Int(plotHeight / 70) + 1, 3), 10)
            let vertical = chart.yRange.map { AxisScale(fixed: $0, targetTickCount: yTarget) }
                ?? AxisScale(covering: points.map(\.y), targetTickCount: yTarget)
            yAxis = vertical
            let yLabelWidth = vertical.ticks.map { metrics.width(of: vertical.label(for: $0), role: .tickLabel) }.max() ?? 0
            let left = (padding
                + (chart.yLabel.isEmpty ? 0 : metrics.boxHeight(for: .axisLabel) + ChartLayout.axisLabelGap)
                + yLabelWidth + ChartLayout.tickLabelGap + ChartLayout.tickLength).rounded(.up)

            // The x axis depends on the plot width, which depends on how far the last x tick
            // label overhangs the plot; two passes settle it.
            let xs = points.map(\.x)
            let integral = !xs.isEmpty && xs.allSatisfy { $0 == $0.rounded() }
            var overhang = 0.0
            var axis = AxisScale(covering: xs)
            var right = width - padding - reservedRight
            for _ in 0..<2 {
                right = (width - padding - reservedRight - overhang).rounded(.down)
                let plotWidth = max(right - left, 10)
                var target = min(max(Int(plotWidth / 90) + 1, 3), 12)
                while true {
                    axis = AxisScale(covering: xs, targetTickCount: target, minimumTickStep: integral ? 1 : 0)
                    let widest = axis.ticks.map { metrics.width(of: axis.label(for: $0), role: .tickLabel) }.max() ?? 0
                    let spacing = (plotWidth - 2 * ChartLayout.dataInset) * axis.tickStep / (axis.upperBound - axis.lowerBound)
                    if spacing >= widest + 14 || target <= 2 { break }
                    target -= 1
                }
                let lastLabel = axis.ticks.last.map { axis.label(for: $0) } ?? ""
                let lastLabelOverhang = axis.ticks.last == axis.upperBound
                    ? metrics.width(of: lastLabel, role: .tickLabel) / 2 : 0
                overhang = max(lastLabelOverhang - ChartLayout.dataInset - padding / 2, 0)
            }
            xAxis = axis
            rightOverhang = overhang
            plot = PixelRect(x: left, y: top, width: max(right - left, 10), height: plotHeight)
        }

        func pixel(_ point: ChartPoint) -> PixelPoint {
            PixelPoint(
                x: ChartLayout.pixelX(point.x, plot: plot, axis: xAxis),
                y: ChartLayout.pixelY(point.y, plot: plot, axis: yAxis)
            )
        }

        func runs(of chart: LineChart) -> [[[PixelPoint]]] {
            chart.series.map { series in series.finiteRuns.map { $0.map(pixel) } }
        }

        func bands(of chart: LineChart) -> [[[PixelPoint]]] {
            let low = yAxis.lowerBound, high = yAxis.upperBound
            func clamped(_ y: Double) -> Double { min(max(y, low), high) }
            return chart.series.map { series in
                series.finiteBandRuns.map { run in
                    run.map { pixel(ChartPoint(x: $0.x, y: clamped($0.upper))) }
                        + run.reversed().map { pixel(ChartPoint(x: $0.x, y: clamped($0.lower))) }
                }
            }
        }

        func markers(of chart: LineChart) -> [[PixelPoint]] {
            let tolerance = (yAxis.upperBound - yAxis.lowerBound) * 1e-9
            let range = (yAxis.lowerBound - tolerance)...(yAxis.upperBound + tolerance)
            return chart.series.map { series in
                series.points.filter { $0.isFinite && range.contains($0.y) }.map(pixel)
            }
        }
    }

    // MARK: - Text

    private static func texts(chart: LineChart, frame: Frame, metrics: TextMetrics, width: Double, height: Double) -> [TextPlacement] {
        var texts: [TextPlacement] = []
        let plot = frame.plot
        if !chart.title.isEmpty {
            let titleWidth = metrics.width(of: chart.title, role: .title)
            let centre = min(max(plot.midX, padding + titleWidth / 2), max(width - padding - titleWidth / 2, padding + titleWidth / 2))
            texts.append(TextPlacement(text: chart.title, role: .title, x: centre, top: padding, alignment: .middle))
        }
        let tickCap = metrics.capHeight(for: .tickLabel)
        for tick in frame.yAxis.ticks {
            let y = pixelY(tick, plot: plot, axis: frame.yAxis)
            texts.append(TextPlacement(
                text: frame.yAxis.label(for: tick), role: .tickLabel,
                x: plot.minX - tickLength - tickLabelGap, top: y - tickCap / 2, alignment: .end
            ))
        }
        let xTickTop = plot.maxY + tickLength + tickLabelGap
        for tick in frame.xAxis.ticks {
            let x = pixelX(tick, plot: plot, axis: frame.xAxis)
            texts.append(TextPlacement(
                text: frame.xAxis.label(for: tick), role: .tickLabel, x: x, top: xTickTop, alignment: .middle
            ))
        }
        if !chart.xLabel.isEmpty {
            let top = xTickTop + metrics.boxHeight(for: .tickLabel) + axisLabelGap
            texts.append(TextPlacement(text: chart.xLabel, role: .axisLabel, x: plot.midX, top: top, alignment: .middle))
        }
        if !chart.yLabel.isEmpty {
            // Centred on the plot, but kept on the canvas when the label is longer than the plot is tall.
            let half = metrics.width(of: chart.yLabel, role: .axisLabel) / 2
            let centre = min(max(plot.midY, padding + half), max(height - padding - half, padding + half))
            texts.append(TextPlacement(
                text: chart.yLabel, role: .axisLabel, x: padding, top: centre, alignment: .middle, rotated: true
            ))
        }
        return texts
    }

    // MARK: - Legend

    private struct EntrySize {
        var name: String
        var width: Double
        var height: Double
    }

    private static func legendEntrySizes(chart: LineChart, metrics: TextMetrics) -> [EntrySize] {
        let rowHeight = max(metrics.boxHeight(for: .legend), 2 * markerRadius + 4)
        return chart.series.map { series in
            EntrySize(
                name: series.name,
                width: legendSwatchLength + legendTextGap + metrics.width(of: series.name, role: .legend),
                height: rowHeight
            )
        }
    }

    private static func legendBoxSize(entries: [EntrySize], columns: Int) -> (width: Double, height: Double) {
        let widest = entries.map(\.width).max() ?? 0
        let rowHeight = entries.first?.height ?? 0
        let rows = (entries.count + columns - 1) / columns
        let width = 2 * legendPadding + Double(columns) * widest + Double(columns - 1) * legendColumnGap
        let height = 2 * legendPadding + Double(rows) * rowHeight + Double(max(rows - 1, 0)) * legendRowGap
        return (width.rounded(.up), height.rounded(.up))
    }

    private static func arrangeLegend(entries: [EntrySize], columns: Int, in box: PixelRect, metrics: TextMetrics) -> Legend {
        let widest = entries.map(\.width).max() ?? 0
        let cap = metrics.capHeight(for: .legend)
        let placed = entries.enumerated().map { index, entry in
            let row = index / columns
            let column = index % columns
            let x = box.minX + legendPadding + Double(column) * (widest + legendColumnGap)
            let midY = box.minY + legendPadding + Double(row) * (entry.height + legendRowGap) + entry.height / 2
            return LegendEntry(
                seriesIndex: index,
                swatchStart: PixelPoint(x: x, y: midY),
                swatchEnd: PixelPoint(x: x + legendSwatchLength, y: midY),
                label: TextPlacement(
                    text: entry.name, role: .legend,
                    x: x + legendSwatchLength + legendTextGap, top: midY - cap / 2, alignment: .start
                )
            )
        }
        return Legend(box: box, entries: placed)
    }

    /// A legend box in a corner of the plot that covers no line or marker, if there is one.
    private static func freeCorner(for size: (width: Double, height: Double), frame: Frame, chart: LineChart) -> PixelRect? {
        let plot = frame.plot
        let inset = 10.0
        guard size.width <= plot.width * 0.6, size.height <= plot.height * 0.75 else { return nil }
        let left = plot.minX + inset
        let right = plot.maxX - inset - size.width
        let top = plot.minY + inset
        let bottom = plot.maxY - inset - size.height
        let candidates = [(right, top), (left, top), (right, bottom), (left, bottom)].map {
            PixelRect(x: $0.0.rounded(), y: $0.1.rounded(), width: size.width, height: size.height)
        }
        let runs = frame.runs(of: chart)
        let markers = frame.markers(of: chart).flatMap { $0 }
        return candidates.first { candidate in
            let lineClearance = candidate.insetBy(-(lineWidth + 4))
            let markerClearance = candidate.insetBy(-(markerRadius * 1.4 + 4))
            if markers.contains(where: markerClearance.contains) { return false }
            for run in runs.flatMap({ $0 }) {
                if run.count == 1, lineClearance.contains(run[0]) { return false }
                for (a, b) in zip(run, run.dropFirst()) where lineClearance.intersectsSegment(from: a, to: b) {
                    return false
                }
            }
            return true
        }
    }
}
