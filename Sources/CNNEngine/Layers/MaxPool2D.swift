import CNNKernels

/// Max pooling over square windows of NCHW feature maps, like PyTorch's `nn.MaxPool2d`
/// (no padding, floor mode).
///
/// Input `[C, H, W]`, output `[C, (H − k)/s + 1, (W − k)/s + 1]`. Keeps the position of each
/// window's maximum (the first one, in scan order, on ties — as PyTorch) for the backward pass.
public struct MaxPool2D: Layer {
    /// The side of the square pooling window.
    public var kernelSize: Int
    /// The step between windows (the window's side by default).
    public var stride: Int

    private var channels = 0, height = 0, width = 0, outputHeight = 0, outputWidth = 0

    /// - Parameters:
    ///   - kernelSize: side of the pooling window.
    ///   - stride: step between windows; defaults to the window size, as in PyTorch.
    public init(kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3, kernelSize > 0, stride > 0,
              inputShape[1] >= kernelSize, inputShape[2] >= kernelSize else {
            throw EngineError.shapeMismatch("MaxPool2D(\(kernelSize)): cannot pool input \(inputShape)")
        }
        channels = inputShape[0]
        height = inputShape[1]
        width = inputShape[2]
        outputHeight = (height - kernelSize) / stride + 1
        outputWidth = (width - kernelSize) / stride + 1
        return [channels, outputHeight, outputWidth]
    }

    public var scratchPerSample: Int { channels * outputHeight * outputWidth }
    public var spec: LayerSpec? { .maxPool(kernel: kernelSize, stride: stride) }

    public func forward(_ b: LayerBuffers) {
        if kernelSize == 2 && stride == 2 {
            forwardTwoByTwo(b, rectified: false)
            return
        }
        let inPlane = height * width, outPlane = outputHeight * outputWidth
        for plane in 0..<(b.batch * channels) {
            let src = b.input + plane * inPlane
            let dst = b.output + plane * outPlane
            let argmax = UnsafeMutableRawPointer(b.scratch + plane * outPlane).assumingMemoryBound(to: Int32.self)
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    var best = -Float.infinity
                    var bestIndex = (oy * stride) * width + ox * stride
                    for ky in 0..<kernelSize {
                        let rowStart = (oy * stride + ky) * width + ox * stride
                        for kx in 0..<kernelSize {
                            let v = src[rowStart &+ kx]
                            if v > best || v.isNaN { best = v; bestIndex = rowStart &+ kx }
                        }
                    }
                    dst[oy * outputWidth + ox] = best
                    argmax[oy * outputWidth + ox] = Int32(bestIndex)
                }
            }
        }
    }

    /// The common 2×2, stride-2 case: CNNKernels' `cnnk_maxpool2x2`, eight windows at a time
    /// without branches (data-dependent branches mispredict half the time on real
    /// activations), in AVX2 where the processor has it; the winners' positions only when a
    /// backward pass follows.
    private func forwardTwoByTwo(_ b: LayerBuffers, rectified: Bool) {
        let argmax: UnsafeMutablePointer<Int32>? = b.context.backwardFollows
            ? UnsafeMutableRawPointer(b.scratch).assumingMemoryBound(to: Int32.self) : nil
        cnnk_maxpool2x2(b.input, b.batch * channels, height, width, rectified ? 1 : 0, b.output, argmax, KernelBuild.avx2)
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        backward(b, gradients: g, rectified: false)
    }

    /// `ReLU` followed by this pooling, in one pass: `max(relu(x)) = relu(max(x))`, and the
    /// window's first maximum is the same in both orders whenever it is positive (otherwise no
    /// gradient flows either way). `b.input` is the ReLU's input; the output is the pooled,
    /// rectified map. Saves writing and re-reading the rectified map.
    public func forwardRectified(_ b: LayerBuffers) {
        if kernelSize == 2 && stride == 2 {
            forwardTwoByTwo(b, rectified: true)
            return
        }
        forward(b)
        let total = b.batch * channels * outputHeight * outputWidth
        for i in 0..<total { b.output[i] = max(b.output[i], 0) }
    }

    /// The backward pass of `forwardRectified`: writes the gradient with respect to the ReLU's input.
    public func backwardRectified(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        backward(b, gradients: g, rectified: true)
    }

    private func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers, rectified: Bool) {
        guard let inputGradient = g.input else { return }
        let inPlane = height * width, outPlane = outputHeight * outputWidth
        if kernelSize == 2 && stride == 2 {
            // Every cell written once, from its window's gradient and winner, eight windows at a
            // time: no clearing pass first (3 % of a SimpleCNN epoch) and no scattered stores.
            cnnk_maxpool2x2_backward(g.output, b.output, UnsafeRawPointer(b.scratch).assumingMemoryBound(to: Int32.self),
                                     b.batch * channels, height, width, rectified ? 1 : 0, inputGradient, KernelBuild.avx2)
            return
        }
        // Clear, then scatter each window's gradient to its winner.
        inputGradient.update(repeating: 0, count: b.batch * channels * inPlane)
        for plane in 0..<(b.batch * channels) {
            let src = g.output + plane * outPlane
            let pooled = b.output + plane * outPlane
            let dst = inputGradient + plane * inPlane
            let argmax = UnsafeMutableRawPointer(b.scratch + plane * outPlane).assumingMemoryBound(to: Int32.self)
            if rectified {
                for i in 0..<outPlane {
                    // A select, not a branch: the sign of a pooled value is a coin flip to the predictor.
                    let passes: Float = pooled[i] > 0 ? 1 : 0
                    dst[Int(argmax[i])] += src[i] * passes
                }
            } else {
                for i in 0..<outPlane { dst[Int(argmax[i])] += src[i] }
            }
        }
    }
}
