/// Where a pooling layer's square windows lie: PyTorch's `kernel_size`, `stride`, `padding` and
/// `ceil_mode` (ONNX's `kernel_shape`, `strides`, `pads`, `ceil_mode`).
///
/// The output has `⌊(H + 2·padding − kernel) / stride⌋ + 1` rows, or the ceiling with
/// `ceilMode`, less one when the last window would start in the bottom padding (PyTorch's rule).
/// Windows are clipped to the input: a max-pool never picks a padding cell, an average divides by
/// the cells inside the input (`countIncludePad` false) or inside the padded input (true,
/// PyTorch's default for `AvgPool2d`).
public struct PoolingWindow: Sendable, Hashable {
    /// The window's side.
    public var kernel: Int
    /// The step between windows.
    public var stride: Int
    /// Cells of padding on every side (at most half the window, as PyTorch requires).
    public var padding: Int
    /// Whether the output size rounds up, so that windows may overhang the bottom and right.
    public var ceilMode: Bool

    /// - Parameters:
    ///   - kernel: the window's side.
    ///   - stride: the step between windows (the window's side by default).
    ///   - padding: cells of padding on every side.
    ///   - ceilMode: round the output size up.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.ceilMode = ceilMode
    }

    /// Whether the windows tile the input without padding or overhang (what the earlier versions
    /// and the 2×2 kernels know).
    public var isPlain: Bool { padding == 0 && !ceilMode }

    /// Output rows (or columns) for `size` input rows; `nil` when the padded input is smaller
    /// than a window.
    /// - Parameter size: the input's rows (or columns).
    public func outputSize(_ size: Int) -> Int? {
        let span = size + 2 * padding - kernel
        guard span >= 0, stride > 0 else { return nil }
        var count = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        if ceilMode && (count - 1) * stride >= size + padding { count -= 1 }
        return count
    }

    /// What is wrong with these numbers, if anything: kernel and stride 1…64, padding at most
    /// half the kernel.
    public var problem: String? {
        guard (1...64).contains(kernel), (1...64).contains(stride) else { return "kernel and stride must be 1…64, got \(kernel) and \(stride)" }
        guard padding >= 0, padding <= kernel / 2 else { return "padding must be 0…\(kernel / 2) (half the kernel), got \(padding)" }
        return nil
    }

    /// The input cells of the window at output index `index` along one axis: its start (maybe
    /// negative, in the padding) clipped to `0..<size`, and the window's length within the padded
    /// input (what an average that counts the padding divides by).
    @inline(__always)
    func cells(_ index: Int, size: Int) -> (range: Range<Int>, paddedLength: Int) {
        let start = index * stride - padding
        let end = min(start + kernel, size + padding)
        return (max(start, 0)..<min(end, size), end - start)
    }
}
