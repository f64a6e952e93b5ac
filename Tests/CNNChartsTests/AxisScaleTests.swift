import Testing
@testable import CNNCharts

@Suite("AxisScale")
struct AxisScaleTests {
    @Test("0–100 fixed gets ticks every 20")
    func percentRange() {
        let axis = AxisScale(fixed: 0...100, targetTickCount: 6)
        #expect(axis.ticks == [0, 20, 40, 60, 80, 100])
        #expect(axis.lowerBound == 0 && axis.upperBound == 100)
        #expect(axis.ticks.map { axis.label(for: $0) } == ["0", "20", "40", "60", "80", "100"])
    }

    @Test("0–100 with more ticks wanted gets ticks every 10")
    func percentRangeDense() {
        let axis = AxisScale(fixed: 0...100, targetTickCount: 11)
        #expect(axis.ticks == stride(from: 0.0, through: 100.0, by: 10.0).map { $0 })
    }

    @Test("0–30 gets ticks every 5")
    func channelRange() {
        let axis = AxisScale(covering: [0, 2, 30], targetTickCount: 6)
        #expect(axis.tickStep == 5)
        #expect(axis.ticks == [0, 5, 10, 15, 20, 25, 30])
    }

    @Test("18–69 is widened outwards to 10–70")
    func looseBounds() {
        let axis = AxisScale(covering: [18.2, 69.1, 40], targetTickCount: 6)
        #expect(axis.tickStep == 10)
        #expect(axis.lowerBound == 10 && axis.upperBound == 70)
        #expect(axis.ticks.first == 10 && axis.ticks.last == 70)
    }

    @Test("nice steps are 1, 2 or 5 × 10^k", arguments: [
        (1.0, 6, 0.2), (100.0, 6, 20.0), (30.0, 6, 5.0), (7.0, 8, 1.0), (0.003, 4, 0.001), (45_000.0, 5, 10_000.0),
    ])
    func niceSteps(span: Double, target: Int, expected: Double) {
        #expect(abs(AxisScale.niceStep(span: span, targetTickCount: target) - expected) < expected * 1e-12)
    }

    @Test("labels carry the decimals the step needs, without floating-point noise")
    func decimalLabels() {
        let axis = AxisScale(covering: [0, 0.3], targetTickCount: 4)
        #expect(axis.tickStep == 0.1)
        #expect(axis.ticks.map { axis.label(for: $0) } == ["0.0", "0.1", "0.2", "0.3"])
        let negative = AxisScale(covering: [-1, 1], targetTickCount: 5)
        #expect(negative.ticks.map { negative.label(for: $0) } == ["-1.0", "-0.5", "0.0", "0.5", "1.0"])
    }

    @Test("a single value gets an axis around it")
    func singleValue() {
        let axis = AxisScale(covering: [50, 50, 50])
        #expect(axis.lowerBound < 50 && axis.upperBound > 50)
        #expect(axis.ticks.contains(50))
        let zero = AxisScale(covering: [0])
        #expect(zero.lowerBound < 0 && zero.upperBound > 0 && zero.ticks.contains(0))
        let fixed = AxisScale(fixed: 5...5)
        #expect(fixed.lowerBound < 5 && fixed.upperBound > 5)
    }

    @Test("NaN and infinity are ignored; no data gives 0...1")
    func nonFinite() {
        let axis = AxisScale(covering: [.nan, 0, 30, .infinity, -.infinity])
        #expect(axis.lowerBound == 0 && axis.upperBound == 30)
        let empty = AxisScale(covering: [.nan])
        #expect(empty.lowerBound == 0 && empty.upperBound == 1)
    }

    @Test("a minimum step keeps integer axes integral")
    func minimumStep() {
        let axis = AxisScale(covering: [0, 1, 2], targetTickCount: 10, minimumTickStep: 1)
        #expect(axis.ticks == [0, 1, 2])
    }
}
