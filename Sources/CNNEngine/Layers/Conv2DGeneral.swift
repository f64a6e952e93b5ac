/// The general path of `Conv2D`: grouped and depthwise convolutions, dilations, rectangular
/// kernels, and strides and paddings that differ between the axes or the sides (`isPlain` is
/// false), forward and backward.
///
/// A grouped convolution is `groups` independent convolutions side by side: group i's outputs
/// `[i·O/g, (i+1)·O/g)` read its inputs `[i·C/g, (i+1)·C/g)` only, through the weight rows
/// `[i·O/g, (i+1)·O/g)`, each `C/g · kh · kw` long. Each group is unfolded (im2col, one image
/// at a time into the working space) and multiplied by its weight rows. A depthwise
/// convolution (one input channel per group) would make that a product with one row; it runs
/// as a direct loop per channel instead, one kernel tap at a time over the output plane
/// (contiguous rows when the horizontal stride is 1).
extension Conv2D {
    /// The working space of the general path: one group's patches of one image (none for a
    /// depthwise convolution, which reads the image directly).
    var generalScratch: Int {
        inputChannelsPerGroup == 1 ? 0 : patchSize * outputHeight * outputWidth
    }

    /// The range of output columns `ox` whose tap `kx` reads inside the image:
    /// `0 ≤ ox·sx − padLeft + kx·dx < width`.
    @inline(__always)
    func validColumns(tap kx: Int) -> Range<Int> {
        let offset = geometry.padLeft - kx * geometry.dilationX, sx = geometry.strideX
        let lo = offset > 0 ? min(outputWidth, (offset + sx - 1) / sx) : 0
        let limit = width + offset
        let hi = limit > 0 ? max(lo, min(outputWidth, (limit + sx - 1) / sx)) : lo
        return lo..<hi
    }

    /// The input row read by output row `oy` at tap row `ky`; out of `0..<height` in the padding.
    @inline(__always)
    func inputRow(_ oy: Int, tap ky: Int) -> Int {
        oy * geometry.strideY - geometry.padTop + ky * geometry.dilationY
    }

    /// The forward pass of a convolution that is not plain.
    func forwardGeneral(_ b: LayerBuffers) {
        if inputChannelsPerGroup == 1 {
            forwardDepthwise(b)
            return
        }
        let inputCount = inputChannels * height * width, outputCount = outputChannels * outputPlane
        let perGroupIn = inputChannelsPerGroup, perGroupOut = outputChannelsPerGroup
        let biasValues = b.parameters + outputChannels * patchSize
        for n in 0..<b.batch {
            let out = b.output + n * outputCount
            for group in 0..<groups {
                unfoldGeneral(b.input + n * inputCount + group * perGroupIn * height * width, into: b.scratch)
                let groupOut = out + group * perGroupOut * outputPlane
                if bias {
                    for o in 0..<perGroupOut {
                        (groupOut + o * outputPlane).update(repeating: biasValues[group * perGroupOut + o], count: outputPlane)
                    }
                }
                BLAS.gemm(transposeA: false, transposeB: false, m: perGroupOut, n: outputPlane, k: patchSize,
                          a: b.parameters + group * perGroupOut * patchSize, lda: patchSize, b: b.scratch, ldb: outputPlane,
                          beta: bias ? 1 : 0, c: groupOut, ldc: outputPlane)
            }
        }
    }

