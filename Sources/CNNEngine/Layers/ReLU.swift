/// The rectifier `max(0, x)`, elementwise, on any shape.
public struct ReLU: Layer {
    private var count = 0

    /// A rectifier; it has no parameters.
    public init() {}

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        count = inputShape.reduce(1, *)
        return inputShape
    }

    public var spec: LayerSpec? { .relu }

    public func forward(_ b: LayerBuffers) {
        let total = b.batch * count
        let input = b.input, output = b.output
        for i in 0..<total { output[i] = max(input[i], 0) }
    }

    /// The gradient passes where the input was positive (PyTorch's choice at 0: none).
    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        guard let inputGradient = g.input else { return }
        let total = b.batch * count
        let input = b.input, output = g.output
        for i in 0..<total {
            let passes: Float = input[i] > 0 ? 1 : 0
            inputGradient[i] = output[i] * passes
        }
    }
}
