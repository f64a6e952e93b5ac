/// Inverted dropout, like PyTorch's `nn.Dropout`: in training each element is zeroed with
/// probability `probability` and the survivors are scaled by `1/(1 − probability)`; in
/// inference the input passes unchanged.
///
/// The mask is a pure function of (`seed`, the training step, the sample's index in the batch,
/// the element), so a run is reproducible whatever the number of worker threads.
public struct Dropout: Layer {
    /// The probability of zeroing an element, in `0..<1`.
    public var probability: Float
    /// Mixed into every mask draw.
    public var seed: UInt64

    private var count = 0

    /// Dropout that zeroes elements with `probability`, its masks drawn from `seed`.
    public init(probability: Float = 0.5, seed: UInt64 = 0) {
        self.probability = probability
        self.seed = seed
    }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard probability >= 0, probability < 1 else {
            throw EngineError.shapeMismatch("Dropout: probability must be in [0, 1), got \(probability)")
        }
        count = inputShape.reduce(1, *)
        return inputShape
    }

    /// The mask of the last training pass (0 or the survivors' scale), for the backward pass.
    public var scratchPerSample: Int { count }
    public var spec: LayerSpec? { .dropout(probability: probability) }

    public func forward(_ b: LayerBuffers) {
        let total = b.batch * count
        guard b.context.training, probability > 0 else {
            b.output.update(from: b.input, count: total)
            return
        }
        let scale = 1 / (1 - probability)
        // Draws compare 24-bit uniforms, so `probability` is honoured to 2⁻²⁴.
        let threshold = UInt32((Double(probability) * Double(1 << 24)).rounded())
        let stepKey = Dropout.mix(seed ^ Dropout.mix(b.context.step &+ 0x9E37_79B9_7F4A_7C15))
        for n in 0..<b.batch {
            let sampleKey = Dropout.mix(stepKey ^ UInt64(b.context.sampleOffset + n))
            let mask = b.scratch + n * count, x = b.input + n * count, y = b.output + n * count
            for i in 0..<count {
                let draw = UInt32(truncatingIfNeeded: Dropout.mix(sampleKey &+ UInt64(i)) >> 40)
                let keep: Float = draw >= threshold ? scale : 0
                mask[i] = keep
                y[i] = x[i] * keep
            }
        }
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        guard let inputGradient = g.input else { return }
        let total = b.batch * count
        guard b.context.training, probability > 0 else {
            inputGradient.update(from: g.output, count: total)
            return
        }
        for i in 0..<total { inputGradient[i] = g.output[i] * b.scratch[i] }
    }

    /// SplitMix64's finaliser: a bijective mix of 64 bits.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
