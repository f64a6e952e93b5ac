import CNNKernels
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import CNNEngine

/// CNNKernels' Winograd transforms, both builds (portable and AVX2, where the processor has
/// it), against their definitions computed as 4×4 matrix products in Double: `V = Bᵀ d B` of
/// each zero-framed patch, `Y = Aᵀ M A` plus bias (and ReLU), `U = G g Gᵀ`. The plane sizes
/// give rows of 8, 4 and single tiles and odd edges that overhang.
@Suite struct WinogradKernelTests {
    static let bT: [[Double]] = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    static let aT: [[Double]] = [[1, 1, 1, 0], [0, 1, -1, -1]]
    static let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]

    /// `x · y` for small dense matrices.
    static func product(_ x: [[Double]], _ y: [[Double]]) -> [[Double]] {
        x.map { row in (0..<y[0].count).map { j in zip(row, y).reduce(0) { $0 + $1.0 * $1.1[j] } } }
    }

    static func transposed(_ x: [[Double]]) -> [[Double]] { (0..<x[0].count).map { j in x.map { $0[j] } } }

    /// The larger of `worst` and `|got − expected|`; a NaN (a value never written) is infinite.
    static func worse(_ worst: Double, _ got: Float, _ expected: Double) -> Double {
        got.isNaN ? .infinity : max(worst, abs(Double(got) - expected))
    }

    /// Both builds where the processor has AVX2, else the portable one twice.
    static let builds: [Int32] = [0, 1]

    @Test(arguments: [(3, 7, 21), (2, 16, 16), (1, 9, 26), (2, 8, 8), (1, 5, 3)])
    func inputTransformMatchesItsDefinition(channels: Int, height: Int, width: Int) {
        let tilesY = (height + 1) / 2, tilesX = (width + 1) / 2, tiles = tilesY * tilesX
        let image = TestSupport.random([channels, height, width], seed: UInt64(height * 100 + width)).scalars
        let channelStride = tiles + 3, positionStride = channels * channelStride + 5
        var padded = [Float](repeating: 0, count: (2 * tilesY + 2) * (2 * tilesX + 2))
        for avx2 in Self.builds {
            var v = [Float](repeating: .nan, count: 16 * positionStride)
            padded.withUnsafeMutableBufferPointer { framed in
                cnnk_winograd_input(image, channels, height, width, framed.baseAddress, &v, channelStride, positionStride, avx2)
            }
            var worst = 0.0
            for c in 0..<channels { for ty in 0..<tilesY { for tx in 0..<tilesX {
                let d: [[Double]] = (0..<4).map { i in (0..<4).map { j in
                    let y = 2 * ty - 1 + i, x = 2 * tx - 1 + j
                    return y >= 0 && y < height && x >= 0 && x < width ? Double(image[(c * height + y) * width + x]) : 0
                } }
                let expected = Self.product(Self.product(Self.bT, d), Self.transposed(Self.bT))
                for p in 0..<16 {
                    worst = Self.worse(worst, v[p * positionStride + c * channelStride + ty * tilesX + tx], expected[p / 4][p % 4])
                }
            } } }
            #expect(worst < 1e-5, "avx2 \(avx2): \(worst)")
        }
    }

    @Test(arguments: [(3, 7, 21, true, true), (2, 16, 16, false, false), (1, 9, 26, true, false), (2, 8, 8, false, true), (1, 5, 3, true, true)])
    func outputTransformMatchesItsDefinition(channels: Int, height: Int, width: Int, bias: Bool, rectifies: Bool) {
        let tilesY = (height + 1) / 2, tilesX = (width + 1) / 2, tiles = tilesY * tilesX
        let rowStride = tiles + 2, positionStride = channels * rowStride + 7
        let m = TestSupport.random([16 * positionStride], seed: UInt64(7 * height + width)).scalars
        let shifts = TestSupport.random([channels], seed: 3).scalars
        for avx2 in Self.builds {
            var output = [Float](repeating: .nan, count: channels * height * width)
            shifts.withUnsafeBufferPointer { shift in
                cnnk_winograd_output(m, positionStride, rowStride, channels, height, width, bias ? shift.baseAddress : nil,
                                     rectifies ? 1 : 0, 0, &output, avx2)
            }
            var worst = 0.0
            for o in 0..<channels { for ty in 0..<tilesY { for tx in 0..<tilesX {
                let tile: [[Double]] = (0..<4).map { i in (0..<4).map { j in
                    Double(m[(i * 4 + j) * positionStride + o * rowStride + ty * tilesX + tx])
                } }
                let y = Self.product(Self.product(Self.aT, tile), Self.transposed(Self.aT))
                for i in 0..<2 { for j in 0..<2 where 2 * ty + i < height && 2 * tx + j < width {
                    var expected = y[i][j] + (bias ? Double(shifts[o]) : 0)
                    if rectifies { expected = max(0, expected) }
                    worst = Self.worse(worst, output[(o * height + 2 * ty + i) * width + 2 * tx + j], expected)
                } }
            } } }
            #expect(worst < 1e-5, "avx2 \(avx2): \(worst)")
        }
    }

    /// With `pools`, each tile's four outputs (plus bias, through the ReLU) max-pooled into one.
    @Test(arguments: [(3, 8, 22, true, true), (2, 16, 16, false, false), (1, 4, 8, true, false), (2, 2, 2, false, true)])
    func pooledOutputTransformMatchesItsDefinition(channels: Int, height: Int, width: Int, bias: Bool, rectifies: Bool) {
        let tilesY = height / 2, tilesX = width / 2, tiles = tilesY * tilesX
        let rowStride = tiles + 1, positionStride = channels * rowStride + 3
        let m = TestSupport.random([16 * positionStride], seed: UInt64(5 * height + width)).scalars
        let shifts = TestSupport.random([channels], seed: 4).scalars
        for avx2 in Self.builds {
            var output = [Float](repeating: .nan, count: channels * tiles)
            shifts.withUnsafeBufferPointer { shift in
                cnnk_winograd_output(m, positionStride, rowStride, channels, height, width, bias ? shift.baseAddress : nil,
                                     rectifies ? 1 : 0, 1, &output, avx2)
            }
            var worst = 0.0
            for o in 0..<channels { for t in 0..<tiles {
                let tile: [[Double]] = (0..<4).map { i in (0..<4).map { j in Double(m[(i * 4 + j) * positionStride + o * rowStride + t]) } }
                let y = Self.product(Self.product(Self.aT, tile), Self.transposed(Self.aT))
                var expected = y.flatMap { $0 }.max()! + (bias ? Double(shifts[o]) : 0)
                if rectifies { expected = max(0, expected) }
                worst = Self.worse(worst, output[o * tiles + t], expected)
            } }
            #expect(worst < 1e-5, "avx2 \(avx2): \(worst)")
        }
    }

    @Test(arguments: [(3, 5), (2, 16), (4, 11)])
    func weightTransformMatchesItsDefinition(outputs: Int, channels: Int) {
        let weight = TestSupport.random([outputs, channels, 3, 3], seed: 9).scalars
        let positionStride = outputs * channels + 16
        for avx2 in Self.builds {
            var u = [Float](repeating: .nan, count: 16 * positionStride)
            cnnk_winograd_weights(weight, outputs, channels, &u, positionStride, avx2)
            var worst = 0.0
            for o in 0..<outputs { for c in 0..<channels {
                let filter: [[Double]] = (0..<3).map { i in (0..<3).map { j in Double(weight[((o * channels + c) * 3 + i) * 3 + j]) } }
                let expected = Self.product(Self.product(Self.g, filter), Self.transposed(Self.g))
                for p in 0..<16 { worst = Self.worse(worst, u[p * positionStride + o * channels + c], expected[p / 4][p % 4]) }
            } }
            #expect(worst < 1e-6, "avx2 \(avx2): \(worst)")
        }
    }

    /// The engine takes the AVX2 build exactly where the processor has it (unless
    /// `CNNPRUNE_AVX2=0` asks for the portable one).
    @Test func theEngineUsesAVX2WhereThereIsAVX2() {
        let portableAsked = getenv("CNNPRUNE_AVX2").map { String(cString: $0) == "0" } ?? false
        #expect(KernelBuild.usesAVX2 == (cnnk_has_avx2() != 0 && !portableAsked))
    }
}

