import Foundation
import Testing
@testable import CNNCharts
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Collects what the SVG tests look at while parsing.
private final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [String] = []
    var currentText: String?
    var titleText = ""
    var inTitle = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append((name, attributes))
        if name == "text" { currentText = "" }
        if name == "title" { inTitle = true }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        currentText? += string
        if inTitle { titleText += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let text = currentText {
            texts.append(text)
            currentText = nil
        }
        if name == "title" { inTitle = false }
    }
}

private func parse(_ svg: String) throws -> SVGCollector {
    let collector = SVGCollector()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = collector
    let ok = parser.parse()
    if !ok {
        Issue.record("XML parse failed: \(parser.parserError.map { "\($0)" } ?? "unknown") at line \(parser.lineNumber)")
    }
    return collector
}

@Suite("LineChart SVG")
struct LineChartSVGTests {
    @Test("the SVG parses and holds title, axis labels, legend and one path per series")
    func structure() throws {
        let chart = Fixtures.accuracyVersusK
        let svg = chart.svg()
        #expect(svg.hasPrefix("<?xml"))
        let parsed = try parse(svg)
        #expect(parsed.elements.first?.name == "svg")
        #expect(parsed.elements.first?.attributes["width"] == "900")
        #expect(parsed.elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(parsed.titleText == chart.title)
        #expect(parsed.texts.contains(chart.title))
        #expect(parsed.texts.contains(chart.xLabel))
        #expect(parsed.texts.contains(chart.yLabel))
        for series in chart.series {
            #expect(parsed.texts.contains(series.name), "legend lacks \(series.name)")
        }
        let lines = parsed.elements.filter { $0.name == "path" && $0.attributes["class"] == "series-line" }
        #expect(lines.count == chart.series.count)
        #expect(Set(lines.compactMap { $0.attributes["stroke"] }).count == chart.series.count, "colours should differ")
        #expect(parsed.texts.contains("100") && parsed.texts.contains("30"), "tick labels missing")
        let markers = parsed.elements.filter { ["circle", "polygon"].contains($0.name) }
        #expect(markers.count >= chart.series.reduce(0) { $0 + $1.points.count })
    }

    @Test("names with markup characters are escaped and survive parsing")
    func escaping() throws {
        let name = #"a<b & "c" 'd' >"#
        let chart = LineChart(
            title: "T & <U>", xLabel: "x \"quoted\"", yLabel: "y",
            series: [ChartSeries(name: name, x: [0, 1], y: [1, 2])]
        )
        let parsed = try parse(chart.svg())
        #expect(parsed.texts.contains(name))
        #expect(parsed.texts.contains("T & <U>"))
        #expect(parsed.texts.contains("x \"quoted\""))
        let line = parsed.elements.first { $0.attributes["class"] == "series-line" }
        #expect(line?.attributes["data-series"] == name)
    }

    @Test("a NaN breaks the line into separate runs within the series' one path")
    func nanBreaksLine() throws {
        let chart = LineChart(
            title: "gaps", xLabel: "x", yLabel: "y",
            series: [ChartSeries(name: "s", x: [0, 1, 2, 3, 4], y: [1, 2, .nan, 4, 5])]
        )
        let parsed = try parse(chart.svg())
        let lines = parsed.elements.filter { $0.attributes["class"] == "series-line" }
        #expect(lines.count == 1)
        let d = lines.first?.attributes["d"] ?? ""
        #expect(d.filter { $0 == "M" }.count == 2)
        #expect(d.filter { $0 == "L" }.count == 2)
        #expect(!d.contains("nan") && !d.contains("inf"))
    }

    @Test("dashed series get a dash array")
    func dashed() throws {
        let chart = LineChart(
            title: "t", xLabel: "x", yLabel: "y",
            series: [ChartSeries(name: "solid", x: [0, 1], y: [0, 1]), ChartSeries(name: "dashed", x: [0, 1], y: [1, 0], lineStyle: .dashed)]
        )
        let parsed = try parse(chart.svg())
        let lines = parsed.elements.filter { $0.attributes["class"] == "series-line" }
        #expect(lines.map { $0.attributes["stroke-dasharray"] != nil } == [false, true])
    }
}
