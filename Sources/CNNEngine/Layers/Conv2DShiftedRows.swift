/// Stride-1 "same" convolutions (3×3 with padding 1, 5×5 with padding 2, …) without the full
/// im2col matrix.
///
/// The patch matrix of im2col repeats every pixel k² times; writing it and reading it back was
/// a third of ResNet-20's inference time once the products themselves ran on AVX-512. Here each
/// input channel is copied only k times, once per kernel column `kx`, shifted by `kx − p`, into
/// row `c·k + kx` of a "shifted matrix" in which the image's rows are framed by `p` zero rows
/// above and below. The patches of kernel row `ky` are then that matrix starting `ky·W` columns
/// in — a view, not a copy — so the convolution is k products of `[O, C·k]` weight slices
/// (repacked per call) with those views, accumulated into the output.
///
/// 8×8 planes (ResNet's last stage; several images per product, see `imagesPerProduct`) put
/// images one below the other in the same matrix, sharing their `p` zero rows, so that each
/// product has enough columns: the `p·W` output columns that straddle two images are computed
/// and dropped (1/8 more work on 8×8 planes). Smaller planes keep im2col: there the dropped
/// columns would be 1/4 (4×4) to 1/2 (2×2) more work, and VGG-11-BN's evaluation was measured
/// 20 % slower with them (12.0 s against 9.6 s for the 10,000 test images). The backward pass uses the same views for the weight gradient and
/// accumulates the patch gradients into the shifted matrix, then folds its k copies back onto
/// each image.
extension Conv2D {
    /// Whether this layer uses the shifted-row path (stride 1, output as large as the input;
    /// planes of 8 rows and more when images are stacked; patches not thin, `hasThinPatches`)
    /// instead of im2col.
    public var usesShiftedRows: Bool {
        isPlain && stride == 1 && kernelSize > 1 && 2 * padding == kernelSize - 1 && !hasThinPatches && (imagesPerProduct == 1 || height >= 8)
    }

    /// Columns between the starts of two images stacked in the shifted matrix: an image's rows
    /// and the `p` zero rows below it (which are also the next image's rows above).
    var shiftedSegment: Int { (height + padding) * width }

    /// Length of one row of the shifted matrix holding `images` images.
    func shiftedRowLength(images: Int) -> Int { (images * (height + padding) + padding) * width }

    /// Output columns of one product over `images` stacked images (the last image's straddling
    /// columns are not computed).
    func shiftedColumns(images: Int) -> Int { (images * (height + padding) - padding) * width }

    /// Floats of the shifted matrix (with one more row, of ones, for the bias), the repacked
    /// weights (with a bias column), the repacked weight gradient and, when images are stacked,
    /// one product's output.
    var shiftedRowsScratch: Int {
        let inner = inputChannels * kernelSize, images = imagesPerProduct
        return (inner + 1) * shiftedRowLength(images: images) + kernelSize * outputChannels * (inner + 1)
            + kernelSize * outputChannels * inner + (images > 1 ? outputChannels * shiftedColumns(images: images) : 0)
    }

    /// Copies the weights `[O, C, k, k]` into k slices `[O, rowLength]`, one per kernel row, so
    /// that slice `ky` holds `w[o, c, ky, kx]` at `(o, c·k + kx)`; with `bias`, column `C·k`
    /// of slice 0 holds the bias (multiplied by the shifted matrix's row of ones), and of the
    /// other slices 0 (never read).
    private func packWeights(_ weight: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>, rowLength: Int, bias: UnsafePointer<Float>?) {
        let k = kernelSize, inner = inputChannels * k, slice = outputChannels * rowLength
        for o in 0..<outputChannels {
            for c in 0..<inputChannels {
                let source = weight + (o * inputChannels + c) * k * k
                for ky in 0..<k {
                    let target = packed + ky * slice + o * rowLength + c * k
                    for kx in 0..<k { target[kx] = source[ky * k + kx] }
                }
            }
            if let bias, rowLength > inner {
                for ky in 0..<k { packed[ky * slice + o * rowLength + inner] = ky == 0 ? bias[o] : 0 }
            }
        }
    }