/// CNNKernels' direct 3×3 convolution, both builds, against the naïve sum in Double: output
/// channels in blocks of 6 and 4 with a remainder, rows of 16 and 8 positions and single ones,
/// with and without bias and ReLU.
@Suite struct DirectConvolutionKernelTests {
    @Test(arguments: [(3, 16, 32, 32, true, false), (1, 5, 7, 13, false, true), (2, 7, 9, 24, true, true),
                      (4, 11, 5, 3, true, false), (3, 12, 6, 17, false, false)])
    func directConvolutionMatchesNaiveSums(channels: Int, outputs: Int, height: Int, width: Int, bias: Bool, rectifies: Bool) {
        let image = TestSupport.random([channels, height, width], seed: UInt64(31 * width + height)).scalars
        let weight = TestSupport.random([outputs, channels, 3, 3], seed: 5).scalars
        let shifts = TestSupport.random([outputs], seed: 6).scalars
        var padded = [Float](repeating: .nan, count: channels * (height + 2) * (width + 2))
        for avx2 in WinogradKernelTests.builds {
            var output = [Float](repeating: .nan, count: outputs * height * width)
            shifts.withUnsafeBufferPointer { shift in
                cnnk_direct3x3(image, channels, height, width, weight, bias ? shift.baseAddress : nil, outputs,
                               rectifies ? 1 : 0, 0, &padded, &output, avx2)
            }
            var worst = 0.0
            for o in 0..<outputs { for y in 0..<height { for x in 0..<width {
                var sum = bias ? Double(shifts[o]) : 0
                for c in 0..<channels { for ky in 0..<3 { for kx in 0..<3 {
                    let sy = y + ky - 1, sx = x + kx - 1
                    if sy >= 0 && sy < height && sx >= 0 && sx < width {
                        sum += Double(weight[((o * channels + c) * 3 + ky) * 3 + kx]) * Double(image[(c * height + sy) * width + sx])
                    }
                } } }
                if rectifies { sum = max(0, sum) }
                worst = WinogradKernelTests.worse(worst, output[(o * height + y) * width + x], sum)
            } } }
            #expect(worst < 1e-5, "avx2 \(avx2): \(worst)")
        }
    }

