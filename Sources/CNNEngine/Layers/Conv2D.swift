import CNNKernels

/// A 2-D convolution over NCHW feature maps, like PyTorch's `nn.Conv2d`: any kernel, stride,
/// padding and dilation per axis (`ConvolutionGeometry`), and `groups`.
///
/// Input `[inputChannels, H, W]` per sample, output `[outputChannels, OH, OW]` with
/// `OH = (H + 2·padding − kernelSize) / stride + 1` for a uniform geometry
/// (`ConvolutionGeometry.outputSize` in general). Parameters: `weight`
/// `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]` and, unless `bias` is
/// false (PyTorch's `bias=False`, usual before a BatchNorm), `bias` `[outputChannels]`. With
/// `groups` g the channels split into g groups, output group i reading input group i only;
/// g = input channels = output channels is a depthwise convolution (MobileNet's).
///
/// Grouped, dilated, rectangular or unevenly padded convolutions take the general path
/// (`isPlain` is false; `Conv2DGeneral.swift`): im2col and one product per group, or, for a
/// depthwise convolution, a direct loop per channel. The rest of this comment is about plain
/// convolutions.
/// Forward passes and input gradients of 3×3 stride-1 padding-1 convolutions on planes of 8×8
/// and up use Winograd's F(2×2, 3×3) (`usesWinograd`, `Conv2DWinograd.swift`); forward passes of
/// 3×3 stride-1 padding-1 input layers with thin patches, a direct AVX2 kernel
/// (`usesDirectKernel`). Otherwise, and
/// for every weight gradient, stride-1 "same" convolutions (other than on planes under 8 rows
/// shared by several images, and input layers with thin patches, `hasThinPatches`) run on
/// shifted rows instead of im2col (`usesShiftedRows`, `Conv2DShiftedRows.swift`: k copies of
/// each channel rather than k²). The others are computed as matrix products of the weights
/// with the images' unfolded patches (im2col). When
/// one image's output plane is large (≥ `pixelsPerProduct` positions: 16×16 and up) each image
/// is one product; when it is small (the 8×8, 4×4 and 2×2 layers of ResNets and VGG) a chunk of
/// images is unfolded side by side into one patch matrix, so that each product has at least
/// `pixelsPerProduct` columns instead of 64, 16 or 4 (measured with `benchmarks/sgemm_shapes.c`:
/// OpenBLAS runs such thin products at half speed). The patches go into one reused buffer of at
/// most `columnBudget` floats that stays in cache; the backward pass unfolds the images again
/// rather than keeping every image's patches (which would stream megabytes through memory per
/// batch).
public struct Conv2D: Layer {
    public var name: String
    /// Channels of the input.
    public var inputChannels: Int
    /// Channels of the output, one filter each.
    public var outputChannels: Int
    /// The kernel's size, stride, padding and dilation along each axis.
    public var geometry: ConvolutionGeometry
    /// Channel groups: output group i reads input group i only (1: every output reads every
    /// input; input channels: depthwise).
    public var groups: Int
    /// Whether the layer adds a learnable bias per output channel.
    public var bias: Bool
    /// Whether the output goes through a ReLU, `max(0, x)`, in the same pass: an inference-only
    /// fusion made by `BatchNormFolding` (a backward pass through it is a programming error).
    /// Not part of `spec`: the fused network is never saved.
    public var rectifiesOutput = false
    /// Whether a 2×2, stride-2 max-pool follows in the same pass (after the ReLU when
    /// `rectifiesOutput`): the output is the pooled map, `[O, OH/2, OW/2]`. An inference-only
    /// fusion made by `BatchNormFolding` where `canPoolOutput`; not part of `spec` either.
    public var poolsOutput = false

    var height = 0, width = 0, outputHeight = 0, outputWidth = 0

