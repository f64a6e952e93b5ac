import Foundation
import Testing
@testable import CNNCharts

@Suite("LineChart PNG")
struct LineChartPNGTests {
    @Test("the PNG has a valid signature, header, CRCs and image data")
    func structure() throws {
        let chart = Fixtures.accuracyVersusK
        let data = try chart.pngData()
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let png = try DecodedPNG(data)
        #expect(png.chunks.map(\.type).first == "IHDR")
        #expect(png.chunks.map(\.type).last == "IEND")
        #expect(png.chunks.contains { $0.type == "IDAT" })
        for chunk in png.chunks {
            #expect(chunk.storedCRC == chunk.computedCRC, "CRC mismatch in \(chunk.type)")
        }
        #expect(png.width == 900 && png.height == 560)
        #expect(png.bitDepth == 8)
        #expect(png.colorType == 2)
        #expect(png.interlace == 0)
        #expect(png.inflated.count == png.height * (1 + png.width * 3))
        #expect(png.filterTypes.count == png.height)
        #expect(png.filterTypes.allSatisfy { $0 <= 4 })
    }

    @Test("the image is drawn: white background, lots of ink, every series colour present")
    func content() throws {
        let chart = Fixtures.accuracyVersusK
        let png = try DecodedPNG(chart.pngData())
        var counts: [UInt32: Int] = [:]
        for y in 0..<png.height {
            for x in 0..<png.width {
                counts[png.pixel(x: x, y: y), default: 0] += 1
            }
        }
        let total = png.width * png.height
        let white = counts[0xFFFFFF, default: 0]
        #expect(white > total / 2, "background should be mostly white")
        #expect(total - white > 10_000, "expected many non-white pixels, got \(total - white)")
        #expect(png.pixel(x: 0, y: 0) == 0xFFFFFF)
        for colour in ChartColor.palette.prefix(chart.series.count) {
            let value = UInt32(colour.red) << 16 | UInt32(colour.green) << 8 | UInt32(colour.blue)
            #expect(counts[value, default: 0] > 200, "series colour \(colour.hexString) barely appears")
        }
    }

    @Test("the requested size is honoured", arguments: [(800, 500), (1200, 700)])
    func size(width: Int, height: Int) throws {
        var chart = Fixtures.sensitivity
        chart.width = width
        chart.height = height
        let png = try DecodedPNG(chart.pngData())
        #expect(png.width == width && png.height == height)
    }

    @Test("degenerate charts still render: no series, one point, NaNs, all y equal, 10 series")
    func degenerate() throws {
        let charts = [
            LineChart(title: "", xLabel: "", yLabel: "", series: []),
            LineChart(title: "One", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "p", x: [3], y: [42])]),
            LineChart(title: "NaN", xLabel: "x", yLabel: "y", series: [
                ChartSeries(name: "gaps", x: [0, 1, 2, 3, 4], y: [1, .nan, 3, .infinity, 5]),
                ChartSeries(name: "all NaN", x: [0, 1], y: [.nan, .nan]),
            ]),
            LineChart(title: "Flat", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "flat", x: [0, 1, 2], y: [7, 7, 7])]),
            LineChart(title: "Ten", xLabel: "K", yLabel: "Accuracy (%)", series: (0..<10).map { i in
                ChartSeries(name: "criterion \(i)", x: Fixtures.ks, y: Fixtures.ks.map { 70 - Double(i) * 3 - $0 })
            }, yRange: 0...100),
        ]
        for chart in charts {
            let png = try DecodedPNG(chart.pngData())
            #expect(png.inflated.count == chart.height * (1 + chart.width * 3))
        }
    }

    @Test("a non-positive size throws")
    func invalidSize() {
        var chart = Fixtures.sensitivity
        chart.width = 0
        #expect(throws: PNGEncodingError.self) { try chart.pngData() }
    }

    @Test("rasterising and encoding take well under a second")
    func speed() throws {
        let clock = ContinuousClock()
        let elapsed = try clock.measure { _ = try Fixtures.accuracyVersusK.pngData() }
        #expect(elapsed < .seconds(1), "took \(elapsed)")
    }

    /// Writes sample charts for a human to look at when `CNNCHARTS_SAMPLE_DIR` is set.
    @Test("write samples to CNNCHARTS_SAMPLE_DIR", .enabled(if: ProcessInfo.processInfo.environment["CNNCHARTS_SAMPLE_DIR"] != nil))
    func writeSamples() throws {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["CNNCHARTS_SAMPLE_DIR"]!)
        var withFineTuned = Fixtures.accuracyVersusK
        withFineTuned.series.append(ChartSeries(
            name: "fine-tuned", x: Fixtures.ks, y: Fixtures.ks.map { 69.5 - 8 * pow($0 / 30, 2) }, lineStyle: .dashed
        ))
        let samples: [(String, LineChart)] = [
            ("chart-sample", Fixtures.accuracyVersusK),
            ("chart-sample-4", withFineTuned),
            ("chart-sensitivity", Fixtures.sensitivity),
            ("chart-crowded", LineChart(
                title: "Ten criteria, long names", xLabel: "K (channels pruned)", yLabel: "Test accuracy (%)",
                series: (0..<10).map { i in
                    ChartSeries(name: "criterion number \(i) with a long name", x: Fixtures.ks,
                                y: Fixtures.ks.map { i == 4 && $0 == 10 ? .nan : 92 - 2.2 * $0 - Double(i) * 3 })
                },
                yRange: 0...100
            )),
        ]
        for (name, chart) in samples {
            try chart.pngData().write(to: directory.appendingPathComponent("\(name).png"))
            try chart.svg().write(to: directory.appendingPathComponent("\(name).svg"), atomically: true, encoding: .utf8)
            try chart.terminalText().write(to: directory.appendingPathComponent("\(name).txt"), atomically: true, encoding: .utf8)
        }
    }
}
