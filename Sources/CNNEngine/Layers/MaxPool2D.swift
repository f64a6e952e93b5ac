/// Max pooling over square windows of NCHW feature maps, like PyTorch's `nn.MaxPool2d`
/// (no padding, floor mode).
///
/// Input `[C, H, W]`, output `[C, (H − k)/s + 1, (W − k)/s + 1]`. Keeps the position of each
/// window's maximum (the first one, in scan order, on ties — as PyTorch) for the backward pass.
public struct MaxPool2D: Layer {
    public var kernelSize: Int
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

    public func forward(_ b: LayerBuffers) {
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
                            let v = src[rowStart + kx]
                            if v > best || v.isNaN { best = v; bestIndex = rowStart + kx }
                        }
                    }
                    dst[oy * outputWidth + ox] = best
                    argmax[oy * outputWidth + ox] = Int32(bestIndex)
                }
            }
        }
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        guard let inputGradient = g.input else { return }
        let inPlane = height * width, outPlane = outputHeight * outputWidth
        inputGradient.update(repeating: 0, count: b.batch * channels * inPlane)
        for plane in 0..<(b.batch * channels) {
            let src = g.output + plane * outPlane
            let dst = inputGradient + plane * inPlane
            let argmax = UnsafeMutableRawPointer(b.scratch + plane * outPlane).assumingMemoryBound(to: Int32.self)
            for i in 0..<outPlane { dst[Int(argmax[i])] += src[i] }
        }
    }
}