    /// With `pools`, the 2×2, stride-2 max-pool of the same sums (through the ReLU), on even
    /// planes: blocks of 8 positions and pairs of columns left over.
    @Test(arguments: [(3, 16, 32, 32, true, true), (2, 7, 10, 24, false, true), (1, 5, 6, 14, true, false), (4, 11, 4, 2, false, false)])
    func pooledDirectConvolutionMatchesNaiveSums(channels: Int, outputs: Int, height: Int, width: Int, bias: Bool, rectifies: Bool) {
        let image = TestSupport.random([channels, height, width], seed: UInt64(37 * width + height)).scalars
        let weight = TestSupport.random([outputs, channels, 3, 3], seed: 15).scalars
        let shifts = TestSupport.random([outputs], seed: 16).scalars
        var padded = [Float](repeating: .nan, count: channels * (height + 2) * (width + 2))
        func sum(_ o: Int, _ y: Int, _ x: Int) -> Double {
            var total = bias ? Double(shifts[o]) : 0
            for c in 0..<channels { for ky in 0..<3 { for kx in 0..<3 {
                let sy = y + ky - 1, sx = x + kx - 1
                if sy >= 0 && sy < height && sx >= 0 && sx < width {
                    total += Double(weight[((o * channels + c) * 3 + ky) * 3 + kx]) * Double(image[(c * height + sy) * width + sx])
                }
            } } }
            return total
        }
        for avx2 in WinogradKernelTests.builds {
            var output = [Float](repeating: .nan, count: outputs * (height / 2) * (width / 2))
            shifts.withUnsafeBufferPointer { shift in
                cnnk_direct3x3(image, channels, height, width, weight, bias ? shift.baseAddress : nil, outputs,
                               rectifies ? 1 : 0, 1, &padded, &output, avx2)
            }
            var worst = 0.0
            for o in 0..<outputs { for oy in 0..<(height / 2) { for ox in 0..<(width / 2) {
                var expected = max(sum(o, 2 * oy, 2 * ox), sum(o, 2 * oy, 2 * ox + 1), sum(o, 2 * oy + 1, 2 * ox), sum(o, 2 * oy + 1, 2 * ox + 1))
                if rectifies { expected = max(0, expected) }
                worst = WinogradKernelTests.worse(worst, output[(o * (height / 2) + oy) * (width / 2) + ox], expected)
            } } }
            #expect(worst < 1e-5, "avx2 \(avx2): \(worst)")
        }
    }

    /// The engine runs it for 3×3 "same" input layers with thin patches, where there is AVX2.
    @Test func theEngineUsesItForThinInputLayers() throws {
        let rgb = try Sequential(inputShape: [3, 32, 32]) { Conv2D(name: "c", inputChannels: 3, outputChannels: 16, kernelSize: 3, padding: 1) }
        let wide = try Sequential(inputShape: [16, 32, 32]) { Conv2D(name: "c", inputChannels: 16, outputChannels: 16, kernelSize: 3, padding: 1) }
        let strided = try Sequential(inputShape: [3, 32, 32]) { Conv2D(name: "c", inputChannels: 3, outputChannels: 16, kernelSize: 3, stride: 2, padding: 1) }
        #expect((rgb.layers[0] as! Conv2D).usesDirectKernel == KernelBuild.usesAVX2)
        #expect(!(wide.layers[0] as! Conv2D).usesDirectKernel && !(strided.layers[0] as! Conv2D).usesDirectKernel)
    }
}

