/// Stride-1 "same" convolutions (3×3 with padding 1, 5×5 with padding 2, …) on large planes,
/// without the full im2col matrix.
///
/// The patch matrix of im2col repeats every pixel k² times; writing it and reading it back was
/// a third of ResNet-20's inference time once the products themselves ran on AVX-512. Here each
/// input channel is copied only k times, once per kernel column `kx`, shifted by `kx − p` and
/// with `p` zero rows above and below: row `(c·k + kx)` of a `[C·k, (H + 2p)·W]` matrix. The
/// patches of kernel row `ky` are then that matrix starting `ky·W` columns in — a view, not a
/// copy — so the convolution is k products of `[O, C·k]` weight slices (repacked per call) with
/// those views, accumulated into the output. The backward pass uses the same views for the
/// weight gradient and accumulates the patch gradients into the shifted matrix, then folds its
/// k columns back onto the image.
extension Conv2D {
    /// Whether this layer uses the shifted-row path (stride 1, output as large as the input,
    /// one image per product) instead of im2col.
    public var usesShiftedRows: Bool {
        stride == 1 && kernelSize > 1 && 2 * padding == kernelSize - 1 && imagesPerProduct == 1
    }

    /// Length of one row of the shifted matrix: the image's rows plus `2p` rows of zeros.
    var shiftedRowLength: Int { (height + 2 * padding) * width }

    /// Floats of the shifted matrix (with one more row, of ones, for the bias), then the
    /// repacked weights (with a bias column), then the repacked weight gradient.
    var shiftedRowsScratch: Int {
        let inner = inputChannels * kernelSize
        return (inner + 1) * shiftedRowLength + kernelSize * outputChannels * (inner + 1) + kernelSize * outputChannels * inner
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

    /// Row `(c·k + kx)`, column `y′·W + x` of the shifted matrix holds `x[c, y′ − p, x + kx − p]`
    /// (0 outside the image).
    private func unfoldShifted(_ image: UnsafePointer<Float>, into rows: UnsafeMutablePointer<Float>) {
        let k = kernelSize, plane = height * width, margin = padding * width, length = shiftedRowLength
        for c in 0..<inputChannels {
            let source = image + c * plane
            for kx in 0..<k {
                let row = rows + (c * k + kx) * length
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

    /// The adjoint of `unfoldShifted`: adds each image row of the shifted matrix back onto the
    /// image gradient (the zero rows and the cleared columns belong to no pixel).
    private func foldShifted(_ rows: UnsafeMutablePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        let k = kernelSize, plane = height * width, margin = padding * width, length = shiftedRowLength
        image.update(repeating: 0, count: inputChannels * plane)
        for c in 0..<inputChannels {
            let target = image + c * plane
            for kx in 0..<k {
                let body = rows + (c * k + kx) * length + margin
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
    /// shifted matrix: the first product writes the output with it (no separate pass).
    func forwardShifted(_ b: LayerBuffers) {
        let k = kernelSize, plane = height * width, inner = inputChannels * k
        let rowLength = inner + (bias ? 1 : 0), slice = outputChannels * rowLength
        let inputCount = inputChannels * plane, outputCount = outputChannels * plane
        let rows = b.scratch, packed = b.scratch + (inner + 1) * shiftedRowLength
        packWeights(b.parameters, into: packed, rowLength: rowLength,
                    bias: bias ? UnsafePointer(b.parameters + outputChannels * inputChannels * k * k) : nil)
        if bias { (rows + inner * shiftedRowLength).update(repeating: 1, count: plane) }
        for n in 0..<b.batch {
            unfoldShifted(b.input + n * inputCount, into: rows)
            let out = b.output + n * outputCount
            for ky in 0..<k {
                BLAS.gemm(transposeA: false, transposeB: false, m: outputChannels, n: plane, k: ky == 0 ? rowLength : inner,
                          a: packed + ky * slice, lda: rowLength, b: rows + ky * width, ldb: shiftedRowLength,
                          beta: ky > 0 ? 1 : 0, c: out, ldc: plane)
            }
        }
    }

    func backwardShifted(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        let k = kernelSize, plane = height * width, inner = inputChannels * k, slice = outputChannels * inner
        let inputCount = inputChannels * plane, outputCount = outputChannels * plane, length = shiftedRowLength
        let rows = b.scratch, packed = b.scratch + (inner + 1) * length, packedGradient = packed + k * outputChannels * (inner + 1)
        packWeights(b.parameters, into: packed, rowLength: inner, bias: nil)
        let biasGradient = g.parameters + outputChannels * inputChannels * k * k
        for n in 0..<b.batch {
            unfoldShifted(b.input + n * inputCount, into: rows)
            let outGrad = g.output + n * outputCount
            // The first sample overwrites the weight gradient, the others add to it. It is
            // computed transposed, `[C·k, O]` per kernel row: oneDNN runs that shape 2–5× faster
            // than `[O, C·k]` when O is small (16 × 48 × 1024: 20 against 100 GFLOP/s).
            for ky in 0..<k {
                BLAS.gemm(transposeA: false, transposeB: true, m: inner, n: outputChannels, k: plane,
                          a: rows + ky * width, lda: length, b: outGrad, ldb: plane,
                          beta: n == 0 ? 0 : 1, c: packedGradient + ky * slice, ldc: outputChannels)
            }
            if bias {
                for c in 0..<outputChannels {
                    let sum = Kernels.sum(outGrad + c * plane, count: plane)
                    biasGradient[c] = n == 0 ? sum : biasGradient[c] + sum
                }
            }
            guard let inputGradient = g.input else { continue }
            // The patches are no longer needed: their storage takes the patch gradients. Kernel
            // row 0 writes columns 0 ..< H·W of every row, later rows add to overlapping ranges,
            // so only the last 2p·W columns need clearing first.
            BLAS.gemm(transposeA: true, transposeB: false, m: inner, n: plane, k: outputChannels,
                      a: packed, lda: inner, b: outGrad, ldb: plane, beta: 0, c: rows, ldc: length)
            for r in 0..<inner { (rows + r * length + plane).update(repeating: 0, count: length - plane) }
            for ky in 1..<k {
                BLAS.gemm(transposeA: true, transposeB: false, m: inner, n: plane, k: outputChannels,
                          a: packed + ky * slice, lda: inner, b: outGrad, ldb: plane, beta: 1, c: rows + ky * width, ldc: length)
            }
            foldShifted(rows, into: inputGradient + n * inputCount)
        }
        if b.batch > 0 { unpackTransposedGradient(packedGradient, into: g.parameters) }
    }
}
