import CNNEngine
import Testing

/// Layers against naïve loops written straight from the definitions.
@Suite struct ReferenceTests {
    /// out[n, o, y, x] = b[o] + Σ_c,ky,kx w[o, c, ky, kx] · in[n, c, y·s − p + ky, x·s − p + kx].
    func naiveConvolution(input: Tensor, weight: Tensor, bias: Tensor, stride: Int, padding: Int) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (o, k) = (weight.shape[0], weight.shape[2])
        let oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1
        var out = Tensor(shape: [n, o, oh, ow])
        for b in 0..<n { for f in 0..<o { for y in 0..<oh { for x in 0..<ow {
            var sum = Double(bias[f])
            for ch in 0..<c { for ky in 0..<k { for kx in 0..<k {
                let iy = y * stride - padding + ky, ix = x * stride - padding + kx
                if iy >= 0 && iy < h && ix >= 0 && ix < w { sum += Double(weight[f, ch, ky, kx]) * Double(input[b, ch, iy, ix]) }
            } } }
            out[b, f, y, x] = Float(sum)
        } } } }
        return out
    }

    @Test(arguments: [(1, 1, 3), (1, 0, 3), (2, 1, 3), (2, 0, 2), (3, 2, 5), (2, 3, 3), (3, 0, 2), (4, 1, 3)])
    func convolutionMatchesNaiveLoops(stride: Int, padding: Int, kernel: Int) throws {
        let architecture = try Sequential(inputShape: [3, 9, 8]) {
            Conv2D(name: "conv", inputChannels: 3, outputChannels: 5, kernelSize: kernel, stride: stride, padding: padding)
        }
        var generator = SeededGenerator(seed: 21)
        let network = Network(architecture: architecture, generator: &generator)
        let input = TestSupport.random([2, 3, 9, 8], seed: 22)
        let expected = naiveConvolution(input: input, weight: try network.tensor(named: "conv.weight"),
                                        bias: try network.tensor(named: "conv.bias"), stride: stride, padding: padding)
        let output = network(input)
        #expect(output.shape == expected.shape)
        #expect(TestSupport.maxRelativeError(output.scalars, expected.scalars) < 1e-5)
    }

    /// Small planes are batched: several images' patches side by side in one product (see
    /// `Conv2D.imagesPerProduct`; 8×8 "same" planes stack the images in one shifted matrix,
    /// `Conv2D.usesShiftedRows`, the others use im2col). Batches of 1, of a whole chunk, and with a partial last chunk
    /// must all equal the naïve loops, with and without bias, padded and strided.
    /// Thin patches (`Conv2D.hasThinPatches`: an RGB input layer) are batched on large planes too.
    @Test(arguments: [(3, 4, 1, 1, true), (3, 4, 2, 1, false), (6, 8, 1, 1, false), (6, 8, 1, 1, true), (3, 5, 1, 0, true),
                      (3, 16, 1, 1, true), (1, 28, 1, 1, false)])
    func chunkedConvolutionMatchesNaiveLoops(channels: Int, size: Int, stride: Int, padding: Int, bias: Bool) throws {
        let layer = Conv2D(name: "conv", inputChannels: channels, outputChannels: 4, kernelSize: 3, stride: stride, padding: padding, bias: bias)
        let architecture = try Sequential(inputShape: [channels, size, size]) { layer }
        let bound = architecture.layers[0] as! Conv2D
        #expect(bound.imagesPerProduct > 1, "the shape must exercise the batched path")
        #expect(bound.usesShiftedRows == (size == 8), "8×8 planes of 6 channels stack images in the shifted matrix, the others unfold patches")
        var generator = SeededGenerator(seed: 31)
        let network = Network(architecture: architecture, generator: &generator)
        let weight = try network.tensor(named: "conv.weight")
        let biasValues = bias ? try network.tensor(named: "conv.bias") : Tensor(shape: [4])
        for batch in [1, bound.imagesPerProduct, bound.imagesPerProduct + 3] {
            let input = TestSupport.random([batch, channels, size, size], seed: UInt64(32 + batch))
            let expected = naiveConvolution(input: input, weight: weight, bias: biasValues, stride: stride, padding: padding)
            let output = network(input)
            #expect(output.shape == expected.shape)
            #expect(TestSupport.maxRelativeError(output.scalars, expected.scalars) < 1e-5, "batch \(batch)")
        }
    }

    /// Large "same" planes take the shifted-row path (`Conv2D.usesShiftedRows`); it must equal
    /// the naïve loops for odd kernels of 3 and 5, with and without bias, narrow and wide images.
    @Test(arguments: [(3, 16, 16, true), (3, 16, 21, false), (5, 17, 16, true), (3, 32, 9, true)])
    func shiftedRowConvolutionMatchesNaiveLoops(kernel: Int, height: Int, width: Int, bias: Bool) throws {
        let layer = Conv2D(name: "conv", inputChannels: 6, outputChannels: 4, kernelSize: kernel, stride: 1, padding: kernel / 2, bias: bias)
        let architecture = try Sequential(inputShape: [6, height, width]) { layer }
        #expect((architecture.layers[0] as! Conv2D).usesShiftedRows, "the shape must exercise the shifted-row path")
        var generator = SeededGenerator(seed: 41)
        let network = Network(architecture: architecture, generator: &generator)
        let weight = try network.tensor(named: "conv.weight")
        let biasValues = bias ? try network.tensor(named: "conv.bias") : Tensor(shape: [4])
        let input = TestSupport.random([3, 6, height, width], seed: 42)
        let expected = naiveConvolution(input: input, weight: weight, bias: biasValues, stride: 1, padding: kernel / 2)
        let output = network(input)
        #expect(output.shape == expected.shape)
        #expect(TestSupport.maxRelativeError(output.scalars, expected.scalars) < 1e-5)
    }

    /// The forward pass of 3×3 stride-1 padding-1 convolutions with 8 or more input channels
    /// runs Winograd F(2×2, 3×3) (`Conv2D.usesWinograd`); it must equal the naïve loops (to float
    /// round-off of its transforms) on even and odd planes (tiles that overhang the output),
    /// rows of tiles not a multiple of four, output channels not a multiple of eight, with
    /// and without bias, for
    /// a batch of one image, of one chunk and of a chunk and a part, in inference and in
    /// training passes, and in the backward pass's input gradient; and `CNNPRUNE_WINOGRAD`
    /// must not have turned it off.
    @Test(arguments: [(8, 8, 8, 8, true), (9, 13, 11, 7, false), (16, 32, 16, 16, true), (64, 64, 8, 8, true),
                      (12, 5, 9, 8, true), (10, 24, 8, 9, false), (8, 3, 33, 31, true)])
    func winogradConvolutionMatchesNaiveLoops(channels: Int, outputs: Int, height: Int, width: Int, bias: Bool) throws {
        let layer = Conv2D(name: "conv", inputChannels: channels, outputChannels: outputs, kernelSize: 3, stride: 1, padding: 1, bias: bias)
        let architecture = try Sequential(inputShape: [channels, height, width]) { layer }
        let bound = architecture.layers[0] as! Conv2D
        #expect(bound.usesWinograd && Conv2D.winogradInputGradients, "the shape must exercise the Winograd path")
        // Smaller planes and RGB inputs keep the direct convolution.
        let small = try Sequential(inputShape: [channels, 4, 4]) { Conv2D(name: "c", inputChannels: channels, outputChannels: outputs, kernelSize: 3, padding: 1) }
        let rgb = try Sequential(inputShape: [3, height, width]) { Conv2D(name: "c", inputChannels: 3, outputChannels: outputs, kernelSize: 3, padding: 1) }
        #expect(!(small.layers[0] as! Conv2D).usesWinograd && !(rgb.layers[0] as! Conv2D).usesWinograd)
        var generator = SeededGenerator(seed: 51)
        let network = Network(architecture: architecture, generator: &generator)
        let weight = try network.tensor(named: "conv.weight")
        let biasValues = bias ? try network.tensor(named: "conv.bias") : Tensor(shape: [outputs])
        for batch in Set([1, bound.winogradImagesPerChunk, bound.winogradImagesPerChunk + 3]).sorted() {
            let input = TestSupport.random([batch, channels, height, width], seed: UInt64(52 + batch))
            let expected = naiveConvolution(input: input, weight: weight, bias: biasValues, stride: 1, padding: 1)
            let output = network(input)
            #expect(output.shape == expected.shape)
            #expect(TestSupport.maxRelativeError(output.scalars, expected.scalars) < 1e-5, "batch \(batch)")
            // A training pass (Winograd too) on the same input.
            let workspace = Workspace(architecture: architecture, batchCapacity: batch, training: true)
            input.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: input.count) }
            network.forward(workspace, batch: batch, context: .training(batch: batch))
            let trained = Array(UnsafeBufferPointer(start: workspace.output, count: expected.count))
            #expect(TestSupport.maxRelativeError(trained, expected.scalars) < 1e-5, "training pass, batch \(batch)")
            // The backward pass's input gradient (Winograd too, on the flipped, transposed
            // filters) against the naïve adjoint.
            let outputGradient = TestSupport.random([batch, outputs, height, width], seed: UInt64(90 + batch))
            let withInput = Network(architecture: try Sequential(inputShape: [channels, height, width], layers: [Identity(), layer]),
                                    parameters: network.parameters)
            let gradient = TestSupport.analyticGradients(withInput, input: input, weights: outputGradient, training: true).input
            let naive = naiveInputGradient(outputGradient: outputGradient, weight: weight, inputShape: input.shape)
            #expect(TestSupport.maxRelativeError(gradient, naive.scalars) < 1e-5, "input gradient, batch \(batch)")
        }
    }

    /// `dx[n, c, i, j] = Σ dy[n, o, i + 1 − ky, j + 1 − kx] · w[o, c, ky, kx]`: the input gradient of a
    /// 3×3 stride-1 padding-1 convolution, in Double.
    func naiveInputGradient(outputGradient: Tensor, weight: Tensor, inputShape: [Int]) -> Tensor {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3]), o = weight.shape[0]
        var result = Tensor(shape: inputShape)
        for b in 0..<n { for ch in 0..<c { for i in 0..<h { for j in 0..<w {
            var sum = 0.0
            for f in 0..<o { for ky in 0..<3 { for kx in 0..<3 {
                let y = i + 1 - ky, x = j + 1 - kx
                if y >= 0 && y < h && x >= 0 && x < w { sum += Double(outputGradient[b, f, y, x]) * Double(weight[f, ch, ky, kx]) }
            } } }
            result[b, ch, i, j] = Float(sum)
        } } } }
        return result
    }

    /// 2×2 max-pooling, fused with a ReLU before it and alone, against the naïve loops, on a
    /// width with an eight-window remainder: in a workspace with gradient buffers (the winners'
    /// positions are recorded for the backward pass) and in one without (inference:
    /// `PassContext.backwardFollows` is false and no positions are kept).
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func maxPoolMatchesNaiveLoops(rectified: Bool, withGradients: Bool) throws {
        let architecture = try Sequential(inputShape: [2, 6, 22], layers: rectified ? [ReLU(), MaxPool2D(kernelSize: 2)] : [MaxPool2D(kernelSize: 2)])
        let network = Network(architecture: architecture, parameters: [])
        let input = TestSupport.random([3, 2, 6, 22], seed: 24)
        let workspace = Workspace(architecture: architecture, batchCapacity: 3, training: withGradients)
        input.scalars.withUnsafeBufferPointer { workspace.activation(0).update(from: $0.baseAddress!, count: input.count) }
        network.forward(workspace, batch: 3)
        #expect(architecture.outputShape == [2, 3, 11])
        for n in 0..<3 { for c in 0..<2 { for y in 0..<3 { for x in 0..<11 {
            let window = [input[n, c, 2 * y, 2 * x], input[n, c, 2 * y, 2 * x + 1], input[n, c, 2 * y + 1, 2 * x], input[n, c, 2 * y + 1, 2 * x + 1]]
            let pooled = workspace.output[((n * 2 + c) * 3 + y) * 11 + x]
            #expect(pooled == (rectified ? max(0, window.max()!) : window.max()!))
        } } } }
    }

    @Test func linearHandComputed() throws {
        // y = x·Wᵀ + b with W = [[1, 2], [3, 4], [5, 6]], b = [0.5, −1, 2], x = [1, −1].
        let architecture = try Sequential(inputShape: [2]) { Linear(name: "fc", inputFeatures: 2, outputFeatures: 3) }
        let network = Network(architecture: architecture, parameters: [1, 2, 3, 4, 5, 6, 0.5, -1, 2])
        let output = network(Tensor(shape: [1, 2], scalars: [1, -1]))
        #expect(output.scalars == [-0.5, -2, 1])
    }

    @Test func flattenKeepsPyTorchOrder() throws {
        let architecture = try Sequential(inputShape: [2, 2, 2]) { Flatten() }
        let network = Network(architecture: architecture, parameters: [])
        let input = Tensor(shape: [1, 2, 2, 2], scalars: (0..<8).map(Float.init))
        #expect(network(input).scalars == (0..<8).map(Float.init))
    }

    @Test func simpleCNNHasPyTorchShapes() throws {
        let architecture = try SimpleCNN().architecture()
        let shapes = Dictionary(uniqueKeysWithValues: architecture.parameterEntries.map { ($0.name, $0.shape) })
        #expect(shapes == ["conv1.weight": [16, 3, 3, 3], "conv1.bias": [16], "conv2.weight": [32, 16, 3, 3], "conv2.bias": [32],
                           "fc1.weight": [256, 2048], "fc1.bias": [256], "fc2.weight": [10, 256], "fc2.bias": [10]])
        #expect(architecture.parameterCount == 532_202)
    }

    @Test func initialisationFollowsPyTorchBounds() throws {
        var generator = SeededGenerator(seed: 3)
        let network = Network(architecture: try SimpleCNN().architecture(), generator: &generator)
        for entry in network.architecture.parameterEntries {
            let bound = 1 / Float(entry.fanIn).squareRoot()
            let values = try network.tensor(named: entry.name).scalars
            #expect(values.allSatisfy { abs($0) <= bound })
            // Uniform on ±bound: the largest magnitude comes close to the bound.
            #expect(values.map(abs).max()! > 0.8 * bound)
        }
    }
}
