#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The forward pass of 3×3, stride-1, padding-1 convolutions with Winograd's minimal filtering
/// F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
///
/// Each 2×2 block of outputs ("tile") is computed from the 4×4 input patch around it as
/// `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`: 16 multiplications per input and output channel where
/// the direct convolution takes 36, so the matrix products, most of a ResNet's inference, do
/// 2.25× fewer operations. Summed over input channels, the element-wise products become 16
/// independent matrix products, one per position `p` of the 4×4 transformed tile:
/// `M[p] (O × tiles) = U[p] (O × C) · V[p] (C × tiles)`, with
/// - `U = G g Gᵀ`, the transformed weights, computed per call (`[16, O, C]`);
/// - `V = Bᵀ d B`, the transformed input patches, `[16, C, tiles]`, for a chunk of images
///   (`winogradImagesPerChunk`) so that each product has enough rows;
/// - the outputs `Aᵀ M A`, plus the bias, written straight into the NCHW output.
///
/// Every buffer is planar (tiles contiguous), so each transform is a loop along a row of tiles
/// that the compiler vectorises; the products keep the output channels as rows, which oneDNN
/// runs at 48–79 GFLOP/s on one core at 128 tiles (`benchmarks/sgemm_shapes.c`, AVX2).
///
/// Forward passes, in training as at inference, and the backward pass's input gradient (the
/// adjoint of a 3×3 "same" convolution is one too, `inputGradientWinograd`); the weight
/// gradient stays the direct convolution's (shifted rows or im2col). Results differ
/// from the direct convolution by float round-off only (the transforms' few additions; tested
/// against naive loops and, in training, by `scripts/torch_interop.py`'s single-step replay
/// against float64 PyTorch). Layers with fewer than
/// `winogradMinimumInputChannels` input channels (an RGB input layer) keep the direct path,
/// whose products are wider there. `CNNPRUNE_WINOGRAD=0` turns the path off, for comparisons
/// (`forward`: forward passes only).
extension Conv2D {
    /// Whether forward passes may use Winograd's algorithm (`CNNPRUNE_WINOGRAD`, on unless `0`).
    public static let winogradEnabled: Bool = {
        guard let value = getenv("CNNPRUNE_WINOGRAD") else { return true }
        return String(cString: value) != "0"
    }()

    /// Whether the backward passes of layers that use Winograd compute their input gradient
    /// with it too (on unless `CNNPRUNE_WINOGRAD` is `0` or `forward`).
    public static let winogradInputGradients: Bool = {
        guard winogradEnabled, let value = getenv("CNNPRUNE_WINOGRAD") else { return winogradEnabled }
        return String(cString: value) != "forward"
    }()

    /// Floats between the end of one position's transformed inputs (or products) and the
    /// next: without it the 16 positions of a tile sit a multiple of 4 KB apart, in the same
    /// sets of the level-1 cache.
    static let winogradPositionPadding = 16

    /// The fewest input channels for which Winograd's products beat the direct ones.
    public static let winogradMinimumInputChannels = 8

    /// Whether forward passes of this layer use Winograd F(2×2, 3×3): 3×3 kernel, stride 1,
    /// padding 1, at least `winogradMinimumInputChannels` input channels and an output plane of
    /// 8×8 positions or more. On VGG-11-BN's 4×4 and 2×2 planes of 512 channels, the weights'
    /// transform per call and the few tiles per product made evaluation 1.5× slower.
    public var usesWinograd: Bool {
        Conv2D.winogradEnabled && kernelSize == 3 && stride == 1 && padding == 1
            && inputChannels >= Conv2D.winogradMinimumInputChannels
            && outputHeight * outputWidth >= 64
    }

    var winogradTilesY: Int { (outputHeight + 1) / 2 }
    var winogradTilesX: Int { (outputWidth + 1) / 2 }
    var winogradTilesPerImage: Int { winogradTilesY * winogradTilesX }

