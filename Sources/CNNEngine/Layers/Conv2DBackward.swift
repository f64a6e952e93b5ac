import Foundation

/// The backward pass of `Conv2D`: the weight, bias and input gradients by the direct paths
/// (im2col per image or per chunk, shifted rows), or the input gradient by Winograd's adjoint
/// (`Conv2DWinograd.swift`), and the col2im folds that scatter patch gradients onto images.
extension Conv2D {
    /// The backward pass of `forwardChunk`: the output gradients gathered into one matrix, one
    /// product for the weight gradient (transposed, at `transposedGradientOffset`; added to the
    /// earlier chunks' unless `first` is 0) and one for the patch gradients, which are folded
    /// back onto each image.
    func backwardChunk(_ b: LayerBuffers, _ g: LayerGradientBuffers, first: Int, images: Int) {
        let inputCount = inputChannels * height * width, outputCount = outputChannels * outputPlane
        let plane = outputPlane, pixels = images * plane
        let columns = b.scratch, product = b.scratch + patchSize * plane * imagesPerProduct
        for j in 0..<images {
            let outGrad = g.output + (first + j) * outputCount
            for c in 0..<outputChannels {
                (product + c * pixels + j * plane).update(from: outGrad + c * plane, count: plane)
            }
            unfold(b.input + (first + j) * inputCount, into: columns + j * plane, rowStride: pixels)
        }
        BLAS.gemm(transposeA: false, transposeB: true, m: patchSize, n: outputChannels, k: pixels,
                  a: columns, lda: pixels, b: product, ldb: pixels, beta: first == 0 ? 0 : 1,
                  c: b.scratch + transposedGradientOffset, ldc: outputChannels)
        if bias {
            let biasGradient = g.parameters + outputChannels * patchSize
            for j in 0..<images {
                let outGrad = g.output + (first + j) * outputCount
                for c in 0..<outputChannels {
                    let sum = Kernels.sum(outGrad + c * plane, count: plane)
                    biasGradient[c] = first + j == 0 ? sum : biasGradient[c] + sum
                }
            }
        }
        guard let inputGradient = g.input else { return }
        BLAS.gemm(transposeA: true, transposeB: false, m: patchSize, n: pixels, k: outputChannels,
                  a: b.parameters, lda: patchSize, b: product, ldb: pixels, beta: 0, c: columns, ldc: pixels)
        for j in 0..<images {
            fold(columns + j * plane, rowStride: pixels, into: inputGradient + (first + j) * inputCount)
        }
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        precondition(!rectifiesOutput && !poolsOutput, "\(name): a convolution with a fused ReLU or max-pool is for inference only")
        if !isPlain {
            backwardGeneral(b, gradients: g)
            return
        }
        if usesWinograd, Conv2D.winogradInputGradients, let inputGradient = g.input {
            // The parameter gradients from the direct path, the input gradient from Winograd's.
            var parameterGradients = g
            parameterGradients.input = nil
            backwardDirect(b, gradients: parameterGradients)
            inputGradientWinograd(b, outputGradient: g.output, into: inputGradient)
            return
        }
        backwardDirect(b, gradients: g)
    }

