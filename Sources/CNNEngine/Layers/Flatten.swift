/// Flattens each sample to a vector in row-major order: `[C, H, W]` → `[C·H·W]`, exactly
/// PyTorch's `x.view(-1, C*H*W)` on NCHW, so `fc1.weight` columns line up with PyTorch's.
public struct Flatten: Layer {
    private var count = 0

    /// A flatten layer; it has no parameters.
    public init() {}

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        count = inputShape.reduce(1, *)
        return [count]
    }

    public var spec: LayerSpec? { .flatten }

    public func forward(_ b: LayerBuffers) {
        b.output.update(from: b.input, count: b.batch * count)
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        g.input?.update(from: g.output, count: b.batch * count)
    }
}