    /// Images transformed together: enough for 128 tiles per product (ResNet-20's evaluation
    /// was 5 % slower with 256), within a budget of 2²⁰ floats (4 MB) of transformed inputs
    /// and products.
    public var winogradImagesPerChunk: Int {
        let perImage = max(1, winogradTilesPerImage)
        let wanted = (128 + perImage - 1) / perImage
        let budget = (1 << 20) / max(1, 16 * (inputChannels + outputChannels) * perImage)
        return max(1, min(wanted, budget))
    }

    /// One row of the zero-framed input plane: the image row at indices `1 ... W`, zeros at 0
    /// and after.
    private var winogradPaddedRowLength: Int { 2 * winogradTilesX + 2 }

    /// The zero-framed input plane: a zero row above the image's rows and zero rows below, up
    /// to `2·TY + 2` rows.
    private var winogradPaddedPlaneSize: Int { (2 * winogradTilesY + 2) * winogradPaddedRowLength }

    /// The plane transformed along its rows: `[2·TY + 2, 4, TX]`.
    private var winogradRowTransformedSize: Int { (2 * winogradTilesY + 2) * 4 * winogradTilesX }

    /// Floats of working space: `U`, `V`, `M` (each position of the last two padded), the
    /// row-transformed plane and the zero-framed input plane.
    var winogradScratch: Int {
        guard usesWinograd else { return 0 }
        let tiles = winogradImagesPerChunk * winogradTilesPerImage
        return 16 * inputChannels * outputChannels + 16 * (inputChannels + outputChannels) * tiles + 32 * Conv2D.winogradPositionPadding
            + winogradRowTransformedSize + winogradPaddedPlaneSize
    }

    /// The forward pass of a batch with Winograd F(2×2, 3×3).
    func forwardWinograd(_ b: LayerBuffers) {
        let bias: UnsafePointer<Float>? = self.bias ? UnsafePointer(b.parameters + outputChannels * inputChannels * 9) : nil
        winogradPass(batch: b.batch, input: b.input, output: b.output, scratch: b.scratch, weight: b.parameters,
                     adjoint: false, bias: bias, rectifies: rectifiesOutput)
    }

    /// The input gradient of a batch with Winograd F(2×2, 3×3): for stride 1 and padding 1 it
    /// is itself a 3×3 "same" convolution of the output gradient, with the filters transposed
    /// (`[C, O]`) and flipped in both directions, `dx[c] = Σₒ dy[o] ⋆ rot180(w[o, c])`.
    func inputGradientWinograd(_ b: LayerBuffers, outputGradient: UnsafeMutablePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>) {
        winogradPass(batch: b.batch, input: outputGradient, output: inputGradient, scratch: b.scratch, weight: b.parameters,
                     adjoint: true, bias: nil, rectifies: false)
    }

