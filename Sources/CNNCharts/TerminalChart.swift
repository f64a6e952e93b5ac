/// Renders a `LineChart` as lines of text for a terminal or a log file.
///
/// Layout, top to bottom: the title, the y-axis label, the plot rows with y tick labels on a
/// `┤`/`│` axis, the `└──┬──` x axis, x tick labels, the x-axis label, and the legend (wrapped
/// if needed). Each series' data points are drawn with its marker character, and the steps
/// between neighbouring points with `·`, so lines stay readable but never hide a marker.
struct TerminalChart {
    let chart: LineChart
    let width: Int
    let height: Int

    static let minimumWidth = 24
    static let minimumPlotRows = 3
    static let lineCharacter: Character = "·"

    init(chart: LineChart, width: Int, height: Int) {
        self.chart = chart
        self.width = max(width, Self.minimumWidth)
        self.height = height
    }

    func render() -> String {
        let styles = chart.series.enumerated().map { ResolvedSeriesStyle(series: $1, index: $0) }

        var header: [String] = []
        if !chart.title.isEmpty { header.append(centred(truncated(chart.title, to: width), in: width)) }
        if !chart.yLabel.isEmpty { header.append(truncated(chart.yLabel, to: width)) }
        let legend = legendLines(styles: styles)
        let footerCount = 2 + (chart.xLabel.isEmpty ? 0 : 1) + legend.count
        let rows = max(height - header.count - footerCount, Self.minimumPlotRows)

        let points = chart.series.flatMap(\.points).filter(\.isFinite)
        let yTarget = min(max(rows / 3 + 1, 2), 6)
        let yAxis = chart.yRange.map { AxisScale(fixed: $0, targetTickCount: yTarget) }
            ?? AxisScale(covering: points.map(\.y), targetTickCount: yTarget)
        let yLabels = yAxis.ticks.map { yAxis.label(for: $0) }
        let labelWidth = yLabels.map(\.count).max() ?? 1
        let axisColumn = labelWidth + 1
        let columns = max(width - axisColumn - 1, 2)

        let xs = points.map(\.x)
        let integral = !xs.isEmpty && xs.allSatisfy { $0 == $0.rounded() }
        var xTarget = min(max(columns / 10 + 1, 2), 8)
        var xAxis = AxisScale(covering: xs, targetTickCount: xTarget, minimumTickStep: integral ? 1 : 0)
        while xTarget > 2 {
            let widest = xAxis.ticks.map { xAxis.label(for: $0).count }.max() ?? 1
            let spacing = Double(columns - 1) * xAxis.tickStep / (xAxis.upperBound - xAxis.lowerBound)
            if spacing >= Double(widest + 2) { break }
            xTarget -= 1
            xAxis = AxisScale(covering: xs, targetTickCount: xTarget, minimumTickStep: integral ? 1 : 0)
        }

        func column(_ x: Double) -> Int { Int((xAxis.fraction(of: x) * Double(columns - 1)).rounded()) }
        func row(_ y: Double) -> Int { Int(((1 - yAxis.fraction(of: y)) * Double(rows - 1)).rounded()) }

        // The plot area as a grid of characters; dots first, then every series' markers.
        var grid = [[Character]](repeating: [Character](repeating: " ", count: columns), count: rows)
        func inside(_ r: Int, _ c: Int) -> Bool { r >= 0 && r < rows && c >= 0 && c < columns }
        for series in chart.series {
            for run in series.finiteRuns {
                for (a, b) in zip(run, run.dropFirst()) {
                    let (r0, c0, r1, c1) = (row(a.y), column(a.x), row(b.y), column(b.x))
                    let steps = max(abs(r1 - r0), abs(c1 - c0))
                    guard steps > 1 else { continue }
                    for step in 1..<steps {
                        let t = Double(step) / Double(steps)
                        let r = Int((Double(r0) + Double(r1 - r0) * t).rounded())
                        let c = Int((Double(c0) + Double(c1 - c0) * t).rounded())
                        if inside(r, c), grid[r][c] == " " { grid[r][c] = Self.lineCharacter }
                    }
                }
            }
        }
        for (index, series) in chart.series.enumerated() {
            for point in series.points where point.isFinite {
                let (r, c) = (row(point.y), column(point.x))
                if inside(r, c) { grid[r][c] = styles[index].terminalMarker }
            }
        }

        var lines = header
        var tickRows: [Int: String] = [:]
        for (tick, label) in zip(yAxis.ticks, yLabels) { tickRows[row(tick)] = label }
        for r in 0..<rows {
            let label = tickRows[r] ?? ""
            let axis: Character = tickRows[r] == nil ? "│" : "┤"
            let prefix = String(repeating: " ", count: labelWidth - label.count) + label + " " + String(axis)
            lines.append(trimmedTrailing(prefix + String(grid[r])))
        }

        var axisLine = [Character](repeating: "─", count: columns)
        var labelLine = [Character](repeating: " ", count: width)
        var nextFree = 0
        for tick in xAxis.ticks {
            let c = column(tick)
            guard c >= 0, c < columns else { continue }
            axisLine[c] = "┬"
            let label = Array(xAxis.label(for: tick))
            let centre = axisColumn + 1 + c
            let start = min(max(centre - label.count / 2, nextFree), width - label.count)
            if start >= nextFree, start >= 0 {
                for (k, character) in label.enumerated() { labelLine[start + k] = character }
                nextFree = start + label.count + 1
            }
        }
        lines.append(String(repeating: " ", count: labelWidth + 1) + "└" + String(axisLine))
        lines.append(trimmedTrailing(String(labelLine)))
        if !chart.xLabel.isEmpty {
            let centre = axisColumn + 1 + columns / 2
            let label = truncated(chart.xLabel, to: width)
            let start = min(max(centre - label.count / 2, 0), width - label.count)
            lines.append(String(repeating: " ", count: start) + label)
        }
        lines += legend
        return lines.joined(separator: "\n")
    }

    /// `* name   o other   …`, wrapped to the width.
    private func legendLines(styles: [ResolvedSeriesStyle]) -> [String] {
        var lines: [String] = []
        var current = ""
        for (index, series) in chart.series.enumerated() {
            let entry = truncated("\(styles[index].terminalMarker) \(series.name)", to: width)
            if current.isEmpty {
                current = entry
            } else if current.count + 3 + entry.count <= width {
                current += "   " + entry
            } else {
                lines.append(current)
                current = entry
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    private func truncated(_ text: String, to length: Int) -> String {
        text.count <= length ? text : String(text.prefix(max(length - 1, 0))) + "…"
    }

    private func centred(_ text: String, in length: Int) -> String {
        String(repeating: " ", count: max((length - text.count) / 2, 0)) + text
    }

    private func trimmedTrailing(_ text: String) -> String {
        var characters = Substring(text)
        while characters.last == " " { characters.removeLast() }
        return String(characters)
    }
}
