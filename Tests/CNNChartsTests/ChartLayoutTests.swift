import Testing
@testable import CNNCharts

@Suite("ChartLayout")
struct ChartLayoutTests {
    static let charts: [LineChart] = {
        var fourSeries = Fixtures.accuracyVersusK
        fourSeries.series.append(ChartSeries(name: "fine-tuned", x: Fixtures.ks, y: Fixtures.ks.map { 69 - $0 / 5 }, lineStyle: .dashed))
        let crowded = LineChart(
            title: "Crowded", xLabel: "K", yLabel: "Accuracy (%)",
            series: (0..<6).map { i in
                ChartSeries(name: "a rather long criterion name \(i)", x: Fixtures.ks, y: Fixtures.ks.map { 95 - 3 * $0 + Double(i) * 9 })
            },
            yRange: 0...100
        )
        let tenLongNames = LineChart(
            title: "Ten criteria, long names", xLabel: "K (channels pruned)", yLabel: "Test accuracy (%)",
            series: (0..<10).map { i in
                ChartSeries(name: "criterion number \(i) with a long name", x: Fixtures.ks, y: Fixtures.ks.map { 92 - 2.2 * $0 - Double(i) * 3 })
            },
            yRange: 0...100
        )
        return [Fixtures.accuracyVersusK, fourSeries, Fixtures.sensitivity, crowded, tenLongNames]
    }()

    /// The box each text occupies, in pixels.
    private func box(of text: TextPlacement, metrics: TextMetrics) -> PixelRect {
        let width = metrics.width(of: text.text, role: text.role)
        let height = metrics.boxHeight(for: text.role)
        if text.rotated {
            return PixelRect(x: text.x, y: text.top - width / 2, width: height, height: width)
        }
        let left: Double
        switch text.alignment {
        case .start: left = text.x
        case .middle: left = text.x - width / 2
        case .end: left = text.x - width
        }
        return PixelRect(x: left, y: text.top, width: width, height: height)
    }

    private func overlap(_ a: PixelRect, _ b: PixelRect) -> Bool {
        a.minX < b.maxX && b.minX < a.maxX && a.minY < b.maxY && b.minY < a.maxY
    }

    @Test("no text overlaps other text, the legend or the plot, and all of it is on the canvas",
          arguments: [TextMetrics.bitmapFont, .vector])
    func textDoesNotOverlap(metrics: TextMetrics) {
        for chart in Self.charts {
            let layout = ChartLayout(chart: chart, metrics: metrics)
            var boxes = layout.texts.map { box(of: $0, metrics: metrics) }
            if let legend = layout.legend {
                for entry in legend.entries {
                    #expect(legend.box.contains(PixelPoint(x: box(of: entry.label, metrics: metrics).maxX, y: entry.label.top)),
                            "legend text sticks out of its box in \(chart.title)")
                }
                boxes.append(legend.box)
            }
            let canvas = PixelRect(x: 0, y: 0, width: layout.width, height: layout.height)
            for (i, a) in boxes.enumerated() {
                #expect(canvas.contains(PixelPoint(x: a.minX, y: a.minY)) && canvas.contains(PixelPoint(x: a.maxX, y: a.maxY)),
                        "\(chart.title): box \(a) leaves the canvas")
                for b in boxes[(i + 1)...] {
                    #expect(!overlap(a, b), "\(chart.title): \(a) overlaps \(b)")
                }
                if i < layout.texts.count {
                    #expect(!overlap(a, layout.plot.insetBy(1)), "\(chart.title): text '\(layout.texts[i].text)' overlaps the plot")
                }
            }
        }
    }

    @Test("the legend covers no line or marker", arguments: [TextMetrics.bitmapFont, .vector])
    func legendHidesNoData(metrics: TextMetrics) {
        for chart in Self.charts {
            let layout = ChartLayout(chart: chart, metrics: metrics)
            guard let legend = layout.legend else {
                Issue.record("no legend for \(chart.title)")
                continue
            }
            for run in layout.runs.flatMap({ $0 }) {
                for (a, b) in zip(run, run.dropFirst()) {
                    #expect(!legend.box.intersectsSegment(from: a, to: b), "\(chart.title): legend covers a line")
                }
            }
            for marker in layout.markers.flatMap({ $0 }) {
                #expect(!legend.box.insetBy(-ChartLayout.markerRadius).contains(marker), "\(chart.title): legend covers a marker")
            }
        }
    }

    @Test("the CLI's accuracy-vs-K chart keeps its legend inside a free corner of the plot")
    func legendInside() {
        let layout = ChartLayout(chart: Fixtures.accuracyVersusK, metrics: .bitmapFont)
        #expect(layout.legendPosition == .inside)
        #expect(layout.yAxis.ticks == [0, 20, 40, 60, 80, 100])
        #expect(layout.xAxis.ticks == [0, 5, 10, 15, 20, 25, 30])
    }

    @Test("points outside a fixed y range get no marker")
    func outOfRange() {
        let chart = LineChart(
            title: "t", xLabel: "x", yLabel: "y",
            series: [ChartSeries(name: "s", x: [0, 1, 2], y: [50, 150, -5])], yRange: 0...100
        )
        let layout = ChartLayout(chart: chart, metrics: .bitmapFont)
        #expect(layout.markers[0].count == 1)
    }

    @Test("series styles: palette colours, distinct markers, dashed beyond the palette, explicit choices win")
    func styles() {
        let many = (0..<10).map { ChartSeries(name: "\($0)", x: [0], y: [0]) }
        let styles = many.enumerated().map { ResolvedSeriesStyle(series: $1, index: $0) }
        #expect(styles[0].color == ChartColor.palette[0])
        #expect(Set(styles.prefix(ChartColor.palette.count).map(\.color)).count == ChartColor.palette.count)
        #expect(styles.prefix(ChartColor.palette.count).allSatisfy { $0.lineStyle == .solid })
        #expect(styles.dropFirst(ChartColor.palette.count).allSatisfy { $0.lineStyle == .dashed })
        #expect(Set(styles.map { "\($0.color.hexString)\($0.marker)\($0.lineStyle)" }).count == 10)
        let custom = ResolvedSeriesStyle(
            series: ChartSeries(name: "c", x: [0], y: [0], lineStyle: .dashed, marker: .star, color: .black), index: 0
        )
        #expect(custom.color == .black && custom.marker == .star && custom.lineStyle == .dashed)
    }
}