    /// The backward pass of a convolution that is not plain: per image and group, the weight
    /// gradient from the output gradient and the unfolded patches, and the patch gradients
    /// folded back onto the input gradient.
    func backwardGeneral(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        if inputChannelsPerGroup == 1 {
            backwardDepthwise(b, gradients: g)
            return
        }
        let inputCount = inputChannels * height * width, outputCount = outputChannels * outputPlane
        let perGroupIn = inputChannelsPerGroup, perGroupOut = outputChannelsPerGroup
        g.parameters.update(repeating: 0, count: parameterCount)
        let biasGradient = g.parameters + outputChannels * patchSize
        for n in 0..<b.batch {
            let outGrad = g.output + n * outputCount
            if bias {
                for o in 0..<outputChannels { biasGradient[o] += Kernels.sum(outGrad + o * outputPlane, count: outputPlane) }
            }
            for group in 0..<groups {
                let groupInput = n * inputCount + group * perGroupIn * height * width
                let groupOutGrad = outGrad + group * perGroupOut * outputPlane
                unfoldGeneral(b.input + groupInput, into: b.scratch)
                BLAS.gemm(transposeA: false, transposeB: true, m: perGroupOut, n: patchSize, k: outputPlane,
                          a: groupOutGrad, lda: outputPlane, b: b.scratch, ldb: outputPlane,
                          beta: 1, c: g.parameters + group * perGroupOut * patchSize, ldc: patchSize)
                guard let inputGradient = g.input else { continue }
                BLAS.gemm(transposeA: true, transposeB: false, m: patchSize, n: outputPlane, k: perGroupOut,
                          a: b.parameters + group * perGroupOut * patchSize, lda: patchSize, b: groupOutGrad, ldb: outputPlane,
                          beta: 0, c: b.scratch, ldc: outputPlane)
                foldGeneral(b.scratch, into: inputGradient + groupInput)
            }
        }
    }

    /// Floats of the weight and bias.
    private var parameterCount: Int { outputChannels * patchSize + (bias ? outputChannels : 0) }

