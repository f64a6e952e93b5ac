/// Draws a `ChartLayout` onto a `RasterCanvas`, the pixel twin of `SVGRenderer`.
///
/// Drawing order: background, grid, bands, series lines (clipped to the plot), axes and ticks,
/// markers, text, legend — so markers sit on top of every line and the legend on top of all.
struct ChartRasterizer {
    let layout: ChartLayout
    let chart: LineChart

    func render() -> RasterCanvas {
        var canvas = RasterCanvas(width: Int(layout.width), height: Int(layout.height), background: ChartTheme.background)
        let plot = layout.plot
        let left = Int(plot.minX.rounded(.down)), right = Int(plot.maxX.rounded(.down))
        let top = Int(plot.minY.rounded(.down)), bottom = Int(plot.maxY.rounded(.down))
        let tick = Int(ChartLayout.tickLength)

        for value in layout.yAxis.ticks {
            let y = Int(layout.pixelY(value).rounded(.down))
            canvas.fillRectangle(x: left, y: y, width: right - left + 1, height: 1, color: ChartTheme.grid)
        }
        for value in layout.xAxis.ticks {
            let x = Int(layout.pixelX(value).rounded(.down))
            canvas.fillRectangle(x: x, y: top, width: 1, height: bottom - top + 1, color: ChartTheme.grid)
        }

        for (index, outlines) in layout.bands.enumerated() {
            for outline in outlines {
                canvas.fillPolygon(outline, color: layout.styles[index].color, opacity: ChartLayout.bandOpacity)
            }
        }

        let clip = plot.insetBy(-ChartLayout.lineWidth)
        for (index, runs) in layout.runs.enumerated() {
            let style = layout.styles[index]
            for run in runs {
                canvas.strokePolyline(
                    run, color: style.color, lineWidth: ChartLayout.lineWidth,
                    dashPattern: style.lineStyle == .dashed ? ChartLayout.dashPattern : nil, clip: clip
                )
            }
        }

        canvas.fillRectangle(x: left, y: top, width: 1, height: bottom - top + 1, color: ChartTheme.axis)
        canvas.fillRectangle(x: left, y: bottom, width: right - left + 1, height: 1, color: ChartTheme.axis)
        for value in layout.yAxis.ticks {
            let y = Int(layout.pixelY(value).rounded(.down))
            canvas.fillRectangle(x: left - tick, y: y, width: tick, height: 1, color: ChartTheme.axis)
        }
        for value in layout.xAxis.ticks {
            let x = Int(layout.pixelX(value).rounded(.down))
            canvas.fillRectangle(x: x, y: bottom + 1, width: 1, height: tick, color: ChartTheme.axis)
        }

        for (index, points) in layout.markers.enumerated() {
            for point in points {
                drawMarker(layout.styles[index], at: point, on: &canvas)
            }
        }

        for placement in layout.texts {
            draw(placement, on: &canvas)
        }

        if let legend = layout.legend {
            let box = legend.box
            let x = Int(box.x.rounded(.down)), y = Int(box.y.rounded(.down))
            let w = Int(box.width.rounded()), h = Int(box.height.rounded())
            canvas.fillRectangle(x: x, y: y, width: w, height: h, color: ChartTheme.legendBorder)
            canvas.fillRectangle(x: x + 1, y: y + 1, width: w - 2, height: h - 2, color: ChartTheme.background)
            for entry in legend.entries {
                let style = layout.styles[entry.seriesIndex]
                if !layout.bands[entry.seriesIndex].isEmpty {
                    let swatch = ChartLayout.bandSwatch(for: entry)
                    canvas.fillPolygon(swatch, color: style.color, opacity: ChartLayout.bandOpacity)
                }
                canvas.strokePolyline(
                    [entry.swatchStart, entry.swatchEnd], color: style.color, lineWidth: ChartLayout.lineWidth,
                    dashPattern: style.lineStyle == .dashed ? ChartLayout.dashPattern : nil
                )
                let middle = PixelPoint(x: (entry.swatchStart.x + entry.swatchEnd.x) / 2, y: entry.swatchStart.y)
                drawMarker(style, at: middle, on: &canvas)
                draw(entry.label, on: &canvas)
            }
        }
        return canvas
    }

    /// A filled marker with a one-pixel white rim that separates it from crossing lines.
    private func drawMarker(_ style: ResolvedSeriesStyle, at point: PixelPoint, on canvas: inout RasterCanvas) {
        let radius = ChartLayout.markerRadius
        if let outline = style.marker.outline(radius: radius + 1) {
            canvas.fillPolygon(outline.map { PixelPoint(x: point.x + $0.x, y: point.y + $0.y) }, color: ChartTheme.background)
        } else {
            canvas.fillCircle(center: point, radius: radius + 1, color: ChartTheme.background)
        }
        if let outline = style.marker.outline(radius: radius) {
            canvas.fillPolygon(outline.map { PixelPoint(x: point.x + $0.x, y: point.y + $0.y) }, color: style.color)
        } else {
            canvas.fillCircle(center: point, radius: radius, color: style.color)
        }
    }

    private func draw(_ placement: TextPlacement, on canvas: inout RasterCanvas) {
        let scale = TextMetrics.bitmapScale
        let bold = placement.role == .title
        let width = Double(BitmapFont.width(of: placement.text, scale: scale) + (bold ? 1 : 0))
        let colour = placement.role == .tickLabel ? ChartTheme.tickText : ChartTheme.text
        if placement.rotated {
            canvas.drawText(
                placement.text, x: Int(placement.x.rounded()), y: Int((placement.top - width / 2).rounded()),
                scale: scale, color: colour, bold: bold, rotated: true
            )
            return
        }
        let x: Double
        switch placement.alignment {
        case .start: x = placement.x
        case .middle: x = placement.x - width / 2
        case .end: x = placement.x - width
        }
        canvas.drawText(
            placement.text, x: Int(x.rounded()), y: Int(placement.top.rounded()),
            scale: scale, color: colour, bold: bold
        )
    }
}