    /// One Winograd convolution over a batch, `input` (`[batch, C′, H, W]`) to `output`
    /// (`[batch, O′, H, W]`): the layer's own (`C′ = C`, `O′ = O`) or, when `adjoint`, its
    /// adjoint (`C′ = O`, `O′ = C`). The adjoint's transformed filters are the layer's,
    /// transposed and with positions 0 and 3 of each axis swapped: `G J = P G`, with `J` the
    /// 3×3 reversal and `P` the swap of `G`'s first and last rows, so
    /// `G rot180(g) Gᵀ = P (G g Gᵀ) Pᵀ`.
    private func winogradPass(batch: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                              scratch: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>,
                              adjoint: Bool, bias: UnsafePointer<Float>?, rectifies: Bool) {
        let channels = adjoint ? outputChannels : inputChannels, outputs = adjoint ? inputChannels : outputChannels
        let chunk = winogradImagesPerChunk, perImage = winogradTilesPerImage, capacity = chunk * perImage
        let transformedWeights = scratch
        let transformedInputs = transformedWeights + 16 * channels * outputs
        let inputStride = channels * capacity + Conv2D.winogradPositionPadding
        let productStride = outputs * capacity + Conv2D.winogradPositionPadding
        let products = transformedInputs + 16 * inputStride
        let rowTransformed = products + 16 * productStride
        let paddedPlane = rowTransformed + winogradRowTransformedSize
        transformWeights(weight, into: transformedWeights)
        // The frame stays zero: each channel overwrites the inside only.
        paddedPlane.update(repeating: 0, count: winogradPaddedPlaneSize)
        let plane = height * width, inputCount = channels * plane, outputCount = outputs * plane
        var first = 0
        while first < batch {
            let images = min(chunk, batch - first), tiles = images * perImage
            for j in 0..<images {
                let image = input + (first + j) * inputCount
                for c in 0..<channels {
                    transformInput(image + c * plane, rowTransformed: rowTransformed, paddedPlane: paddedPlane,
                                   into: transformedInputs + c * capacity + j * perImage, positionStride: inputStride)
                }
            }
            for p in 0..<16 {
                if adjoint {
                    // U′[p] (C × O) = U[σ(p)]ᵀ, σ swapping rows 0 and 3 and columns 0 and 3.
                    let (row, column) = (p / 4, p % 4)
                    let source = Conv2D.winogradReversed(row) * 4 + Conv2D.winogradReversed(column)
                    BLAS.gemm(transposeA: true, transposeB: false, m: outputs, n: tiles, k: channels,
                              a: transformedWeights + source * channels * outputs, lda: outputs,
                              b: transformedInputs + p * inputStride, ldb: capacity,
                              beta: 0, c: products + p * productStride, ldc: capacity)
                } else {
                    BLAS.gemm(transposeA: false, transposeB: false, m: outputs, n: tiles, k: channels,
                              a: transformedWeights + p * channels * outputs, lda: channels,
                              b: transformedInputs + p * inputStride, ldb: capacity,
                              beta: 0, c: products + p * productStride, ldc: capacity)
                }
            }
            for j in 0..<images {
                transformOutput(products + j * perImage, positionStride: productStride, rowStride: capacity, channels: outputs,
                                bias: bias, rectifies: rectifies, into: output + (first + j) * outputCount)
            }
            first += images
        }
    }

    /// The index `G`'s rows take when the filter is reversed: 0 and 3 swap, 1 and 2 stay.
    @inline(__always)
    static func winogradReversed(_ index: Int) -> Int { index == 0 ? 3 : index == 3 ? 0 : index }

    private var outputPlaneSize: Int { outputHeight * outputWidth }

    /// `U[p, o, c] = (G g Gᵀ)[p]` for every filter `g = w[o, c]`, with
    /// `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`.
    private func transformWeights(_ weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let channels = inputChannels, outputs = outputChannels, positionStride = channels * outputs
        for o in 0..<outputs {
            for c in 0..<channels {
                let g = weight + (o * channels + c) * 9
                // t = G g (4×3), row by row.
                let r0 = SIMD4<Float>(g[0], g[1], g[2], 0), r1 = SIMD4<Float>(g[3], g[4], g[5], 0)
                let r2 = SIMD4<Float>(g[6], g[7], g[8], 0)
                let target = u + o * channels + c
                // U = t Gᵀ: the same combination across each row's three columns.
                @inline(__always) func store(_ values: SIMD4<Float>, row: Int) {
                    let base = target + row * 4 * positionStride
                    base[0] = values[0]
                    base[positionStride] = 0.5 * (values[0] + values[1] + values[2])
                    base[2 * positionStride] = 0.5 * (values[0] - values[1] + values[2])
                    base[3 * positionStride] = values[2]
                }
                store(r0, row: 0)
                store(0.5 * (r0 + r1 + r2), row: 1)
                store(0.5 * (r0 - r1 + r2), row: 2)
                store(r2, row: 3)
            }
        }
    }