    /// im2col of one group's `inputChannelsPerGroup` channels: row `(c·kh + ky)·kw + kx`,
    /// column `oy·OW + ox` holds `x[c, oy·sy − top + ky·dy, ox·sx − left + kx·dx]` (0 outside).
    func unfoldGeneral(_ channels: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        let kh = geometry.kernelHeight, kw = geometry.kernelWidth, sx = geometry.strideX
        var row = columns
        for c in 0..<inputChannelsPerGroup {
            let plane = channels + c * height * width
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let valid = validColumns(tap: kx), first = valid.lowerBound * sx - geometry.padLeft + kx * geometry.dilationX
                    for oy in 0..<outputHeight {
                        let iy = inputRow(oy, tap: ky), target = row + oy * outputWidth
                        guard iy >= 0 && iy < height else {
                            target.update(repeating: 0, count: outputWidth)
                            continue
                        }
                        let source = plane + iy * width + first
                        for ox in 0..<valid.lowerBound { target[ox] = 0 }
                        let gathered = target + valid.lowerBound
                        for i in 0..<valid.count { gathered[i] = source[i &* sx] }
                        for ox in valid.upperBound..<outputWidth { target[ox] = 0 }
                    }
                    row += outputPlane
                }
            }
        }
    }

    /// col2im, the adjoint of `unfoldGeneral`: the patch gradients summed onto the group's
    /// input channels (which it overwrites).
    func foldGeneral(_ columns: UnsafePointer<Float>, into channels: UnsafeMutablePointer<Float>) {
        let kh = geometry.kernelHeight, kw = geometry.kernelWidth, sx = geometry.strideX
        channels.update(repeating: 0, count: inputChannelsPerGroup * height * width)
        var row = columns
        for c in 0..<inputChannelsPerGroup {
            let plane = channels + c * height * width
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let valid = validColumns(tap: kx), first = valid.lowerBound * sx - geometry.padLeft + kx * geometry.dilationX
                    for oy in 0..<outputHeight {
                        let iy = inputRow(oy, tap: ky)
                        guard iy >= 0 && iy < height else { continue }
                        let target = plane + iy * width + first, source = row + oy * outputWidth + valid.lowerBound
                        for i in 0..<valid.count { target[i &* sx] += source[i] }
                    }
                    row += outputPlane
                }
            }
        }
    }

    /// A depthwise convolution (one input channel per group, `outputChannelsPerGroup` outputs
    /// reading it): each output plane starts at its bias and gains each tap's weight times the
    /// shifted input plane.
    private func forwardDepthwise(_ b: LayerBuffers) {
        let inputCount = inputChannels * height * width, outputCount = outputChannels * outputPlane
        let taps = geometry.taps, multiplier = outputChannelsPerGroup
        for n in 0..<b.batch {
            for o in 0..<outputChannels {
                let out = b.output + n * outputCount + o * outputPlane
                out.update(repeating: bias ? b.parameters[outputChannels * taps + o] : 0, count: outputPlane)
                let plane = UnsafePointer(b.input + n * inputCount + (o / multiplier) * height * width)
                forEachTap(weights: b.parameters + o * taps) { weight, iy, oy, source, columns in
                    let target = out + oy * outputWidth + columns.lowerBound
                    let input = plane + iy * width + source
                    accumulate(weight, input, into: target, count: columns.count)
                }
            }
        }
    }

    /// The backward pass of `forwardDepthwise`: each tap's weight gradient is the dot product of
    /// the output gradient with the shifted input, and the input gradient gains the tap's
    /// weight times the output gradient, shifted back.
    private func backwardDepthwise(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        let inputCount = inputChannels * height * width, outputCount = outputChannels * outputPlane
        let taps = geometry.taps, multiplier = outputChannelsPerGroup, sx = geometry.strideX
        g.parameters.update(repeating: 0, count: outputChannels * taps + (bias ? outputChannels : 0))
        if let inputGradient = g.input { inputGradient.update(repeating: 0, count: b.batch * inputCount) }
        for n in 0..<b.batch {
            for o in 0..<outputChannels {
                let outGrad = UnsafePointer(g.output + n * outputCount + o * outputPlane)
                if bias { g.parameters[outputChannels * taps + o] += Kernels.sum(outGrad, count: outputPlane) }
                let channel = n * inputCount + (o / multiplier) * height * width
                let plane = UnsafePointer(b.input + channel), weightGradient = g.parameters + o * taps
                var tap = 0
                forEachTap(weights: b.parameters + o * taps) { weight, iy, oy, source, columns in
                    let gradient = outGrad + oy * outputWidth + columns.lowerBound
                    let input = plane + iy * width + source
                    var sum: Float = 0
                    for i in 0..<columns.count { sum += gradient[i] * input[i &* sx] }
                    weightGradient[tap] += sum
                    if let inputGradient = g.input {
                        let target = inputGradient + channel + iy * width + source
                        for i in 0..<columns.count { target[i &* sx] += weight * gradient[i] }
                    }
                } nextTap: { tap += 1 }
            }
        }
    }

    /// Calls `body` for every tap `(ky, kx)` of the kernel (in row-major order, `nextTap` after
    /// each) and every output row whose tap row falls inside the image, with the tap's weight,
    /// the input row, the output row, the input column of the first valid output column and the
    /// valid output columns.
    @inline(__always)
    private func forEachTap(weights: UnsafePointer<Float>,
                            _ body: (Float, Int, Int, Int, Range<Int>) -> Void, nextTap: () -> Void = {}) {
        let kw = geometry.kernelWidth
        for ky in 0..<geometry.kernelHeight {
            for kx in 0..<kw {
                let columns = validColumns(tap: kx)
                if !columns.isEmpty {
                    let source = columns.lowerBound * geometry.strideX - geometry.padLeft + kx * geometry.dilationX
                    for oy in 0..<outputHeight {
                        let iy = inputRow(oy, tap: ky)
                        if iy >= 0 && iy < height { body(weights[ky * kw + kx], iy, oy, source, columns) }
                    }
                }
                nextTap()
            }
        }
    }

    /// `target[i] += weight · input[i · strideX]` for `i < count`.
    @inline(__always)
    private func accumulate(_ weight: Float, _ input: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        let sx = geometry.strideX
        if sx == 1 {
            for i in 0..<count { target[i] += weight * input[i] }
        } else {
            for i in 0..<count { target[i] += weight * input[i &* sx] }
        }
    }
}
