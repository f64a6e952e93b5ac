/// A fully connected layer `y = x·Wᵀ + b`, like PyTorch's `nn.Linear`.
///
/// Input `[inputFeatures]` per sample, output `[outputFeatures]`. Parameters: `weight`
/// `[outputFeatures, inputFeatures]` and `bias` `[outputFeatures]`. One matrix product per batch.
public struct Linear: Layer {
    public var name: String
    /// Features of the input.
    public var inputFeatures: Int
    /// Features of the output.
    public var outputFeatures: Int

    /// - Parameters:
    ///   - name: the prefix of the parameters' checkpoint names (`fc1`).
    ///   - inputFeatures: length of each input vector.
    ///   - outputFeatures: length of each output vector.
    public init(name: String, inputFeatures: Int, outputFeatures: Int) {
        self.name = name
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
    }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard inputShape == [inputFeatures], outputFeatures > 0 else {
            throw EngineError.shapeMismatch("\(name): expects [\(inputFeatures)] input, got \(inputShape)")
        }
        return [outputFeatures]
    }

    public var parameterSpecs: [ParameterSpec] {
        [
            ParameterSpec(name: "weight", shape: [outputFeatures, inputFeatures], fanIn: inputFeatures),
            ParameterSpec(name: "bias", shape: [outputFeatures], fanIn: inputFeatures),
        ]
    }

    public var spec: LayerSpec? { .linear(name: name, outputFeatures: outputFeatures) }

    public func forward(_ b: LayerBuffers) {
        let bias = b.parameters + outputFeatures * inputFeatures
        for n in 0..<b.batch {
            (b.output + n * outputFeatures).update(from: bias, count: outputFeatures)
        }
        BLAS.gemm(transposeA: false, transposeB: true, m: b.batch, n: outputFeatures, k: inputFeatures,
                  a: b.input, lda: inputFeatures, b: b.parameters, ldb: inputFeatures,
                  beta: 1, c: b.output, ldc: outputFeatures)
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        BLAS.gemm(transposeA: true, transposeB: false, m: outputFeatures, n: inputFeatures, k: b.batch,
                  a: g.output, lda: outputFeatures, b: b.input, ldb: inputFeatures,
                  beta: 0, c: g.parameters, ldc: inputFeatures)
        let biasGradient = g.parameters + outputFeatures * inputFeatures
        biasGradient.update(repeating: 0, count: outputFeatures)
        for n in 0..<b.batch {
            let row = g.output + n * outputFeatures
            for j in 0..<outputFeatures { biasGradient[j] += row[j] }
        }
        if let inputGradient = g.input {
            BLAS.gemm(transposeA: false, transposeB: false, m: b.batch, n: inputFeatures, k: outputFeatures,
                      a: g.output, lda: outputFeatures, b: b.parameters, ldb: inputFeatures,
                      beta: 0, c: inputGradient, ldc: inputFeatures)
        }
    }
}
