import Foundation
import Testing
@testable import CNNCharts

/// Shaded bands (e.g. 95 % intervals over models) beneath a series' line.
@Suite("Chart bands")
struct ChartBandTests {
    /// One series at y = 50 with a band 40…60 over x = 0…10, on a fixed 0…100 axis.
    static func bandedChart(lower: Double = 40, upper: Double = 60, yRange: ClosedRange<Double>? = 0...100) -> LineChart {
        let xs: [Double] = [0, 5, 10]
        let band = xs.map { ChartBandPoint(x: $0, lower: lower, upper: upper) }
        return LineChart(
            title: "", xLabel: "", yLabel: "",
            series: [ChartSeries(name: "mean", x: xs, y: [50, 50, 50], color: ChartColor(red: 0, green: 0, blue: 255), band: band)],
            yRange: yRange, width: 400, height: 300
        )
    }

    @Test("the PNG tints the band's inside lightly in the series' colour and leaves the outside white")
    func pngShading() throws {
        let chart = Self.bandedChart()
        let layout = ChartLayout(chart: chart, metrics: .bitmapFont)
        let png = try DecodedPNG(chart.pngData())
        let x = Int(layout.pixelX(2.5))
        func rgb(atY value: Double) -> (r: Int, g: Int, b: Int) {
            let pixel = png.pixel(x: x, y: Int(layout.pixelY(value)))
            return (Int(pixel >> 16 & 0xFF), Int(pixel >> 8 & 0xFF), Int(pixel & 0xFF))
        }
        // Inside the band, between line and edge, away from grid lines (ticks at 0, 20, …, 100).
        let inside = rgb(atY: 55)
        #expect(inside.b == 255, "blue band keeps blue at full")
        // 18 % opacity of pure blue over white: red and green fall to 255·0.82 ≈ 209.
        #expect(abs(inside.r - 209) <= 2 && abs(inside.g - 209) <= 2, "inside \(inside)")
        let outside = rgb(atY: 70)
        #expect(outside.r == 255 && outside.g == 255 && outside.b == 255, "outside \(outside)")
        let below = rgb(atY: 30)
        #expect(below.r == 255 && below.g == 255 && below.b == 255, "below \(below)")
    }

    @Test("the SVG has one closed band path: upper edge left to right, then the lower edge back")
    func svgPath() throws {
        let chart = Self.bandedChart()
        let layout = ChartLayout(chart: chart, metrics: .vector)
        let svg = chart.svg()
        #expect(svg.components(separatedBy: #"class="series-band""#).count == 2)
        #expect(svg.contains(#"class="legend-band""#))
        #expect(layout.bands[0].count == 1)
        let outline = layout.bands[0][0]
        #expect(outline.count == 6)
        #expect(outline.map(\.y).prefix(3).allSatisfy { abs($0 - layout.pixelY(60)) < 1e-9 })
        #expect(outline.map(\.y).suffix(3).allSatisfy { abs($0 - layout.pixelY(40)) < 1e-9 })
        #expect(outline[0].x < outline[2].x && outline[3].x > outline[5].x)
        // Drawn before (beneath) the series line.
        let band = try #require(svg.range(of: "series-band"))
        let line = try #require(svg.range(of: "series-line"))
        #expect(band.lowerBound < line.lowerBound)
    }

    @Test("a fitted y axis covers the band, not only the line")
    func fittedAxisCoversBand() {
        let layout = ChartLayout(chart: Self.bandedChart(lower: 20, upper: 80, yRange: nil), metrics: .vector)
        #expect(layout.yAxis.lowerBound <= 20 && layout.yAxis.upperBound >= 80)
    }

    @Test("edges beyond a fixed axis are clamped to it; a NaN breaks the band; one value draws nothing")
    func clampingAndBreaks() {
        var chart = Self.bandedChart(lower: -20, upper: 130)
        var layout = ChartLayout(chart: chart, metrics: .vector)
        let ys = layout.bands[0][0].map(\.y)
        #expect(ys.allSatisfy { $0 >= layout.pixelY(100) - 1e-9 && $0 <= layout.pixelY(0) + 1e-9 })

        chart.series[0].band = [0, 2, 4, 6, 8, 10].map { x in
            ChartBandPoint(x: x, lower: 40, upper: x == 4 ? .nan : 60)
        }
        layout = ChartLayout(chart: chart, metrics: .vector)
        #expect(layout.bands[0].count == 2)
        chart.series[0].band = [ChartBandPoint(x: 0, lower: 40, upper: 60)]
        layout = ChartLayout(chart: chart, metrics: .vector)
        #expect(layout.bands[0].isEmpty)
        #expect(!chart.svg().contains("series-band"))
    }

    @Test("edges given upside down are put in order")
    func edgeOrder() {
        let value = ChartBandPoint(x: 1, lower: 60, upper: 40)
        #expect(value.lower == 40 && value.upper == 60)
    }
}