    /// The weight gradient `[O, C, k, k]` from k transposed slices `[C·k, O]`, slice `ky`
    /// holding the gradient of `w[o, c, ky, kx]` at `(c·k + kx, o)`.
    private func unpackTransposedGradient(_ packed: UnsafePointer<Float>, into weight: UnsafeMutablePointer<Float>) {
        let k = kernelSize, slice = outputChannels * inputChannels * k
        for o in 0..<outputChannels {
            for c in 0..<inputChannels {
                let target = weight + (o * inputChannels + c) * k * k
                for ky in 0..<k {
                    let source = packed + ky * slice + c * k * outputChannels + o
                    for kx in 0..<k { target[ky * k + kx] = source[kx * outputChannels] }
                }
            }
        }
    }

    /// Writes one image into the shifted matrix (rows `length` floats apart) at column
    /// `offset`: row `c·k + kx`, column `offset + y′·W + x` holds `x[c, y′ − p, x + kx − p]`
    /// for `y′` in `0 ..< H + 2p` (0 outside the image).
    private func unfoldShifted(_ image: UnsafePointer<Float>, into rows: UnsafeMutablePointer<Float>, length: Int, offset: Int) {
        let k = kernelSize, plane = height * width, margin = padding * width
        for c in 0..<inputChannels {
            let source = image + c * plane
            for kx in 0..<k {
                let row = rows + (c * k + kx) * length + offset
                for i in 0..<margin { row[i] = 0; row[margin + plane + i] = 0 }
                let shift = kx - padding, body = row + margin
                // One shifted block copy; it wraps neighbouring rows' edge pixels into the
                // columns that read left or right of the image, which are then cleared.
                let begin = max(0, -shift), end = plane - max(0, shift)
                (body + begin).update(from: source + begin + shift, count: end - begin)
                clearShiftedColumns(body, shift: shift)
            }
        }
    }

    /// The adjoint of `unfoldShifted`: adds the image's rows of the shifted matrix back onto its
    /// gradient (the zero rows and the cleared columns belong to no pixel).
    private func foldShifted(_ rows: UnsafeMutablePointer<Float>, length: Int, offset: Int, into image: UnsafeMutablePointer<Float>) {
        let k = kernelSize, plane = height * width, margin = padding * width
        image.update(repeating: 0, count: inputChannels * plane)
        for c in 0..<inputChannels {
            let target = image + c * plane
            for kx in 0..<k {
                let body = rows + (c * k + kx) * length + offset + margin
                let shift = kx - padding
                clearShiftedColumns(body, shift: shift)
                let begin = max(0, -shift), end = plane - max(0, shift)
                let destination = target + begin + shift, source = body + begin
                for i in 0..<(end - begin) { destination[i] += source[i] }
            }
        }
    }

    /// Zeroes, in an image-sized block of a shifted row, the columns whose pixel lies left
    /// (`shift` < 0) or right (`shift` > 0) of the image.
    @inline(__always)
    private func clearShiftedColumns(_ body: UnsafeMutablePointer<Float>, shift: Int) {
        guard shift != 0 else { return }
        let columns = shift < 0 ? 0..<(-shift) : (width - shift)..<width
        for y in 0..<height { for x in columns { body[y &* width &+ x] = 0 } }
    }

    /// The bias is one more column of kernel row 0's weights, against a row of ones below the
    /// shifted matrix: the first product writes the output with it (no separate pass). A chunk
    /// of one image is written straight into the output; stacked images go through the product
    /// buffer, from which each image's planes are copied out.
    func forwardShifted(_ b: LayerBuffers) {
        let k = kernelSize, plane = height * width, inner = inputChannels * k
        let rowLength = inner + (bias ? 1 : 0), slice = outputChannels * rowLength
        let inputCount = inputChannels * plane, outputCount = outputChannels * plane
        let chunk = imagesPerProduct, length = shiftedRowLength(images: chunk), segment = shiftedSegment
        let rows = b.scratch, packed = rows + (inner + 1) * length
        let product = packed + k * outputChannels * (inner + 1) + k * outputChannels * inner
        packWeights(b.parameters, into: packed, rowLength: rowLength,
                    bias: bias ? UnsafePointer(b.parameters + outputChannels * inputChannels * k * k) : nil)
        if bias { (rows + inner * length).update(repeating: 1, count: shiftedColumns(images: chunk)) }
        var first = 0
        while first < b.batch {
            let images = min(chunk, b.batch - first), columns = shiftedColumns(images: images)
            for j in 0..<images {
                unfoldShifted(b.input + (first + j) * inputCount, into: rows, length: length, offset: j * segment)
            }
            let target = images == 1 ? b.output + first * outputCount : product
            for ky in 0..<k {
                BLAS.gemm(transposeA: false, transposeB: false, m: outputChannels, n: columns, k: ky == 0 ? rowLength : inner,
                          a: packed + ky * slice, lda: rowLength, b: rows + ky * width, ldb: length,
                          beta: ky > 0 ? 1 : 0, c: target, ldc: columns)
            }
            if images > 1 {
                for j in 0..<images {
                    let out = b.output + (first + j) * outputCount
                    for o in 0..<outputChannels {
                        (out + o * plane).update(from: product + o * columns + j * segment, count: plane)
                    }
                }
            }
            first += images
        }
    }

