/// Average pooling over square windows of NCHW feature maps, like PyTorch's `nn.AvgPool2d`:
/// any window, stride and padding, floor or ceil mode (`PoolingWindow`), and PyTorch's
/// `count_include_pad`.
///
/// Input `[C, H, W]`, output `[C, (H − k)/s + 1, (W − k)/s + 1]` without padding in floor mode;
/// each output is the sum of its window's cells inside the input divided by their number, or,
/// with `countIncludePad`, by the window's cells inside the padded input.
public struct AvgPool2D: Layer {
    /// The windows: side, stride, padding, ceil mode.
    public var window: PoolingWindow
    /// Whether padding cells count in the divisor (PyTorch's default).
    public var countIncludePad: Bool

    private var channels = 0, height = 0, width = 0, outputHeight = 0, outputWidth = 0

    /// - Parameters:
    ///   - kernelSize: side of the pooling window.
    ///   - stride: step between windows; defaults to the window size, as in PyTorch.
    public init(kernelSize: Int, stride: Int? = nil) {
        self.init(PoolingWindow(kernel: kernelSize, stride: stride))
    }

    /// - Parameters:
    ///   - window: the windows, with padding and ceil mode.
    ///   - countIncludePad: divide by the window's cells in the padded input (PyTorch's default),
    ///     not only those in the input.
    public init(_ window: PoolingWindow, countIncludePad: Bool = true) {
        self.window = window
        self.countIncludePad = countIncludePad
    }

    /// The side of the pooling window.
    public var kernelSize: Int { window.kernel }
    /// The step between windows.
    public var stride: Int { window.stride }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3, window.problem == nil,
              let rows = window.outputSize(inputShape[1]), let columns = window.outputSize(inputShape[2]) else {
            throw EngineError.shapeMismatch("AvgPool2D(\(kernelSize)): cannot pool input \(inputShape)\(window.problem.map { ": " + $0 } ?? "")")
        }
        channels = inputShape[0]
        height = inputShape[1]
        width = inputShape[2]
        (outputHeight, outputWidth) = (rows, columns)
        return [channels, outputHeight, outputWidth]
    }

    public var spec: LayerSpec? { .avgPool(window, countIncludePad: countIncludePad) }

    /// The window at `(oy, ox)`: its input rows and columns, and the reciprocal of its divisor.
    @inline(__always)
    private func cells(_ oy: Int, _ ox: Int) -> (rows: Range<Int>, columns: Range<Int>, scale: Float) {
        let (rows, paddedRows) = window.cells(oy, size: height), (columns, paddedColumns) = window.cells(ox, size: width)
        let count = countIncludePad ? paddedRows * paddedColumns : rows.count * columns.count
        return (rows, columns, 1 / Float(max(count, 1)))
    }

    public func forward(_ b: LayerBuffers) {
        let inPlane = height * width, outPlane = outputHeight * outputWidth
        for plane in 0..<(b.batch * channels) {
            let src = b.input + plane * inPlane, dst = b.output + plane * outPlane
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    let (rows, columns, scale) = cells(oy, ox)
                    var sum: Float = 0
                    for y in rows {
                        let row = src + y * width
                        for x in columns { sum += row[x] }
                    }
                    dst[oy * outputWidth + ox] = sum * scale
                }
            }
        }
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        guard let inputGradient = g.input else { return }
        let inPlane = height * width, outPlane = outputHeight * outputWidth
        inputGradient.update(repeating: 0, count: b.batch * channels * inPlane)
        for plane in 0..<(b.batch * channels) {
            let src = g.output + plane * outPlane, dst = inputGradient + plane * inPlane
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    let (rows, columns, scale) = cells(oy, ox)
                    let share = src[oy * outputWidth + ox] * scale
                    for y in rows {
                        let row = dst + y * width
                        for x in columns { row[x] += share }
                    }
                }
            }
        }
    }
}
