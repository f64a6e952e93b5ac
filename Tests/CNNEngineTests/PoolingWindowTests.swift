import CNNEngine
import Foundation
import Testing

/// Max and average pooling with padding, ceil mode and `count_include_pad` against naïve loops
/// written from PyTorch's definitions (`torch.nn.MaxPool2d`, `AvgPool2d`), finite
/// differences, and their JSON.
@Suite struct PoolingWindowTests {
    /// One pooling to check.
    struct Case: CustomStringConvertible, Sendable {
        var window: PoolingWindow
        var height: Int, width: Int
        var description: String { "k \(window.kernel) s \(window.stride) p \(window.padding) ceil \(window.ceilMode) on \(height)×\(width)" }
    }

    static let cases: [Case] = [
        Case(window: .init(kernel: 3, stride: 2, padding: 1), height: 8, width: 7),                   // ResNet-18's stem
        Case(window: .init(kernel: 3, stride: 2, ceilMode: true), height: 8, width: 9),               // GoogLeNet's
        Case(window: .init(kernel: 3, stride: 1, padding: 1, ceilMode: true), height: 5, width: 6),   // GoogLeNet's branch 4
        Case(window: .init(kernel: 2, stride: 2, ceilMode: true), height: 7, width: 5),               // overhanging windows
        Case(window: .init(kernel: 2, stride: 2, padding: 1), height: 6, width: 6),
        Case(window: .init(kernel: 5, stride: 3, padding: 2, ceilMode: true), height: 10, width: 11),
    ]

    /// PyTorch's output size: `⌊(n + 2p − k)/s⌋ + 1` (ceiling in ceil mode, less one when the last
    /// window starts in the padding), written out independently of `PoolingWindow.outputSize`.
    static func outputSize(_ n: Int, _ w: PoolingWindow) -> Int {
        let numerator = Double(n + 2 * w.padding - w.kernel) / Double(w.stride)
        var size = Int(w.ceilMode ? numerator.rounded(.up) : numerator.rounded(.down)) + 1
        if w.ceilMode && (size - 1) * w.stride >= n + w.padding { size -= 1 }
        return size
    }

    /// PyTorch's pooling on one plane: the max over the window's cells inside the input, or
    /// their sum divided by the cells inside the input, or with `countIncludePad` by those of the
    /// window clipped to the padded input (`hend = min(hstart + k, H + p)`).
    static func naive(_ x: [Float], _ h: Int, _ wd: Int, _ w: PoolingWindow, max isMax: Bool, countIncludePad: Bool) -> [Float] {
        let oh = outputSize(h, w), ow = outputSize(wd, w)
        var out = [Float](repeating: 0, count: oh * ow)
        for oy in 0..<oh { for ox in 0..<ow {
            let y0 = oy * w.stride - w.padding, x0 = ox * w.stride - w.padding
            let y1 = min(y0 + w.kernel, h + w.padding), x1 = min(x0 + w.kernel, wd + w.padding)
            let padded = (y1 - y0) * (x1 - x0)
            var best = -Float.infinity, sum: Double = 0, count = 0
            for y in max(y0, 0)..<min(y1, h) { for xx in max(x0, 0)..<min(x1, wd) {
                best = max(best, x[y * wd + xx]); sum += Double(x[y * wd + xx]); count += 1
            } }
            out[oy * ow + ox] = isMax ? best : Float(sum / Double(countIncludePad ? padded : count))
        } }
        return out
    }

    @Test(arguments: cases)
    func poolsMatchNaiveLoops(_ c: Case) throws {
        for (isMax, countIncludePad) in [(true, true), (false, true), (false, false)] {
            let layer: any Layer = isMax ? MaxPool2D(c.window) : AvgPool2D(c.window, countIncludePad: countIncludePad)
            let architecture = try Sequential(inputShape: [2, c.height, c.width], layers: [layer])
            #expect(architecture.outputShape == [2, Self.outputSize(c.height, c.window), Self.outputSize(c.width, c.window)])
            let network = Network(architecture: architecture, parameters: [])
            let input = TestSupport.random([3, 2, c.height, c.width], seed: 71)
            let output = network(input).scalars
            let plane = c.height * c.width, outPlane = architecture.outputShape[1] * architecture.outputShape[2]
            for p in 0..<6 {
                let expected = Self.naive(Array(input.scalars[(p * plane)..<((p + 1) * plane)]), c.height, c.width, c.window,
                                          max: isMax, countIncludePad: countIncludePad)
                let got = Array(output[(p * outPlane)..<((p + 1) * outPlane)])
                #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(isMax ? "max" : "avg") \(countIncludePad) plane \(p)")
            }
        }
    }

    /// Input gradients against central differences (inputs spread apart so that no step changes
    /// a window's maximum).
    @Test(arguments: cases)
    func gradientsMatchFiniteDifferences(_ c: Case) throws {
        for (isMax, countIncludePad) in [(true, true), (false, true), (false, false)] {
            let layer: any Layer = isMax ? MaxPool2D(c.window) : AvgPool2D(c.window, countIncludePad: countIncludePad)
            let architecture = try Sequential(inputShape: [2, c.height, c.width], layers: [Identity(), layer])
            let network = Network(architecture: architecture, parameters: [])
            var input = Tensor(shape: [2, 2, c.height, c.width])
            input.scalars = (0..<input.count).map { Float(($0 * 7919) % input.count) / Float(input.count) * 4 - 2 + 0.013 }
            let weights = TestSupport.random([2] + architecture.outputShape, seed: 81)
            let analytic = TestSupport.analyticGradients(network, input: input, weights: weights)
            let numeric = TestSupport.numericInputGradients(network, input: input, weights: weights, step: 1e-3)
            #expect(TestSupport.scaledError(analytic.input, numeric) < 1e-2, "\(isMax ? "max" : "avg") \(countIncludePad)")
        }
    }

    /// The new keys round-trip; windows without padding or ceil mode are written as before.
    @Test func layerSpecJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try encoder.encode(LayerSpec.maxPool(kernel: 2, stride: 2)), as: UTF8.self) == #"{"kernel":2,"stride":2,"type":"maxpool"}"#)
        #expect(String(decoding: try encoder.encode(LayerSpec.avgPool(kernel: 2, stride: 2)), as: UTF8.self) == #"{"kernel":2,"stride":2,"type":"avgpool"}"#)
        let specs: [LayerSpec] = [.maxPool(.init(kernel: 3, stride: 2, padding: 1, ceilMode: true)),
                                  .avgPool(.init(kernel: 3, stride: 1, padding: 1), countIncludePad: false),
                                  .avgPool(.init(kernel: 2, stride: 2, ceilMode: true), countIncludePad: true)]
        for spec in specs { #expect(try JSONDecoder().decode(LayerSpec.self, from: encoder.encode(spec)) == spec) }
        let written = #"{"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": true}"#
        #expect(try JSONDecoder().decode(LayerSpec.self, from: Data(written.utf8)) == .maxPool(.init(kernel: 3, stride: 2, padding: 1, ceilMode: true)))
        let head = #"{"input": [2, 8, 8], "layers": ["#
        func message(_ layer: String) -> String {
            do {
                _ = try ModelGraph.decode(Data((head + layer + "]}").utf8)).sequential()
                return ""
            } catch { return "\(error)" }
        }
        #expect(message(#"{"type": "maxpool", "kernel": 3, "padding": 2}"#).contains("padding must be 0…1 (half the kernel), got 2"))
        #expect(message(#"{"type": "avgpool", "kernel": 9}"#).contains("does not fit"))
    }
}
