import Testing
@testable import CNNCharts

@Suite("LineChart terminal text")
struct TerminalChartTests {
    @Test("the text has the requested size and contains title, labels and legend",
          arguments: [(72, 20), (100, 30), (40, 14)])
    func dimensions(width: Int, height: Int) {
        let chart = Fixtures.accuracyVersusK
        let text = chart.terminalText(width: width, height: height)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == height)
        #expect(lines.allSatisfy { $0.count <= width }, "a line is wider than \(width)")
        #expect(lines.contains { $0.count == width && $0.contains("└") }, "the x axis should span the width")
        #expect(text.contains("Test accuracy (%)"))
        #expect(text.contains("K (channels pruned)"))
        for series in chart.series where series.name.count < width - 2 {
            #expect(text.contains(series.name), "legend lacks \(series.name)")
        }
        #expect(text.contains("* mean-activation") && text.contains("o l1"))
    }

    @Test("markers sit where the data is: the top-left point at the top, the chance-level line near the bottom")
    func markerPlacement() {
        let chart = LineChart(
            title: "", xLabel: "", yLabel: "",
            series: [ChartSeries(name: "a", x: [0, 10], y: [100, 0]), ChartSeries(name: "b", x: [0, 10], y: [10, 10])],
            yRange: 0...100
        )
        let lines = chart.terminalText(width: 40, height: 14).split(separator: "\n").map(String.init)
        let plotRows = lines.filter { $0.contains("│") || $0.contains("┤") }
        #expect(plotRows.first?.hasPrefix("100 ┤*") == true, "got \(plotRows.first ?? "")")
        #expect(plotRows.last?.hasSuffix("*") == true, "the (10, 0) point should end the bottom row")
        let rowOfB = plotRows.firstIndex { $0.contains("o") } ?? -1
        #expect(rowOfB >= plotRows.count - 3, "y = 10 should be near the bottom, was row \(rowOfB) of \(plotRows.count)")
        #expect(lines.contains { $0.contains("·") }, "segments should be drawn with dots")
    }

    @Test("empty and degenerate charts still render at the requested size")
    func degenerate() {
        let charts = [
            LineChart(title: "", xLabel: "", yLabel: "", series: []),
            LineChart(title: "t", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "nan", x: [0, 1], y: [.nan, .nan])]),
            LineChart(title: "t", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "one", x: [5], y: [5])]),
        ]
        for chart in charts {
            let lines = chart.terminalText(width: 50, height: 16).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 16)
            #expect(lines.allSatisfy { $0.count <= 50 })
        }
    }
}
