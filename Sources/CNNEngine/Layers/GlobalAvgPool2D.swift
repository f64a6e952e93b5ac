/// The mean of each channel over all positions, like PyTorch's `adaptive_avg_pool2d(x, 1)`:
/// input `[C, H, W]`, output `[C, 1, 1]`.
public struct GlobalAvgPool2D: Layer {
    private var channels = 0, plane = 0

    /// A global average pool; it has no parameters.
    public init() {}

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw EngineError.shapeMismatch("GlobalAvgPool2D: expects [C, H, W] input, got \(inputShape)")
        }
        channels = inputShape[0]
        plane = inputShape[1] * inputShape[2]
        return [channels, 1, 1]
    }

    public var spec: LayerSpec? { .globalAvgPool }

    public func forward(_ b: LayerBuffers) {
        let scale = 1 / Float(plane)
        for i in 0..<(b.batch * channels) {
            let src = b.input + i * plane
            var sum: Float = 0
            for j in 0..<plane { sum += src[j] }
            b.output[i] = sum * scale
        }
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        guard let inputGradient = g.input else { return }
        let scale = 1 / Float(plane)
        for i in 0..<(b.batch * channels) {
            let share = g.output[i] * scale
            (inputGradient + i * plane).update(repeating: share, count: plane)
        }
    }
}