/// CNNKernels' Adam update, both builds, equal to the last bit to PyTorch's formula evaluated
/// in Float one parameter at a time (no multiply-add is fused), with no weight decay, coupled
/// decay and decoupled (AdamW's shrink), over a count with an eight-lane remainder.
@Suite struct AdamKernelTests {
    @Test(arguments: [(Float(0), Float(1)), (Float(0.01), Float(1)), (Float(0), Float(0.99999))])
    func adamUpdateMatchesTheFormulaExactly(decay: Float, shrink: Float) {
        let count = 203
        let gradients = TestSupport.random([count], seed: 11).scalars
        let start = TestSupport.random([count], seed: 12).scalars
        let firstMoment = TestSupport.random([count], seed: 13, bound: 0.1).scalars
        let secondMoment = TestSupport.random([count], seed: 14, bound: 0.01).scalars.map { $0 * $0 }
        let (beta1, beta2, epsilon, stepSize, inverseRoot): (Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 0.001 / 0.19, 1 / 0.0447)
        var expected = start, m = firstMoment, v = secondMoment
        for i in 0..<count {
            let g = decay != 0 ? gradients[i] + decay * expected[i] : gradients[i]
            expected[i] *= shrink
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            expected[i] -= stepSize * m[i] / (v[i].squareRoot() * inverseRoot + epsilon)
        }
        for avx2 in WinogradKernelTests.builds {
            var p = start, mk = firstMoment, vk = secondMoment
            cnnk_adam(&p, gradients, &mk, &vk, count, beta1, beta2, epsilon, stepSize, inverseRoot, decay, shrink, avx2)
            #expect(p == expected && mk == m && vk == v, "avx2 \(avx2)")
        }
    }
}

/// CNNKernels' 2×2 max-pooling, both builds, against the naïve loops: maxima (the first in scan
/// order on ties), winners' positions, and the backward pass writing every input cell (odd
/// edges included) from its window's gradient, with and without the fused ReLU.
@Suite struct MaxPoolKernelTests {
    @Test(arguments: [(2, 6, 22, false), (3, 7, 19, true), (1, 32, 32, true), (2, 5, 4, false)])
    func maxPoolMatchesNaiveLoops(planes: Int, height: Int, width: Int, rectified: Bool) {
        // Values on a coarse grid, so that windows hold ties.
        let input = TestSupport.random([planes, height, width], seed: UInt64(height * width)).scalars.map { ($0 * 4).rounded() / 4 }
        let outputGradient = TestSupport.random([planes, height / 2, width / 2], seed: 77).scalars
        let (outputHeight, outputWidth) = (height / 2, width / 2)
        for avx2 in WinogradKernelTests.builds {
            var pooled = [Float](repeating: .nan, count: planes * outputHeight * outputWidth)
            var argmax = [Int32](repeating: -1, count: pooled.count)
            var inputGradient = [Float](repeating: .nan, count: input.count)
            cnnk_maxpool2x2(input, planes, height, width, rectified ? 1 : 0, &pooled, &argmax, avx2)
            cnnk_maxpool2x2_backward(outputGradient, pooled, argmax, planes, height, width, rectified ? 1 : 0, &inputGradient, avx2)
            var expectedGradient = [Float](repeating: 0, count: input.count)
            var mismatches = 0
            for plane in 0..<planes { for oy in 0..<outputHeight { for ox in 0..<outputWidth {
                var best = -Float.infinity, winner = 0
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let index = (2 * oy + dy) * width + 2 * ox + dx
                    if input[plane * height * width + index] > best { best = input[plane * height * width + index]; winner = index }
                }
                let at = (plane * outputHeight + oy) * outputWidth + ox
                let value = rectified ? max(best, 0) : best
                if pooled[at] != value || argmax[at] != Int32(winner) { mismatches += 1 }
                expectedGradient[plane * height * width + winner] = rectified && value <= 0 ? 0 : outputGradient[at]
            } } }
            #expect(mismatches == 0, "avx2 \(avx2)")
            #expect(inputGradient == expectedGradient, "avx2 \(avx2)")
        }
    }
}
