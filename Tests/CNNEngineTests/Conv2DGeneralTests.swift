import CNNEngine
import Foundation
import Testing

/// The general path of `Conv2D` (groups, depthwise, dilation, rectangular kernels, strides and
/// paddings per axis and side) against naïve loops written from PyTorch's definition, and its
/// backward pass against finite differences; the JSON and ONNX-facing descriptions.
@Suite struct Conv2DGeneralTests {
    /// One convolution to check: its geometry and groups, channels and input plane.
    struct Case: CustomStringConvertible, Sendable {
        var geometry: ConvolutionGeometry
        var groups: Int
        var input: Int, output: Int
        var height: Int, width: Int
        var bias = true
        var description: String { "\(input)→\(output), groups \(groups), \(geometry), on \(height)×\(width)" }
    }

    static let cases: [Case] = [
        // Depthwise 3×3, stride 1 and 2 (MobileNet's).
        Case(geometry: .init(kernel: 3, stride: 1, padding: 1), groups: 6, input: 6, output: 6, height: 7, width: 6),
        Case(geometry: .init(kernel: 3, stride: 2, padding: 1), groups: 4, input: 4, output: 4, height: 9, width: 8, bias: false),
        // A channel multiplier of 2, 5×5 with dilation 2.
        Case(geometry: .init(kernelHeight: 5, kernelWidth: 5, padTop: 4, padLeft: 4, padBottom: 4, padRight: 4, dilationY: 2, dilationX: 2),
             groups: 3, input: 3, output: 6, height: 8, width: 7),
        // Grouped (ResNeXt's), 3×3 with 2 groups of 4 inputs and 3 outputs.
        Case(geometry: .init(kernel: 3, stride: 1, padding: 1), groups: 2, input: 8, output: 6, height: 6, width: 5),
        // Dense, rectangular kernels (GoogLeNet's 1×7 and 7×1), strides per axis.
        Case(geometry: .init(kernelHeight: 1, kernelWidth: 5, strideY: 1, strideX: 2, padLeft: 2, padRight: 2), groups: 1, input: 3, output: 4, height: 5, width: 9),
        Case(geometry: .init(kernelHeight: 5, kernelWidth: 1, strideY: 2, strideX: 1, padTop: 2, padBottom: 2), groups: 1, input: 3, output: 2, height: 9, width: 4, bias: false),
        // Uneven padding (ONNX's SAME_UPPER with stride 2) and dilation along one axis.
        Case(geometry: .init(kernelHeight: 3, kernelWidth: 3, strideY: 2, strideX: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1), groups: 1, input: 2, output: 3, height: 8, width: 8),
        Case(geometry: .init(kernelHeight: 3, kernelWidth: 2, strideY: 1, strideX: 3, padTop: 1, padLeft: 2, padBottom: 0, padRight: 1, dilationY: 3, dilationX: 1),
             groups: 2, input: 4, output: 4, height: 10, width: 11),
    ]