    /// A convolution with a square kernel, one stride and one padding on every side.
    /// - Parameters:
    ///   - name: the prefix of the parameters' checkpoint names (`conv1`).
    ///   - inputChannels: channels of the incoming feature maps.
    ///   - outputChannels: filters, i.e. channels of the output.
    ///   - kernelSize: side of the square kernel.
    ///   - stride: step between kernel positions.
    ///   - padding: zeros added on each border.
    ///   - bias: add a learnable bias per output channel.
    public init(name: String, inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        self.init(name: name, inputChannels: inputChannels, outputChannels: outputChannels,
                  geometry: ConvolutionGeometry(kernel: kernelSize, stride: stride, padding: padding), bias: bias)
    }

    /// Any convolution.
    /// - Parameters:
    ///   - name: the prefix of the parameters' checkpoint names (`features.1.conv.0`).
    ///   - inputChannels: channels of the incoming feature maps (a multiple of `groups`).
    ///   - outputChannels: filters, i.e. channels of the output (a multiple of `groups`).
    ///   - geometry: the kernel, strides, paddings and dilations.
    ///   - groups: channel groups (1: dense; `inputChannels`: depthwise).
    ///   - bias: add a learnable bias per output channel.
    public init(name: String, inputChannels: Int, outputChannels: Int, geometry: ConvolutionGeometry, groups: Int = 1, bias: Bool = true) {
        self.name = name
        self.bias = bias
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.geometry = geometry
        self.groups = groups
    }

    /// The side of the kernel, for a uniform geometry (`geometry.isUniform`); else its height.
    public var kernelSize: Int { geometry.kernelHeight }
    /// The step between kernel positions, for a uniform geometry; else the vertical one.
    public var stride: Int { geometry.strideY }
    /// The zeros on every side, for a uniform geometry; else the top ones.
    public var padding: Int { geometry.padTop }

    /// Whether this is a dense convolution with a uniform geometry (square, one stride, one
    /// padding, no dilation), which the fast paths are written for; the others take the general
    /// path (`Conv2DGeneral.swift`).
    public var isPlain: Bool { groups == 1 && geometry.isUniform }

    /// Whether each output channel reads one input channel: groups = input channels (a channel
    /// multiplier of outputChannels / groups).
    public var isDepthwise: Bool { groups > 1 && groups == inputChannels }