    /// `V = Bᵀ d B` for every tile of one input plane, with
    /// `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`: first along each
    /// row of the zero-framed plane, into `rowTransformed` (`[2·TY + 2, 4, TX]`), then down the
    /// columns. Position `p` of tile `t` goes to `v[p · positionStride + t]`. Four tiles at a
    /// time. The whole plane is framed before the rows are read: reading a row just copied
    /// stalls on store forwarding (a third of this function's time when it went row by row).
    private func transformInput(_ plane: UnsafePointer<Float>, rowTransformed h: UnsafeMutablePointer<Float>,
                                paddedPlane: UnsafeMutablePointer<Float>,
                                into v: UnsafeMutablePointer<Float>, positionStride: Int) {
        typealias Lanes = SIMD4<Float>
        let tilesX = winogradTilesX, tilesY = winogradTilesY, rowSize = 4 * tilesX
        let vectorTiles = tilesX & ~3, rowLength = winogradPaddedRowLength
        for y in 0..<height {
            (paddedPlane + (y + 1) * rowLength + 1).update(from: plane + y * width, count: width)
        }
        for framed in 0..<(2 * tilesY + 2) {
            let target = h + framed * rowSize
            let row = UnsafePointer(paddedPlane + framed * rowLength)
            let h0 = target, h1 = target + tilesX, h2 = h1 + tilesX, h3 = h2 + tilesX
            var tx = 0
            while tx < vectorTiles {
                // Tiles tx ..< tx + 4 read row[2·tx ..< 2·tx + 10]: even and odd columns.
                let x = 2 &* tx
                let left = UnsafeRawPointer(row + x).loadUnaligned(as: SIMD8<Float>.self)
                let right = UnsafeRawPointer(row + (x &+ 2)).loadUnaligned(as: SIMD8<Float>.self)
                let d0 = Lanes(left[0], left[2], left[4], left[6]), d1 = Lanes(left[1], left[3], left[5], left[7])
                let d2 = Lanes(right[0], right[2], right[4], right[6]), d3 = Lanes(right[1], right[3], right[5], right[7])
                Conv2D.storeInputTransform(d0, d1, d2, d3, into: (h0, h1, h2, h3), at: tx)
                tx &+= 4
            }
            while tx < tilesX {
                let x = 2 &* tx
                Conv2D.storeInputTransform(row[x], row[x &+ 1], row[x &+ 2], row[x &+ 3], into: (h0, h1, h2, h3), at: tx)
                tx &+= 1
            }
        }
        for ty in 0..<tilesY {
            let top = h + 2 * ty * rowSize
            for column in 0..<4 {
                let d0 = UnsafePointer(top + column * tilesX), d1 = d0 + rowSize, d2 = d1 + rowSize, d3 = d2 + rowSize
                let v0 = v + column * positionStride + ty * tilesX
                let v1 = v0 + 4 * positionStride, v2 = v1 + 4 * positionStride, v3 = v2 + 4 * positionStride
                var tx = 0
                while tx < vectorTiles {
                    @inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p + tx).loadUnaligned(as: Lanes.self) }
                    Conv2D.storeInputTransform(load(d0), load(d1), load(d2), load(d3), into: (v0, v1, v2, v3), at: tx)
                    tx &+= 4
                }
                while tx < tilesX {
                    Conv2D.storeInputTransform(d0[tx], d1[tx], d2[tx], d3[tx], into: (v0, v1, v2, v3), at: tx)
                    tx &+= 1
                }
            }
        }
    }

    /// The outputs of one image from its tiles' products (`m[p · positionStride + o · rowStride + t]`):
    /// `Y = Aᵀ M A` with `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`, plus the bias (and through the
    /// fused ReLU), four tiles of a row at a time; tiles that overhang an odd-sized output write
    /// only their inside.
    private func transformOutput(_ m: UnsafePointer<Float>, positionStride: Int, rowStride: Int, channels: Int,
                                 bias: UnsafePointer<Float>?, rectifies: Bool, into output: UnsafeMutablePointer<Float>) {
        typealias Lanes = SIMD4<Float>
        let plane = outputPlaneSize, tilesX = winogradTilesX, wide = outputWidth
        // Tiles whose two columns both lie inside the output, and the first four-tile groups of them.
        let fullTiles = outputWidth / 2, vectorTiles = fullTiles & ~3
        // The fused ReLU (`rectifiesOutput`), if any; a NaN stays NaN, as in `ReLU`.
        @inline(__always) func finish(_ v: SIMD8<Float>) -> SIMD8<Float> { rectifies ? v.replacing(with: 0, where: v .< 0) : v }
        @inline(__always) func finish(_ v: Float) -> Float { rectifies && v < 0 ? 0 : v }
        for o in 0..<channels {
            let shift = bias?[o] ?? 0, shifts = Lanes(repeating: shift)
            for ty in 0..<winogradTilesY {
                let source = m + o * rowStride + ty * tilesX
                let top = output + o * plane + 2 * ty * wide
                let hasBottom = 2 * ty + 1 < outputHeight
                let bottom = hasBottom ? top + wide : top
                var tx = 0
                while tx < vectorTiles {
                    @inline(__always) func load(_ p: Int) -> Lanes {
                        UnsafeRawPointer(source + (p &* positionStride &+ tx)).loadUnaligned(as: Lanes.self)
                    }
                    // a = Aᵀ M (2×4), then Y = a A.
                    let a00 = load(0) + load(4) + load(8), a01 = load(1) + load(5) + load(9)
                    let a02 = load(2) + load(6) + load(10), a03 = load(3) + load(7) + load(11)
                    let a10 = load(4) - load(8) - load(12), a11 = load(5) - load(9) - load(13)
                    let a12 = load(6) - load(10) - load(14), a13 = load(7) - load(11) - load(15)
                    let x = 2 &* tx
                    let y00 = a00 + a01 + a02 + shifts, y01 = a01 - a02 - a03 + shifts
                    UnsafeMutableRawPointer(top + x).storeBytes(of: finish(interleave(y00, y01)), as: SIMD8<Float>.self)
                    if hasBottom {
                        let y10 = a10 + a11 + a12 + shifts, y11 = a11 - a12 - a13 + shifts
                        UnsafeMutableRawPointer(bottom + x).storeBytes(of: finish(interleave(y10, y11)), as: SIMD8<Float>.self)
                    }
                    tx &+= 4
                }
                while tx < tilesX {
                    @inline(__always) func at(_ p: Int) -> Float { source[p &* positionStride &+ tx] }
                    let a00 = at(0) + at(4) + at(8), a01 = at(1) + at(5) + at(9)
                    let a02 = at(2) + at(6) + at(10), a03 = at(3) + at(7) + at(11)
                    let x = 2 * tx
                    top[x] = finish(a00 + a01 + a02 + shift)
                    if tx < fullTiles { top[x + 1] = finish(a01 - a02 - a03 + shift) }
                    if hasBottom {
                        let a10 = at(4) - at(8) - at(12), a11 = at(5) - at(9) - at(13)
                        let a12 = at(6) - at(10) - at(14), a13 = at(7) - at(11) - at(15)
                        bottom[x] = finish(a10 + a11 + a12 + shift)
                        if tx < fullTiles { bottom[x + 1] = finish(a11 - a12 - a13 + shift) }
                    }
                    tx &+= 1
                }
            }
        }
    }

    typealias Destinations = (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)

    /// `Bᵀ d` for four lanes of tiles: `d₀ − d₂, d₁ + d₂, d₂ − d₁, d₁ − d₃`, stored at
    /// `index` of each destination row.
    @inline(__always)
    private static func storeInputTransform(_ d0: SIMD4<Float>, _ d1: SIMD4<Float>, _ d2: SIMD4<Float>, _ d3: SIMD4<Float>,
                                            into t: Destinations, at index: Int) {
        UnsafeMutableRawPointer(t.0 + index).storeBytes(of: d0 - d2, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(t.1 + index).storeBytes(of: d1 + d2, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(t.2 + index).storeBytes(of: d2 - d1, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(t.3 + index).storeBytes(of: d1 - d3, as: SIMD4<Float>.self)
    }

    /// `Bᵀ d` for one tile.
    @inline(__always)
    private static func storeInputTransform(_ d0: Float, _ d1: Float, _ d2: Float, _ d3: Float, into t: Destinations, at index: Int) {
        t.0[index] = d0 - d2
        t.1[index] = d1 + d2
        t.2[index] = d2 - d1
        t.3[index] = d1 - d3
    }

    /// `[a₀, b₀, a₁, b₁, a₂, b₂, a₃, b₃]`: the two output columns of four tiles, in row order.
    @inline(__always)
    private func interleave(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD8<Float> {
        SIMD8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
    }
}
