/// Where a convolution's kernel reads, along each axis: the kernel's height and width, the step
/// between positions, the zero padding on each side and the dilation, as PyTorch's
/// `nn.Conv2d` (`kernel_size`, `stride`, `padding`, `dilation` as pairs) and ONNX's `Conv`
/// (`kernel_shape`, `strides`, `pads`, `dilations`) give them.
///
/// Padding may differ between the two sides of an axis (ONNX's `pads` as
/// `[top, left, bottom, right]`; `auto_pad` SAME_UPPER with an even kernel). A dilation `d`
/// spaces the kernel's taps `d` pixels apart, so a `k`-tap axis spans `d·(k − 1) + 1` pixels.
/// The output of an `H`-row input has `⌊(H + top + bottom − d·(k − 1) − 1) / s⌋ + 1` rows.
public struct ConvolutionGeometry: Sendable, Hashable {
    /// Rows of the kernel.
    public var kernelHeight: Int
    /// Columns of the kernel.
    public var kernelWidth: Int
    /// Rows between two output rows' windows.
    public var strideY: Int
    /// Columns between two output columns' windows.
    public var strideX: Int
    /// Zero rows above the input.
    public var padTop: Int
    /// Zero columns left of the input.
    public var padLeft: Int
    /// Zero rows below the input.
    public var padBottom: Int
    /// Zero columns right of the input.
    public var padRight: Int
    /// Rows between two vertically adjacent taps (1: adjacent pixels).
    public var dilationY: Int
    /// Columns between two horizontally adjacent taps.
    public var dilationX: Int

    /// A square kernel with the same stride and padding on every side, undilated: every
    /// convolution of the SimpleCNN, VGG and the CIFAR ResNets.
    /// - Parameters:
    ///   - kernel: the kernel's side.
    ///   - stride: the step between positions along both axes.
    ///   - padding: zeros on every side.
    public init(kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.init(kernelHeight: kernel, kernelWidth: kernel, strideY: stride, strideX: stride,
                  padTop: padding, padLeft: padding, padBottom: padding, padRight: padding)
    }

    /// Any geometry.
    /// - Parameters:
    ///   - kernelHeight: rows of the kernel.
    ///   - kernelWidth: columns of the kernel.
    ///   - strideY: the vertical step.
    ///   - strideX: the horizontal step.
    ///   - padTop: zero rows above.
    ///   - padLeft: zero columns on the left.
    ///   - padBottom: zero rows below.
    ///   - padRight: zero columns on the right.
    ///   - dilationY: the vertical spacing of the taps.
    ///   - dilationX: the horizontal spacing of the taps.
    public init(kernelHeight: Int, kernelWidth: Int, strideY: Int = 1, strideX: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                dilationY: Int = 1, dilationX: Int = 1) {
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
        self.dilationY = dilationY
        self.dilationX = dilationX
    }

    /// Whether the kernel is square, with one stride, one padding on every side and no dilation:
    /// the geometry `init(kernel:stride:padding:)` makes, which the fast paths of `Conv2D`
    /// (Winograd, shifted rows, the direct 3×3 kernel) and the classic architecture JSON
    /// (`"kernel": 3, "stride": 1, "padding": 1`) are written for.
    public var isUniform: Bool {
        kernelHeight == kernelWidth && strideY == strideX && dilationY == 1 && dilationX == 1
            && padTop == padLeft && padTop == padBottom && padTop == padRight
    }

    /// Taps per window, `kernelHeight · kernelWidth`.
    public var taps: Int { kernelHeight * kernelWidth }

    /// Rows the kernel spans, `dilationY · (kernelHeight − 1) + 1`.
    public var spanY: Int { dilationY * (kernelHeight - 1) + 1 }
    /// Columns the kernel spans, `dilationX · (kernelWidth − 1) + 1`.
    public var spanX: Int { dilationX * (kernelWidth - 1) + 1 }

    /// The output plane of an input plane of `height` × `width`: `nil` when the (padded) input is
    /// smaller than the kernel's span along an axis.
    /// - Parameters:
    ///   - height: the input's rows.
    ///   - width: the input's columns.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int)? {
        let rows = height + padTop + padBottom - spanY, columns = width + padLeft + padRight - spanX
        guard rows >= 0, columns >= 0, strideY > 0, strideX > 0 else { return nil }
        return (rows / strideY + 1, columns / strideX + 1)
    }

    /// What is wrong with these numbers, if anything: every size and step 1…64, paddings 0…64,
    /// as the architecture files allow.
    public var problem: String? {
        let sizes = [kernelHeight, kernelWidth, strideY, strideX, dilationY, dilationX]
        let pads = [padTop, padLeft, padBottom, padRight]
        guard sizes.allSatisfy({ (1...64).contains($0) }), pads.allSatisfy({ (0...64).contains($0) }) else {
            if isUniform {
                return "kernel and stride must be 1…64 and padding 0…64, got kernel \(kernelHeight), stride \(strideY), padding \(padTop)"
            }
            return "kernel, stride and dilation must be 1…64 and padding 0…64, got \(self)"
        }
        return nil
    }
}

extension ConvolutionGeometry: CustomStringConvertible {
    /// `3×3` for a uniform kernel with stride 1 and no padding; otherwise the kernel followed by
    /// whatever differs from the default: `kernel 1×7, stride 2×1, padding 0,3,0,3, dilation 2×2`.
    public var description: String {
        var parts = ["kernel \(kernelHeight)×\(kernelWidth)"]
        if strideY != 1 || strideX != 1 { parts.append("stride \(strideY)×\(strideX)") }
        if padTop != 0 || padLeft != 0 || padBottom != 0 || padRight != 0 { parts.append("padding \(padTop),\(padLeft),\(padBottom),\(padRight)") }
        if dilationY != 1 || dilationX != 1 { parts.append("dilation \(dilationY)×\(dilationX)") }
        return parts.joined(separator: ", ")
    }
}