    /// `out[n, o, y, x] = b[o] + Σ_{c, ky, kx} w[o, c, ky, kx] · in[n, g·C/G + c, y·sy − top + ky·dy, x·sx − left + kx·dx]`
    /// with `g = o / (O/G)`: `torch.nn.functional.conv2d` after padding the input with zeros.
    static func naive(_ input: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvolutionGeometry, groups: Int) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let o = weight.shape[0], perIn = c / groups, perOut = o / groups
        let oh = (h + g.padTop + g.padBottom - g.dilationY * (g.kernelHeight - 1) - 1) / g.strideY + 1
        let ow = (w + g.padLeft + g.padRight - g.dilationX * (g.kernelWidth - 1) - 1) / g.strideX + 1
        var out = Tensor(shape: [n, o, oh, ow])
        for b in 0..<n { for f in 0..<o { for y in 0..<oh { for x in 0..<ow {
            var sum = Double(bias?[f] ?? 0)
            for ch in 0..<perIn { for ky in 0..<g.kernelHeight { for kx in 0..<g.kernelWidth {
                let iy = y * g.strideY - g.padTop + ky * g.dilationY, ix = x * g.strideX - g.padLeft + kx * g.dilationX
                if iy >= 0 && iy < h && ix >= 0 && ix < w {
                    sum += Double(weight[f, ch, ky, kx]) * Double(input[b, (f / perOut) * perIn + ch, iy, ix])
                }
            } } }
            out[b, f, y, x] = Float(sum)
        } } } }
        return out
    }

    func layer(_ c: Case) -> Conv2D {
        Conv2D(name: "conv", inputChannels: c.input, outputChannels: c.output, geometry: c.geometry, groups: c.groups, bias: c.bias)
    }

    @Test(arguments: cases)
    func forwardMatchesNaiveLoops(_ c: Case) throws {
        let architecture = try Sequential(inputShape: [c.input, c.height, c.width]) { layer(c) }
        let bound = try #require(architecture.layers[0] as? Conv2D)
        #expect(!bound.isPlain && !bound.usesWinograd && !bound.usesShiftedRows && !bound.usesDirectKernel)
        #expect(architecture.parameterEntries[0].shape == [c.output, c.input / c.groups, c.geometry.kernelHeight, c.geometry.kernelWidth])
        var generator = SeededGenerator(seed: 41)
        let network = Network(architecture: architecture, generator: &generator)
        let bias = c.bias ? try network.tensor(named: "conv.bias") : nil
        for batch in [1, 3] {
            let input = TestSupport.random([batch, c.input, c.height, c.width], seed: UInt64(42 + batch))
            let expected = Self.naive(input, weight: try network.tensor(named: "conv.weight"), bias: bias, c.geometry, groups: c.groups)
            let output = network(input)
            #expect(output.shape == expected.shape)
            #expect(TestSupport.maxRelativeError(output.scalars, expected.scalars) < 1e-5, "batch \(batch)")
        }
    }

    /// The backward pass against central differences of the forward pass: input, weight and
    /// bias gradients, summed over a batch of 2.
    @Test(arguments: cases)
    func gradientsMatchFiniteDifferences(_ c: Case) throws {
        let architecture = try Sequential(inputShape: [c.input, c.height, c.width], layers: [Identity(), layer(c)])
        var generator = SeededGenerator(seed: 51)
        let network = Network(architecture: architecture, generator: &generator)
        let input = TestSupport.random([2, c.input, c.height, c.width], seed: 52)
        let weights = TestSupport.random([2] + architecture.outputShape, seed: 53)
        let analytic = TestSupport.analyticGradients(network, input: input, weights: weights)
        let numericInput = TestSupport.numericInputGradients(network, input: input, weights: weights)
        let numericParameters = TestSupport.numericParameterGradients(network, input: input, weights: weights)
        #expect(TestSupport.scaledError(analytic.input, numericInput) < 1e-2, "input gradient")
        #expect(TestSupport.scaledError(analytic.parameters, numericParameters) < 1e-2, "parameter gradient")
        #expect(TestSupport.maxRelativeError(analytic.parameters, numericParameters) < 2e-2, "parameter gradient")
    }

    /// A grouped convolution is its groups' dense convolutions side by side: built from the
    /// same weights, two dense halves give the grouped layer's output (an independent check of
    /// the group indexing that does not share the naïve loops' formula).
    @Test func groupsAreDenseConvolutionsSideBySide() throws {
        let grouped = try Sequential(inputShape: [4, 6, 6]) {
            Conv2D(name: "conv", inputChannels: 4, outputChannels: 6, geometry: .init(kernel: 3, padding: 1), groups: 2)
        }
        var generator = SeededGenerator(seed: 61)
        let network = Network(architecture: grouped, generator: &generator)
        let input = TestSupport.random([2, 4, 6, 6], seed: 62)
        let output = network(input)
        let weight = try network.tensor(named: "conv.weight"), bias = try network.tensor(named: "conv.bias")
        for group in 0..<2 {
            let dense = try Sequential(inputShape: [2, 6, 6]) { Conv2D(name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1) }
            var values = Array(weight.scalars[(group * 3 * 18)..<((group + 1) * 3 * 18)])
            values += Array(bias.scalars[(group * 3)..<((group + 1) * 3)])
            let half = Network(architecture: dense, parameters: values)
            var slice = Tensor(shape: [2, 2, 6, 6])
            for n in 0..<2 { for c in 0..<2 { for i in 0..<36 { slice.scalars[(n * 2 + c) * 36 + i] = input.scalars[(n * 4 + group * 2 + c) * 36 + i] } } }
            let expected = half(slice)
            for n in 0..<2 { for o in 0..<3 { for i in 0..<36 {
                #expect(abs(output.scalars[(n * 6 + group * 3 + o) * 36 + i] - expected.scalars[(n * 3 + o) * 36 + i]) < 1e-5)
            } } }
        }
    }

    /// Architecture files: the new keys round-trip, and a uniform dense convolution is written
    /// exactly as before (earlier files and checkpoints keep their bytes).
    @Test func layerSpecJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let classic = LayerSpec.convolution(name: "conv1", outputChannels: 16, kernelSize: 3, stride: 1, padding: 1, bias: true)
        #expect(String(decoding: try encoder.encode(classic), as: UTF8.self)
                == #"{"bias":true,"kernel":3,"name":"conv1","out":16,"padding":1,"stride":1,"type":"conv"}"#)
        for c in Self.cases {
            let spec = LayerSpec.convolution(name: "c", outputChannels: c.output, geometry: c.geometry, groups: c.groups, bias: c.bias)
            #expect(try JSONDecoder().decode(LayerSpec.self, from: encoder.encode(spec)) == spec, "\(c)")
        }
        let written = #"{"type": "conv", "name": "dw", "out": 8, "kernel": [3, 1], "stride": [2, 1], "padding": [1, 0], "dilation": [2, 1], "groups": 8}"#
        let decoded = try JSONDecoder().decode(LayerSpec.self, from: Data(written.utf8))
        let expected = ConvolutionGeometry(kernelHeight: 3, kernelWidth: 1, strideY: 2, strideX: 1, padTop: 1, padLeft: 0, padBottom: 1, padRight: 0, dilationY: 2, dilationX: 1)
        #expect(decoded == .convolution(name: "dw", outputChannels: 8, geometry: expected, groups: 8, bias: true))
        let four = #"{"type": "conv", "name": "c", "out": 2, "kernel": 3, "padding": [0, 0, 1, 1]}"#
        guard case .convolution(_, _, let geometry, 1, true) = try JSONDecoder().decode(LayerSpec.self, from: Data(four.utf8)) else {
            Issue.record("not a convolution")
            return
        }
        let pads: [Int] = [geometry.padTop, geometry.padLeft, geometry.padBottom, geometry.padRight]
        #expect(pads == [0, 0, 1, 1])
    }

    /// Malformed geometry or groups is refused with a message naming the layer and the problem.
    @Test func invalidConvolutionsAreRefused() throws {
        let head = #"{"input": [4, 8, 8], "layers": ["#
        func message(_ layer: String) -> String {
            do {
                _ = try ModelGraph.decode(Data((head + layer + "]}").utf8)).sequential()
                return ""
            } catch { return "\(error)" }
        }
        #expect(message(#"{"type": "conv", "name": "c", "out": 6, "kernel": 3, "groups": 3}"#).contains("3 groups must divide the 4 input"))
        #expect(message(#"{"type": "conv", "name": "c", "out": 6, "kernel": 3, "groups": 0}"#).contains("groups must divide"))
        #expect(message(#"{"type": "conv", "name": "c", "out": 4, "kernel": [3, 3, 3]}"#).contains("'kernel' must be a number or a list of 2 numbers"))
        #expect(message(#"{"type": "conv", "name": "c", "out": 4, "kernel": 3, "padding": [1, 1, 1]}"#).contains("list of 2 or 4 numbers"))
        #expect(message(#"{"type": "conv", "name": "c", "out": 4, "kernel": 3, "dilation": [0, 1]}"#).contains("dilation must be 1…64"))
        #expect(message(#"{"type": "conv", "name": "c", "out": 4, "kernel": 3, "dilation": 4}"#).contains("does not fit"))
    }
}
