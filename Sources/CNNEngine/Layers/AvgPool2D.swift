/// Average pooling over square windows of NCHW feature maps, like PyTorch's `nn.AvgPool2d`
/// (no padding, floor mode).
///
/// Input `[C, H, W]`, output `[C, (H − k)/s + 1, (W − k)/s + 1]`; each output is the mean of
/// its `k × k` window.
public struct AvgPool2D: Layer {
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
            throw EngineError.shapeMismatch("AvgPool2D(\(kernelSize)): cannot pool input \(inputShape)")
        }
        channels = inputShape[0]
        height = inputShape[1]
        width = inputShape[2]
        outputHeight = (height - kernelSize) / stride + 1
        outputWidth = (width - kernelSize) / stride + 1
        return [channels, outputHeight, outputWidth]
    }

    public var spec: LayerSpec? { .avgPool(kernel: kernelSize, stride: stride) }

    public func forward(_ b: LayerBuffers) {
        let inPlane = height * width, outPlane = outputHeight * outputWidth
        let scale = 1 / Float(kernelSize * kernelSize)
        for plane in 0..<(b.batch * channels) {
            let src = b.input + plane * inPlane, dst = b.output + plane * outPlane
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    var sum: Float = 0
                    for ky in 0..<kernelSize {
                        let row = src + (oy * stride + ky) * width + ox * stride
                        for kx in 0..<kernelSize { sum += row[kx] }
                    }
                    dst[oy * outputWidth + ox] = sum * scale
                }
            }
        }
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        guard let inputGradient = g.input else { return }
        let inPlane = height * width, outPlane = outputHeight * outputWidth
        let scale = 1 / Float(kernelSize * kernelSize)
        inputGradient.update(repeating: 0, count: b.batch * channels * inPlane)
        for plane in 0..<(b.batch * channels) {
            let src = g.output + plane * outPlane, dst = inputGradient + plane * inPlane
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    let share = src[oy * outputWidth + ox] * scale
                    for ky in 0..<kernelSize {
                        let row = dst + (oy * stride + ky) * width + ox * stride
                        for kx in 0..<kernelSize { row[kx] += share }
                    }
                }
            }
        }
    }
}
