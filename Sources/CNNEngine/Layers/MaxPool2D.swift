import CNNKernels

/// Max pooling over square windows of NCHW feature maps, like PyTorch's `nn.MaxPool2d`: any
/// window, stride and padding, floor or ceil mode (`PoolingWindow`).
///
/// Input `[C, H, W]`, output `[C, (H − k)/s + 1, (W − k)/s + 1]` without padding in floor mode.
/// Keeps the position of each window's maximum (the first one, in scan order, on ties — as
/// PyTorch) for the backward pass. Padding cells are never picked (PyTorch pads with −∞).
public struct MaxPool2D: Layer {
    /// The windows: side, stride, padding, ceil mode.
    public var window: PoolingWindow

    private var channels = 0, height = 0, width = 0, outputHeight = 0, outputWidth = 0

    /// - Parameters:
    ///   - kernelSize: side of the pooling window.
    ///   - stride: step between windows; defaults to the window size, as in PyTorch.
    public init(kernelSize: Int, stride: Int? = nil) {
        self.init(PoolingWindow(kernel: kernelSize, stride: stride))
    }

    /// - Parameter window: the windows, with padding and ceil mode.
    public init(_ window: PoolingWindow) {
        self.window = window
    }

    /// The side of the pooling window.
    public var kernelSize: Int { window.kernel }
    /// The step between windows.
    public var stride: Int { window.stride }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3, window.problem == nil,
              let rows = window.outputSize(inputShape[1]), let columns = window.outputSize(inputShape[2]) else {
            throw EngineError.shapeMismatch("MaxPool2D(\(kernelSize)): cannot pool input \(inputShape)\(window.problem.map { ": " + $0 } ?? "")")
        }
        channels = inputShape[0]
        height = inputShape[1]
        width = inputShape[2]
        (outputHeight, outputWidth) = (rows, columns)
        return [channels, outputHeight, outputWidth]
    }

    public var scratchPerSample: Int { channels * outputHeight * outputWidth }
    public var spec: LayerSpec? { .maxPool(window) }

    /// Whether the 2×2, stride-2 kernels of CNNKernels run this layer.
    var isTwoByTwo: Bool { kernelSize == 2 && stride == 2 && window.isPlain }

    public func forward(_ b: LayerBuffers) {
        if isTwoByTwo {
            forwardTwoByTwo(b, rectified: false)
            return
        }
        let inPlane = height * width, outPlane = outputHeight * outputWidth
        for plane in 0..<(b.batch * channels) {
            let src = b.input + plane * inPlane
            let dst = b.output + plane * outPlane
            let argmax = UnsafeMutableRawPointer(b.scratch + plane * outPlane).assumingMemoryBound(to: Int32.self)
            for oy in 0..<outputHeight {
                let rows = window.cells(oy, size: height).range
                for ox in 0..<outputWidth {
                    let columns = window.cells(ox, size: width).range
                    var best = -Float.infinity
                    var bestIndex = rows.lowerBound * width + columns.lowerBound
                    for y in rows {
                        let rowStart = y * width
                        for x in columns {
                            let v = src[rowStart &+ x]
                            if v > best || v.isNaN { best = v; bestIndex = rowStart &+ x }
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
        if isTwoByTwo {
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
        if isTwoByTwo {
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
