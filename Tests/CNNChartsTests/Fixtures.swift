import CNNCharts
import Foundation

/// Charts shaped like the ones the CLI draws.
enum Fixtures {
    static let ks: [Double] = Array(stride(from: 0.0, through: 30.0, by: 2.0))

    /// Accuracy vs K for three criteria; "seed-compatible" collapses to chance at K = 12.
    static var accuracyVersusK: LineChart {
        let meanActivation = ks.map { 69 - 51 * pow($0 / 30, 1.6) }
        let l1 = ks.map { 68.6 - 49 * pow($0 / 30, 1.2) - ($0 == 0 ? 0 : 1.5) }
        let seedCompatible = ks.map { k -> Double in
            k < 12 ? 69 - 1.6 * k - 0.08 * k * k : 10
        }
        return LineChart(
            title: "Test accuracy after pruning conv2",
            xLabel: "K (channels pruned)",
            yLabel: "Test accuracy (%)",
            series: [
                ChartSeries(name: "mean-activation", x: ks, y: meanActivation),
                ChartSeries(name: "l1", x: ks, y: l1),
                ChartSeries(name: "seed-compatible (exercise loop)", x: ks, y: seedCompatible),
            ],
            yRange: 0...100
        )
    }

    /// Accuracy vs fraction pruned, one line per layer, with data-fitted y axis.
    static var sensitivity: LineChart {
        let fractions: [Double] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
        return LineChart(
            title: "Layer sensitivity",
            xLabel: "Fraction pruned (%)",
            yLabel: "Test accuracy (%)",
            series: [
                ChartSeries(name: "conv1", x: fractions, y: fractions.map { 69 - 0.5 * $0 }),
                ChartSeries(name: "conv2", x: fractions, y: fractions.map { 69 - 0.2 * $0 }),
                ChartSeries(name: "fc1", x: fractions, y: fractions.map { 69 - 0.05 * $0 }),
            ]
        )
    }
}
