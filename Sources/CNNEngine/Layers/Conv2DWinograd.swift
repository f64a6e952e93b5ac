import CNNKernels
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
/// - `U = G g Gᵀ`, the transformed weights, computed per call (`[16, O, C]`, each position
///   padded so that the 16 do not share level-1 cache sets);
/// - `V = Bᵀ d B`, the transformed input patches, `[16, C, tiles]`, for a chunk of images
///   (`winogradImagesPerChunk`) so that each product has enough rows;
/// - the outputs `Aᵀ M A`, plus the bias, written straight into the NCHW output.
///
/// Every buffer is planar (tiles contiguous), so each transform is a loop along a row of tiles,
/// eight tiles to a 256-bit vector: the three transforms are C (`CNNKernels`), built twice,
/// portable and with AVX2, which Swift does not emit for a baseline x86-64 build
/// (`KernelBuild`; ResNet-20's evaluation spent 30 % of its time in them in 128-bit Swift).
/// The products keep the output channels as rows, which oneDNN
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
        Conv2D.winogradEnabled && isPlain && kernelSize == 3 && stride == 1 && padding == 1
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

    /// Floats of working space: `U`, `V`, `M` (each position padded) and the zero-framed input
    /// plane.
    var winogradScratch: Int {
        guard usesWinograd else { return 0 }
        let tiles = winogradImagesPerChunk * winogradTilesPerImage
        return 16 * inputChannels * outputChannels + 16 * (inputChannels + outputChannels) * tiles + 48 * Conv2D.winogradPositionPadding
            + winogradPaddedPlaneSize
    }

    /// The forward pass of a batch with Winograd F(2×2, 3×3).
    func forwardWinograd(_ b: LayerBuffers) {
        let bias: UnsafePointer<Float>? = self.bias ? UnsafePointer(b.parameters + outputChannels * inputChannels * 9) : nil
        winogradPass(batch: b.batch, input: b.input, output: b.output, scratch: b.scratch, weight: b.parameters,
                     adjoint: false, bias: bias, rectifies: rectifiesOutput, pools: poolsOutput)
    }

    /// The input gradient of a batch with Winograd F(2×2, 3×3): for stride 1 and padding 1 it
    /// is itself a 3×3 "same" convolution of the output gradient, with the filters transposed
    /// (`[C, O]`) and flipped in both directions, `dx[c] = Σₒ dy[o] ⋆ rot180(w[o, c])`.
    func inputGradientWinograd(_ b: LayerBuffers, outputGradient: UnsafeMutablePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>) {
        winogradPass(batch: b.batch, input: outputGradient, output: inputGradient, scratch: b.scratch, weight: b.parameters,
                     adjoint: true, bias: nil, rectifies: false, pools: false)
    }

    /// One Winograd convolution over a batch, `input` (`[batch, C′, H, W]`) to `output`
    /// (`[batch, O′, H, W]`): the layer's own (`C′ = C`, `O′ = O`) or, when `adjoint`, its
    /// adjoint (`C′ = O`, `O′ = C`). The adjoint's transformed filters are the layer's,
    /// transposed and with positions 0 and 3 of each axis swapped: `G J = P G`, with `J` the
    /// 3×3 reversal and `P` the swap of `G`'s first and last rows, so
    /// `G rot180(g) Gᵀ = P (G g Gᵀ) Pᵀ`.
    private func winogradPass(batch: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                              scratch: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>,
                              adjoint: Bool, bias: UnsafePointer<Float>?, rectifies: Bool, pools: Bool) {
        let channels = adjoint ? outputChannels : inputChannels, outputs = adjoint ? inputChannels : outputChannels
        let chunk = winogradImagesPerChunk, perImage = winogradTilesPerImage, capacity = chunk * perImage
        let avx2 = KernelBuild.avx2
        let transformedWeights = scratch
        let weightStride = channels * outputs + Conv2D.winogradPositionPadding
        let transformedInputs = transformedWeights + 16 * weightStride
        let inputStride = channels * capacity + Conv2D.winogradPositionPadding
        let productStride = outputs * capacity + Conv2D.winogradPositionPadding
        let products = transformedInputs + 16 * inputStride
        let paddedPlane = products + 16 * productStride
        cnnk_winograd_weights(weight, outputChannels, inputChannels, transformedWeights, weightStride, avx2)
        // The frame stays zero: each channel overwrites the inside only.
        paddedPlane.update(repeating: 0, count: winogradPaddedPlaneSize)
        let plane = height * width, inputCount = channels * plane, outputCount = outputs * plane / (pools ? 4 : 1)
        var first = 0
        while first < batch {
            let images = min(chunk, batch - first), tiles = images * perImage
            for j in 0..<images {
                cnnk_winograd_input(input + (first + j) * inputCount, channels, height, width, paddedPlane,
                                    transformedInputs + j * perImage, capacity, inputStride, avx2)
            }
            for p in 0..<16 {
                if adjoint {
                    // U′[p] (C × O) = U[σ(p)]ᵀ, σ swapping rows 0 and 3 and columns 0 and 3.
                    let (row, column) = (p / 4, p % 4)
                    let source = Conv2D.winogradReversed(row) * 4 + Conv2D.winogradReversed(column)
                    BLAS.gemm(transposeA: true, transposeB: false, m: outputs, n: tiles, k: channels,
                              a: transformedWeights + source * weightStride, lda: outputs,
                              b: transformedInputs + p * inputStride, ldb: capacity,
                              beta: 0, c: products + p * productStride, ldc: capacity)
                } else {
                    BLAS.gemm(transposeA: false, transposeB: false, m: outputs, n: tiles, k: channels,
                              a: transformedWeights + p * weightStride, lda: channels,
                              b: transformedInputs + p * inputStride, ldb: capacity,
                              beta: 0, c: products + p * productStride, ldc: capacity)
                }
            }
            for j in 0..<images {
                cnnk_winograd_output(products + j * perImage, productStride, capacity, outputs, height, width,
                                     bias, rectifies ? 1 : 0, pools ? 1 : 0, output + (first + j) * outputCount, avx2)
            }
            first += images
        }
    }

    /// The index `G`'s rows take when the filter is reversed: 0 and 3 swap, 1 and 2 stay.
    @inline(__always)
    static func winogradReversed(_ index: Int) -> Int { index == 0 ? 3 : index == 3 ? 0 : index }
}