    /// The backward pass of the direct convolution: shifted rows, or im2col per image or per chunk.
    func backwardDirect(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        let inputCount = inputChannels * height * width
        let outputCount = outputChannels * outputPlane
        let weight = b.parameters
        let weightGradient = g.parameters
        let biasGradient = g.parameters + outputChannels * patchSize
        if usesShiftedRows {
            backwardShifted(b, gradients: g)
            return
        }
        let chunk = min(b.batch, imagesPerProduct)
        if chunk > 1 {
            var first = 0
            while first < b.batch {
                let images = min(chunk, b.batch - first)
                backwardChunk(b, g, first: first, images: images)
                first += images
            }
            if b.batch > 0 { untransposeGradient(b.scratch + transposedGradientOffset, into: weightGradient) }
            return
        }
        for n in 0..<b.batch {
            let image = b.input + n * inputCount
            let columns = isPointwise ? image : b.scratch
            if !isPointwise { unfold(image, into: columns, rowStride: outputPlane) }
            let outGrad = g.output + n * outputCount
            // The first sample overwrites the (transposed) weight gradient, the others add to it.
            BLAS.gemm(transposeA: false, transposeB: true, m: patchSize, n: outputChannels, k: outputPlane,
                      a: columns, lda: outputPlane, b: outGrad, ldb: outputPlane, beta: n == 0 ? 0 : 1,
                      c: b.scratch + transposedGradientOffset, ldc: outputChannels)
            if bias {
                for c in 0..<outputChannels {
                    let sum = Kernels.sum(outGrad + c * outputPlane, count: outputPlane)
                    biasGradient[c] = n == 0 ? sum : biasGradient[c] + sum
                }
            }
            if let inputGradient = g.input {
                if isPointwise {
                    // The patch gradients are the image gradient itself.
                    BLAS.gemm(transposeA: true, transposeB: false, m: patchSize, n: outputPlane, k: outputChannels,
                              a: weight, lda: patchSize, b: outGrad, ldb: outputPlane, beta: 0, c: inputGradient + n * inputCount, ldc: outputPlane)
                    continue
                }
                // The patches are no longer needed: reuse their storage for the patch gradients.
                BLAS.gemm(transposeA: true, transposeB: false, m: patchSize, n: outputPlane, k: outputChannels,
                          a: weight, lda: patchSize, b: outGrad, ldb: outputPlane, beta: 0, c: columns, ldc: outputPlane)
                fold(columns, rowStride: outputPlane, into: inputGradient + n * inputCount)
            }
        }
        if b.batch > 0 { untransposeGradient(b.scratch + transposedGradientOffset, into: weightGradient) }
    }

    /// The weight gradient `[O, C·k·k]` from its transpose.
    func untransposeGradient(_ transposed: UnsafePointer<Float>, into weightGradient: UnsafeMutablePointer<Float>) {
        let outputs = outputChannels
        for o in 0..<outputs {
            let row = weightGradient + o * patchSize
            for i in 0..<patchSize { row[i] = transposed[i &* outputs &+ o] }
        }
    }

    /// The adjoint of `unfoldSameSize`: shifted block additions, after clearing the padding
    /// positions of the patch gradients (they belong to no pixel).
    func foldSameSize(_ columns: UnsafeMutablePointer<Float>, rowStride: Int, into image: UnsafeMutablePointer<Float>) {
        let plane = height * width
        image.update(repeating: 0, count: inputChannels * plane)
        var row = columns
        for c in 0..<inputChannels {
            let target = image + c * plane
            for ky in 0..<kernelSize {
                for kx in 0..<kernelSize {
                    let (dy, dx) = (ky - padding, kx - padding)
                    let firstRow = max(0, -dy), endRow = min(height, height - dy)
                    if endRow > firstRow {
                        clearPaddingColumns(row, shift: dx, rows: firstRow..<endRow)
                        let begin = firstRow * width + max(0, -dx), end = endRow * width - max(0, dx)
                        let destination = target + begin + dy * width + dx
                        let source = row + begin
                        for i in 0..<(end - begin) { destination[i] += source[i] }
                    }
                    row += rowStride
                }
            }
        }
    }

    /// col2im: the adjoint of `unfold` (rows `rowStride` floats apart), summing each patch
    /// gradient back onto the image gradient.
    func fold(_ columns: UnsafeMutablePointer<Float>, rowStride: Int, into image: UnsafeMutablePointer<Float>) {
        if isSameSizeStrideOne {
            foldSameSize(columns, rowStride: rowStride, into: image)
            return
        }
        image.update(repeating: 0, count: inputChannels * height * width)
        var row = UnsafePointer(columns)
        for c in 0..<inputChannels {
            let plane = image + c * height * width
            for ky in 0..<kernelSize {
                for kx in 0..<kernelSize {
                    for oy in 0..<outputHeight {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= height { continue }
                        let src = row + oy * outputWidth
                        let dst = plane + iy * width
                        if stride == 1 {
                            let lo = max(0, padding - kx), hi = min(outputWidth, width + padding - kx)
                            if hi > lo {
                                let d = dst + (lo - padding + kx)
                                for ox in 0..<(hi - lo) { d[ox] += src[lo + ox] }
                            }
                        } else {
                            for ox in 0..<outputWidth {
                                let ix = ox &* stride &- padding &+ kx
                                if ix >= 0 && ix < width { dst[ix] += src[ox] }
                            }
                        }
                    }
                    row += rowStride
                }
            }
        }
    }
}