    /// Input channels each output channel reads, `inputChannels / groups`.
    public var inputChannelsPerGroup: Int { inputChannels / max(1, groups) }
    /// Output channels of each group, `outputChannels / groups`.
    public var outputChannelsPerGroup: Int { outputChannels / max(1, groups) }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3, inputShape[0] == inputChannels else {
            throw EngineError.shapeMismatch("\(name): expects [\(inputChannels), H, W] input, got \(inputShape)")
        }
        if let problem = geometry.problem { throw EngineError.shapeMismatch("\(name): \(problem)") }
        guard outputChannels > 0, groups > 0, inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw EngineError.shapeMismatch("\(name): \(groups) groups must divide the \(inputChannels) input and \(outputChannels) output channels")
        }
        height = inputShape[1]
        width = inputShape[2]
        guard let output = geometry.outputSize(height: height, width: width) else {
            throw EngineError.shapeMismatch("\(name): input \(inputShape) is smaller than the kernel")
        }
        (outputHeight, outputWidth) = output
        guard !poolsOutput || isPlain, !rectifiesOutput || isPlain else {
            throw EngineError.shapeMismatch("\(name): only a plain convolution fuses a ReLU or max-pool")
        }
        if poolsOutput {
            guard canPoolOutput else {
                throw EngineError.shapeMismatch("\(name): cannot pool its [\(outputChannels), \(outputHeight), \(outputWidth)] output in the same pass")
            }
            return [outputChannels, outputHeight / 2, outputWidth / 2]
        }
        return [outputChannels, outputHeight, outputWidth]
    }

    public var parameterSpecs: [ParameterSpec] {
        let fanIn = inputChannelsPerGroup * geometry.taps
        let weight = ParameterSpec(name: "weight", shape: [outputChannels, inputChannelsPerGroup, geometry.kernelHeight, geometry.kernelWidth], fanIn: fanIn)
        return bias ? [weight, ParameterSpec(name: "bias", shape: [outputChannels], fanIn: fanIn)] : [weight]
    }

    /// The convolution as data; `nil` when it rectifies or pools its output, as one layer
    /// cannot say that (`specs` does).
    public var spec: LayerSpec? { rectifiesOutput || poolsOutput ? nil : convolutionSpec }

    /// The convolution, then the ReLU and the 2×2 max-pool fused into it, if any.
    public var specs: [LayerSpec]? {
        [convolutionSpec] + (rectifiesOutput ? [.relu] : []) + (poolsOutput ? [.maxPool(kernel: 2, stride: 2)] : [])
    }

    private var convolutionSpec: LayerSpec {
        .convolution(name: name, outputChannels: outputChannels, geometry: geometry, groups: groups, bias: bias)
    }

    /// A 1×1 stride-1 unpadded convolution reads the image itself as its patch matrix.
    var isPointwise: Bool { isPlain && kernelSize == 1 && stride == 1 && padding == 0 }

    /// Rows of one group's patch matrix, `inputChannelsPerGroup · kernelHeight · kernelWidth`
    /// (for a plain convolution, every input channel's taps).
    var patchSize: Int { inputChannelsPerGroup * geometry.taps }
    var outputPlane: Int { outputHeight * outputWidth }

    /// The fewest output positions one matrix product should have: smaller planes are batched.
    public static let pixelsPerProduct = 256
    /// The fewest output positions one product should have when the patches are thin
    /// (`hasThinPatches`): a 32×32 image per product. In the SimpleCNN's training, conv1's
    /// `[16, 27] · [27, n]` ran at 38 GFLOP/s for n = 1,024, 36 for 2,048 and 32 for 4,096
    /// (the patches then no longer fit the level-2 cache), against 32 for the shifted rows'
    /// `[16, 9] · [9, 1024]`; its transposed weight gradient at 52 against 29.
    public static let thinPatchPixelsPerProduct = 1024

    /// Whether the layer reads so few input channels (`C·k` under 16: an RGB or grey input
    /// layer) that the shifted rows' products, `C·k` deep, would be too thin: 29–33 GFLOP/s for
    /// the SimpleCNN's `[16, 9] · [9, 1024]`. Such layers unfold whole patches (im2col), several
    /// images per product on planes under `thinPatchPixelsPerProduct` positions.
    public var hasThinPatches: Bool { isPlain && inputChannels * kernelSize < 16 }
    /// Whether forward passes run CNNKernels' direct 3×3 kernel (`cnnk_direct3x3`) instead of
    /// im2col: 3×3, stride 1, padding 1, thin patches, and a processor with AVX2
    /// (`KernelBuild.usesAVX2`). An RGB layer's products are only 27 deep; the kernel keeps 6 output
    /// channels × 16 positions in registers over the 27 taps instead (the SimpleCNN's conv1:
    /// see the README's figures). Backward passes keep im2col.
    public var usesDirectKernel: Bool {
        KernelBuild.usesAVX2 && isPlain && kernelSize == 3 && stride == 1 && padding == 1 && hasThinPatches
    }

    /// Whether a 2×2, stride-2 max-pool after this layer can run in its forward pass
    /// (`poolsOutput`): on the direct kernel's or Winograd's path (whose 2×2 output tiles are the
    /// pooling windows), with an even output height and width.
    public var canPoolOutput: Bool {
        (usesDirectKernel || usesWinograd) && outputHeight > 0 && outputHeight % 2 == 0 && outputWidth % 2 == 0
    }

    /// The direct kernel's zero-framed copy of one image.
    var directKernelScratch: Int { usesDirectKernel ? inputChannels * (height + 2) * (width + 2) : 0 }

    /// The forward pass with the direct 3×3 kernel, image by image, with the bias, the fused
    /// ReLU (`rectifiesOutput`) and max-pool (`poolsOutput`).
    private func forwardDirectKernel(_ b: LayerBuffers) {
        let inputCount = inputChannels * height * width, outputCount = outputChannels * outputPlane / (poolsOutput ? 4 : 1)
        let bias: UnsafePointer<Float>? = self.bias ? UnsafePointer(b.parameters + outputChannels * patchSize) : nil
        for n in 0..<b.batch {
            cnnk_direct3x3(b.input + n * inputCount, inputChannels, height, width, b.parameters, bias, outputChannels,
                           rectifiesOutput ? 1 : 0, poolsOutput ? 1 : 0, b.scratch, b.output + n * outputCount, KernelBuild.avx2)
        }
    }

    /// The most floats of patches (im2col) one chunk of images may take: 4 MB.
    public static let columnBudget = 1 << 20

    /// Images unfolded side by side into one product (1 for planes of `pixelsPerProduct` and up,
    /// and for the pointwise case, which reads the image itself).
    public var imagesPerProduct: Int {
        guard isPlain, !isPointwise, outputPlane > 0 else { return 1 }
        let target = hasThinPatches ? Conv2D.thinPatchPixelsPerProduct : Conv2D.pixelsPerProduct
        let wanted = (target + outputPlane - 1) / outputPlane
        return max(1, min(wanted, Conv2D.columnBudget / max(1, patchSize * outputPlane)))
    }

    /// The working space of whichever path the layer takes: the direct convolution's
    /// (`directScratch`, the shifted rows' or im2col's) or Winograd's (`winogradScratch`).
    public var scratchPerBatch: Int {
        isPlain ? max(directScratch, winogradScratch) : generalScratch
    }

    /// The working space of the direct convolution (training, and layers without Winograd):
    /// the patches (with a row of ones), the chunk's product, and the transposed weight gradient
    /// or the weights packed with the bias.
    private var directScratch: Int {
        if usesShiftedRows { return shiftedRowsScratch }
        return max(transposedGradientOffset + (patchSize + 1) * outputChannels, directKernelScratch)
    }

    /// Where, in the working space of im2col, the weight gradient is summed transposed,
    /// `[C·k·k, O]`: oneDNN runs that shape as fast as `[O, C·k·k]` or faster, up to 1.9× for
    /// thin patches (`[27, 16]` over 8,192 positions: 55 against 30 GFLOP/s).
    /// One image's patches are followed by the row of ones of `forwardWithBiasRow`, whose
    /// packed weights `[O, C·k·k + 1]` take the transposed gradient's place.
    var transposedGradientOffset: Int {
        let chunk = imagesPerProduct
        if isPointwise { return 0 }
        if chunk == 1 { return (patchSize + 1) * outputPlane }
        return patchSize * outputPlane * chunk + outputChannels * outputPlane * chunk
    }

    public func forward(_ b: LayerBuffers) {
        if !isPlain {
            forwardGeneral(b)
            return
        }
        if usesWinograd {
            forwardWinograd(b)
            return
        }
        if usesDirectKernel {
            forwardDirectKernel(b)
            return
        }
        forwardDirect(b)
        if rectifiesOutput { Kernels.rectify(b.output, count: b.batch * outputChannels * outputPlane) }
    }

    /// The direct convolution: shifted rows, or im2col, one product per image or per chunk.
    private func forwardDirect(_ b: LayerBuffers) {
        let inputCount = inputChannels * height * width
        let outputCount = outputChannels * outputPlane
        let weight = b.parameters
        let biasValues = b.parameters + outputChannels * patchSize
        if usesShiftedRows {
            forwardShifted(b)
            return
        }
        let chunk = min(b.batch, imagesPerProduct)
        if chunk > 1 {
            var first = 0
            while first < b.batch {
                let images = min(chunk, b.batch - first)
                forwardChunk(b, first: first, images: images)
                first += images
            }
            return
        }
        if bias && !isPointwise {
            forwardWithBiasRow(b)
            return
        }
        for n in 0..<b.batch {
            let image = b.input + n * inputCount
            let columns = isPointwise ? image : b.scratch
            if !isPointwise { unfold(image, into: columns, rowStride: outputPlane) }
            let out = b.output + n * outputCount
            if bias {
                for c in 0..<outputChannels {
                    (out + c * outputPlane).update(repeating: biasValues[c], count: outputPlane)
                }
            }
            BLAS.gemm(transposeA: false, transposeB: false, m: outputChannels, n: outputPlane, k: patchSize,
                      a: weight, lda: patchSize, b: columns, ldb: outputPlane, beta: bias ? 1 : 0, c: out, ldc: outputPlane)
        }
    }

    /// One product per image, the bias as one more column of the weights against a row of ones
    /// below the patches: no pass to fill the output with the bias first (a twentieth of the
    /// SimpleCNN's evaluation), and the product overwrites the output instead of adding to it.
    private func forwardWithBiasRow(_ b: LayerBuffers) {
        let inputCount = inputChannels * height * width, outputCount = outputChannels * outputPlane
        let rowLength = patchSize + 1, packed = b.scratch + transposedGradientOffset
        for o in 0..<outputChannels {
            (packed + o * rowLength).update(from: b.parameters + o * patchSize, count: patchSize)
            packed[o * rowLength + patchSize] = b.parameters[outputChannels * patchSize + o]
        }
        // `unfold` writes the patch rows only: the row of ones stays for every image.
        (b.scratch + patchSize * outputPlane).update(repeating: 1, count: outputPlane)
        for n in 0..<b.batch {
            unfold(b.input + n * inputCount, into: b.scratch, rowStride: outputPlane)
            BLAS.gemm(transposeA: false, transposeB: false, m: outputChannels, n: outputPlane, k: rowLength,
                      a: packed, lda: rowLength, b: b.scratch, ldb: outputPlane, beta: 0, c: b.output + n * outputCount, ldc: outputPlane)
        }
    }

    /// Images `first..<first + images` as one product: their patches side by side (image `j`
    /// in columns `j·OH·OW ..< (j+1)·OH·OW`), the `[outputChannels, images·OH·OW]` result then
    /// copied to each image's NCHW output with the bias added.
    func forwardChunk(_ b: LayerBuffers, first: Int, images: Int) {
        let inputCount = inputChannels * height * width, outputCount = outputChannels * outputPlane
        let plane = outputPlane, pixels = images * plane
        let columns = b.scratch, product = b.scratch + patchSize * plane * imagesPerProduct
        for j in 0..<images {
            unfold(b.input + (first + j) * inputCount, into: columns + j * plane, rowStride: pixels)
        }
        BLAS.gemm(transposeA: false, transposeB: false, m: outputChannels, n: pixels, k: patchSize,
                  a: b.parameters, lda: patchSize, b: columns, ldb: pixels, beta: 0, c: product, ldc: pixels)
        let biasValues = b.parameters + outputChannels * patchSize
        for j in 0..<images {
            let out = b.output + (first + j) * outputCount
            for c in 0..<outputChannels {
                let source = product + c * pixels + j * plane, target = out + c * plane
                if bias {
                    let shift = biasValues[c]
                    for i in 0..<plane { target[i] = source[i] + shift }
                } else {
                    target.update(from: source, count: plane)
                }
            }
        }
    }

    /// im2col: row `(c·k + ky)·k + kx`, column `oy·OW + ox` holds `x[c, oy·s − p + ky, ox·s − p + kx]`
    /// (0 outside). Rows start `rowStride` floats apart (`OH·OW` for one image alone; more when
    /// several images' patches sit side by side).
    func unfold(_ image: UnsafeMutablePointer<Float>, into columns: UnsafeMutablePointer<Float>, rowStride: Int) {
        if isSameSizeStrideOne {
            unfoldSameSize(image, into: columns, rowStride: rowStride)
            return
        }
        var row = columns
        for c in 0..<inputChannels {
            let plane = image + c * height * width
            for ky in 0..<kernelSize {
                for kx in 0..<kernelSize {
                    // Valid ox satisfy 0 <= ox·stride − offset < width: zeros on either side, a
                    // (strided) copy between, bounds computed once per kernel column.
                    let offset = padding - kx
                    let lo = offset > 0 ? min(outputWidth, (offset + stride - 1) / stride) : 0
                    let limit = width + offset
                    let hi = limit > 0 ? max(lo, min(outputWidth, (limit + stride - 1) / stride)) : lo
                    let first = lo * stride - offset
                    for oy in 0..<outputHeight {
                        let iy = oy * stride - padding + ky
                        let dst = row + oy * outputWidth
                        if iy < 0 || iy >= height {
                            for ox in 0..<outputWidth { dst[ox] = 0 }
                            continue
                        }
                        let src = plane + iy * width + first
                        for ox in 0..<lo { dst[ox] = 0 }
                        if stride == 1 {
                            // Rows are short: plain loops beat a memcpy call per row.
                            let shifted = src - lo
                            for ox in lo..<hi { dst[ox] = shifted[ox] }
                        } else {
                            let gathered = dst + lo
                            // Wrapping index arithmetic: bounded by the shapes, checked by nothing.
                            for i in 0..<(hi &- lo) { gathered[i] = src[i &* stride] }
                        }
                        for ox in hi..<outputWidth { dst[ox] = 0 }
                    }
                    row += rowStride
                }
            }
        }
    }

    /// Stride 1 with "same" padding (output as large as the input), the SimpleCNN's case: each
    /// patch row is the image plane shifted by (ky − p, kx − p), so it is one block copy plus
    /// clearing the rows and columns that fall in the padding — instead of a loop per image row.
    var isSameSizeStrideOne: Bool { isPlain && stride == 1 && outputHeight == height && outputWidth == width }

    func unfoldSameSize(_ image: UnsafeMutablePointer<Float>, into columns: UnsafeMutablePointer<Float>, rowStride: Int) {
        let plane = height * width
        var row = columns
        for c in 0..<inputChannels {
            let source = image + c * plane
            for ky in 0..<kernelSize {
                for kx in 0..<kernelSize {
                    let (dy, dx) = (ky - padding, kx - padding)
                    let firstRow = max(0, -dy), endRow = min(height, height - dy)
                    // Rows that read above or below the image are zero.
                    if firstRow > 0 { row.update(repeating: 0, count: firstRow * width) }
                    if endRow < height { (row + endRow * width).update(repeating: 0, count: (height - endRow) * width) }
                    if endRow > firstRow {
                        // One shifted copy over the valid rows; it wraps neighbouring rows' edge
                        // pixels into the columns that read left or right of the image...
                        let begin = firstRow * width + max(0, -dx), end = endRow * width - max(0, dx)
                        (row + begin).update(from: source + begin + dy * width + dx, count: end - begin)
                        // ...which are then cleared.
                        clearPaddingColumns(row, shift: dx, rows: firstRow..<endRow)
                    }
                    row += rowStride
                }
            }
        }
    }

    /// Zeroes, in a patch row of a same-size unfold, the columns whose pixel lies left
    /// (`shift` < 0) or right (`shift` > 0) of the image.
    @inline(__always)
    func clearPaddingColumns(_ row: UnsafeMutablePointer<Float>, shift: Int, rows: Range<Int>) {
        guard shift != 0 else { return }
        let columns = shift < 0 ? 0..<(-shift) : (width - shift)..<width
        for y in rows { for x in columns { row[y &* width &+ x] = 0 } }
    }

}