    func backwardShifted(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        let k = kernelSize, plane = height * width, inner = inputChannels * k, slice = outputChannels * inner
        let inputCount = inputChannels * plane, outputCount = outputChannels * plane
        let chunk = imagesPerProduct, length = shiftedRowLength(images: chunk), segment = shiftedSegment
        let rows = b.scratch, packed = rows + (inner + 1) * length, packedGradient = packed + k * outputChannels * (inner + 1)
        let product = packedGradient + k * slice
        packWeights(b.parameters, into: packed, rowLength: inner, bias: nil)
        let biasGradient = g.parameters + outputChannels * inputChannels * k * k
        var first = 0
        while first < b.batch {
            let images = min(chunk, b.batch - first), columns = shiftedColumns(images: images)
            for j in 0..<images {
                unfoldShifted(b.input + (first + j) * inputCount, into: rows, length: length, offset: j * segment)
            }
            // The output gradients in the product's layout, the straddling columns zero (they
            // are no output, so no gradient flows from them).
            let outGrad: UnsafeMutablePointer<Float>
            if images == 1 {
                outGrad = g.output + first * outputCount
            } else {
                outGrad = product
                for o in 0..<outputChannels {
                    let row = product + o * columns
                    for j in 0..<images {
                        (row + j * segment).update(from: g.output + (first + j) * outputCount + o * plane, count: plane)
                        if j + 1 < images { (row + j * segment + plane).update(repeating: 0, count: segment - plane) }
                    }
                }
            }
            // The first chunk overwrites the weight gradient, the others add to it. It is
            // computed transposed, `[C·k, O]` per kernel row: oneDNN runs that shape 2–5× faster
            // than `[O, C·k]` when O is small (16 × 48 × 1024: 20 against 100 GFLOP/s).
            for ky in 0..<k {
                BLAS.gemm(transposeA: false, transposeB: true, m: inner, n: outputChannels, k: columns,
                          a: rows + ky * width, lda: length, b: outGrad, ldb: columns,
                          beta: first == 0 ? 0 : 1, c: packedGradient + ky * slice, ldc: outputChannels)
            }
            if bias {
                for j in 0..<images {
                    let imageGradient = g.output + (first + j) * outputCount
                    for c in 0..<outputChannels {
                        let sum = Kernels.sum(imageGradient + c * plane, count: plane)
                        biasGradient[c] = first + j == 0 ? sum : biasGradient[c] + sum
                    }
                }
            }
            if let inputGradient = g.input {
                // The patches are no longer needed: their storage takes the patch gradients.
                // Kernel row 0 writes columns 0 ..< n of every row, later rows add to ranges
                // shifted by up to 2p·W, so only those 2p·W columns need clearing first.
                BLAS.gemm(transposeA: true, transposeB: false, m: inner, n: columns, k: outputChannels,
                          a: packed, lda: inner, b: outGrad, ldb: columns, beta: 0, c: rows, ldc: length)
                for r in 0..<inner { (rows + r * length + columns).update(repeating: 0, count: 2 * padding * width) }
                for ky in 1..<k {
                    BLAS.gemm(transposeA: true, transposeB: false, m: inner, n: columns, k: outputChannels,
                              a: packed + ky * slice, lda: inner, b: outGrad, ldb: columns, beta: 1, c: rows + ky * width, ldc: length)
                }
                for j in 0..<images {
                    foldShifted(rows, length: length, offset: j * segment, into: inputGradient + (first + j) * inputCount)
                }
            }
            first += images
        }
        if b.batch > 0 { unpackTransposedGradient(packedGradient, into: g.parameters) }
    }
}
