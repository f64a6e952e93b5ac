/// Writes a `ChartLayout` as a standalone SVG document.
///
/// The document is self-contained XML: no external fonts, styles or scripts. Lines are clipped
/// to the plot area; every piece of user text goes through `escaped(_:)`.
struct SVGRenderer {
    let layout: ChartLayout
    let chart: LineChart

    func document() -> String {
        var svg: [String] = []
        let w = Int(layout.width), h = Int(layout.height)
        svg.append(#"<?xml version="1.0" encoding="UTF-8"?>"#)
        svg.append(
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(w)" height="\#(h)" viewBox="0 0 \#(w) \#(h)" "#
                + #"font-family="Helvetica, Arial, 'DejaVu Sans', sans-serif">"#
        )
        svg.append("<title>\(Self.escaped(chart.title.isEmpty ? "Line chart" : chart.title))</title>")
        let plot = layout.plot
        let clip = plot.insetBy(-ChartLayout.lineWidth)
        svg.append(
            #"<defs><clipPath id="cnncharts-plot-area"><rect x="\#(n(clip.x))" y="\#(n(clip.y))" "#
                + #"width="\#(n(clip.width))" height="\#(n(clip.height))"/></clipPath></defs>"#
        )
        svg.append(#"<rect width="100%" height="100%" fill="\#(ChartTheme.background.hexString)"/>"#)

        // Grid.
        svg.append(#"<g class="grid" stroke="\#(ChartTheme.grid.hexString)" stroke-width="1">"#)
        for tick in layout.yAxis.ticks {
            let y = crisp(layout.pixelY(tick))
            svg.append(#"<line x1="\#(n(plot.minX))" y1="\#(y)" x2="\#(n(plot.maxX))" y2="\#(y)"/>"#)
        }
        for tick in layout.xAxis.ticks {
            let x = crisp(layout.pixelX(tick))
            svg.append(#"<line x1="\#(x)" y1="\#(n(plot.minY))" x2="\#(x)" y2="\#(n(plot.maxY))"/>"#)
        }
        svg.append("</g>")

        // Bands, beneath everything drawn from the data.
        if layout.bands.contains(where: { !$0.isEmpty }) {
            svg.append(#"<g class="bands" clip-path="url(#cnncharts-plot-area)" stroke="none">"#)
            for (index, series) in chart.series.enumerated() {
                for outline in layout.bands[index] {
                    svg.append(
                        #"<path class="series-band" data-series="\#(Self.escaped(series.name))" d="\#(polygonPath(outline))" "#
                            + #"fill="\#(layout.styles[index].color.hexString)" fill-opacity="\#(ChartLayout.bandOpacity)"/>"#
                    )
                }
            }
            svg.append("</g>")
        }

        // Axes and tick marks.
        svg.append(#"<g class="axes" stroke="\#(ChartTheme.axis.hexString)" stroke-width="1" fill="none">"#)
        let left = crisp(plot.minX), bottom = crisp(plot.maxY)
        svg.append(#"<path d="M\#(left) \#(n(plot.minY))V\#(bottom)H\#(n(plot.maxX))"/>"#)
        for tick in layout.yAxis.ticks {
            let y = crisp(layout.pixelY(tick))
            svg.append(#"<line x1="\#(n(plot.minX - ChartLayout.tickLength))" y1="\#(y)" x2="\#(left)" y2="\#(y)"/>"#)
        }
        for tick in layout.xAxis.ticks {
            let x = crisp(layout.pixelX(tick))
            svg.append(#"<line x1="\#(x)" y1="\#(bottom)" x2="\#(x)" y2="\#(n(plot.maxY + ChartLayout.tickLength))"/>"#)
        }
        svg.append("</g>")

        // Series lines, then markers on top of all lines.
        svg.append(#"<g class="series" clip-path="url(#cnncharts-plot-area)" fill="none" stroke-linejoin="round" stroke-linecap="round">"#)
        for (index, series) in chart.series.enumerated() {
            let style = layout.styles[index]
            var d = ""
            for run in layout.runs[index] {
                for (k, point) in run.enumerated() {
                    d += (k == 0 ? "M" : "L") + "\(n(point.x)) \(n(point.y))"
                }
                if run.count == 1 { d += "h0" }  // a lone point still gets a round cap
            }
            let dash = style.lineStyle == .dashed
                ? #" stroke-dasharray="\#(ChartLayout.dashPattern.map(n).joined(separator: " "))""# : ""
            svg.append(
                #"<path class="series-line" data-series="\#(Self.escaped(series.name))" d="\#(d)" "#
                    + #"stroke="\#(style.color.hexString)" stroke-width="\#(n(ChartLayout.lineWidth))"\#(dash)/>"#
            )
        }
        svg.append("</g>")
        svg.append(#"<g class="markers" stroke="\#(ChartTheme.background.hexString)" stroke-width="1">"#)
        for (index, points) in layout.markers.enumerated() where !points.isEmpty {
            let style = layout.styles[index]
            svg.append(#"<g fill="\#(style.color.hexString)">"#)
            for point in points {
                svg.append(marker(style.marker, at: point))
            }
            svg.append("</g>")
        }
        svg.append("</g>")

        // Text.
        for placement in layout.texts {
            svg.append(text(placement))
        }

        // Legend.
        if let legend = layout.legend {
            svg.append(#"<g class="legend">"#)
            let box = legend.box
            svg.append(
                #"<rect x="\#(crisp(box.x))" y="\#(crisp(box.y))" width="\#(n(box.width.rounded()))" "#
                    + #"height="\#(n(box.height.rounded()))" rx="3" fill="\#(ChartTheme.background.hexString)" fill-opacity="0.92" "#
                    + #"stroke="\#(ChartTheme.legendBorder.hexString)" stroke-width="1"/>"#
            )
            for entry in legend.entries {
                let style = layout.styles[entry.seriesIndex]
                if !layout.bands[entry.seriesIndex].isEmpty {
                    svg.append(
                        #"<path class="legend-band" d="\#(polygonPath(ChartLayout.bandSwatch(for: entry)))" "#
                            + #"fill="\#(style.color.hexString)" fill-opacity="\#(ChartLayout.bandOpacity)" stroke="none"/>"#
                    )
                }
                let dash = style.lineStyle == .dashed
                    ? #" stroke-dasharray="\#(ChartLayout.dashPattern.map(n).joined(separator: " "))""# : ""
                svg.append(
                    #"<line x1="\#(n(entry.swatchStart.x))" y1="\#(n(entry.swatchStart.y))" "#
                        + #"x2="\#(n(entry.swatchEnd.x))" y2="\#(n(entry.swatchEnd.y))" "#
                        + #"stroke="\#(style.color.hexString)" stroke-width="\#(n(ChartLayout.lineWidth))"\#(dash)/>"#
                )
                let middle = PixelPoint(
                    x: (entry.swatchStart.x + entry.swatchEnd.x) / 2,
                    y: entry.swatchStart.y
                )
                svg.append(#"<g fill="\#(style.color.hexString)" stroke="\#(ChartTheme.background.hexString)" stroke-width="1">"#
                    + marker(style.marker, at: middle) + "</g>")
                svg.append(text(entry.label))
            }
            svg.append("</g>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// A closed SVG path through `outline`.
    private func polygonPath(_ outline: [PixelPoint]) -> String {
        outline.enumerated().map { ($0.offset == 0 ? "M" : "L") + "\(n($0.element.x)) \(n($0.element.y))" }.joined() + "Z"
    }

    private func marker(_ shape: MarkerShape, at point: PixelPoint) -> String {
        let r = ChartLayout.markerRadius
        guard let outline = shape.outline(radius: r) else {
            return #"<circle cx="\#(n(point.x))" cy="\#(n(point.y))" r="\#(n(r))"/>"#
        }
        let coordinates = outline.map { "\(n(point.x + $0.x)),\(n(point.y + $0.y))" }.joined(separator: " ")
        return #"<polygon points="\#(coordinates)"/>"#
    }

    private func text(_ placement: TextPlacement) -> String {
        let metrics = layout.metrics
        let size = metrics.fontSize(for: placement.role)
        let anchor: String
        switch placement.alignment {
        case .start: anchor = "start"
        case .middle: anchor = "middle"
        case .end: anchor = "end"
        }
        let colour = placement.role == .tickLabel ? ChartTheme.tickText : ChartTheme.text
        let weight = placement.role == .title ? #" font-weight="bold""# : ""
        let baseline = metrics.capHeight(for: placement.role)
        let position: String
        if placement.rotated {
            let x = placement.x + baseline
            position = #"x="\#(n(x))" y="\#(n(placement.top))" transform="rotate(-90 \#(n(x)) \#(n(placement.top)))""#
        } else {
            position = #"x="\#(n(placement.x))" y="\#(n(placement.top + baseline))""#
        }
        return #"<text \#(position) font-size="\#(n(size))" text-anchor="\#(anchor)" fill="\#(colour.hexString)"\#(weight)>"#
            + Self.escaped(placement.text) + "</text>"
    }

    /// A coordinate at the centre of its pixel, so that one-pixel lines stay sharp.
    private func crisp(_ value: Double) -> String {
        n(value.rounded(.down) + 0.5)
    }

    /// A coordinate with at most two decimals and no trailing zeros.
    private func n(_ value: Double) -> String {
        let scaled = (value * 100).rounded()
        if !scaled.isFinite { return "0" }
        let integer = Int(scaled)
        let sign = integer < 0 ? "-" : ""
        let magnitude = abs(integer)
        let whole = magnitude / 100, fraction = magnitude % 100
        if fraction == 0 { return sign + "\(whole)" }
        if fraction % 10 == 0 { return sign + "\(whole).\(fraction / 10)" }
        return sign + "\(whole)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// `text` safe inside XML element content and attribute values: `&`, `<`, `>`, both quote
    /// marks, and control characters XML 1.0 does not allow (dropped).
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                let allowed = value >= 0x20 && !(0xFFFE...0xFFFF).contains(value)
                if allowed { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }
}
