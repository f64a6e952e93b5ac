/// Batch normalisation over the channels of NCHW feature maps, like PyTorch's `nn.BatchNorm2d`
/// (affine, tracking running statistics).
///
/// Input and output `[C, H, W]`. In training, each channel is normalised with the mean and the
/// biased variance of the whole batch (all workers' samples, combined through
/// `PassContext.allReduce`), then scaled by `weight` and shifted by `bias`; afterwards
/// `updateState` moves the running mean and the *unbiased* running variance towards the batch's
/// with momentum 0.1 and counts the batch in `num_batches_tracked`. In inference the running
/// statistics normalise instead. `eps` = 1e-5, as PyTorch.
///
/// Parameters: `weight` `[C]` (starts at 1) and `bias` `[C]` (0). State: `running_mean` `[C]`,
/// `running_var` `[C]`, `num_batches_tracked` `[]` (an I64 scalar in checkpoints).
public struct BatchNorm2D: Layer {
    public var name: String
    /// Channels; bound by `prepare` when not given.
    public var channels: Int
    /// Added to the variance before the square root, for stability (PyTorch's `eps`).
    public var epsilon: Float
    /// How far each training step moves the running statistics towards the batch's (PyTorch's `momentum`).
    public var momentum: Float

    private var plane = 0

    /// - Parameters:
    ///   - name: the prefix of the tensors' checkpoint names (`bn1`, `features.1`).
    ///   - channels: channels of the feature maps; 0 takes them from the input shape.
    ///   - epsilon: added to the variance before the square root.
    ///   - momentum: weight of the new batch in the running statistics.
    public init(name: String, channels: Int = 0, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.name = name
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public mutating func prepare(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3, channels == 0 || inputShape[0] == channels else {
            throw EngineError.shapeMismatch("\(name): expects [\(channels == 0 ? "C" : String(channels)), H, W] input, got \(inputShape)")
        }
        channels = inputShape[0]
        plane = inputShape[1] * inputShape[2]
        return inputShape
    }

    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec(name: "weight", shape: [channels], fanIn: 1, initializer: .ones),
         ParameterSpec(name: "bias", shape: [channels], fanIn: 1, initializer: .zeros)]
    }

    public var stateSpecs: [ParameterSpec] {
        [ParameterSpec(name: "running_mean", shape: [channels], fanIn: 1, initializer: .zeros),
         ParameterSpec(name: "running_var", shape: [channels], fanIn: 1, initializer: .ones),
         ParameterSpec(name: "num_batches_tracked", shape: [], fanIn: 1, initializer: .zeros, isInteger: true)]
    }

    /// Batch mean, biased variance and inverse standard deviation per channel.
    public var keptPerBatch: Int { 3 * channels }
    /// Room for `2 · channels` Doubles: the sums reduced across workers.
    public var scratchPerBatch: Int { 4 * channels }
    public var reductionCapacity: Int { 2 * channels }
    public var spec: LayerSpec? { .batchNorm(name: name) }

    public func forward(_ b: LayerBuffers) {
        let weight = b.parameters, bias = b.parameters + channels
        let count = channels, plane = self.plane
        if !b.context.training {
            // Each channel's affine map once, then one pass in memory order.
            let mean = b.state, variance = b.state + count
            let scales = b.scratch, shifts = b.scratch + count
            for c in 0..<count {
                let inverse = 1 / (variance[c] + epsilon).squareRoot()
                scales[c] = weight[c] * inverse
                shifts[c] = bias[c] - mean[c] * scales[c]
            }
            for n in 0..<b.batch {
                for c in 0..<count {
                    let offset = (n * count + c) * plane, scale = scales[c], shift = shifts[c]
                    let x = b.input + offset, y = b.output + offset
                    for i in 0..<plane { y[i] = x[i] * scale + shift }
                }
            }
            return
        }
        // Two passes, each summed over this worker's samples and then over the whole batch: the
        // mean, then the centred squares (E[x²] − m² would cancel badly when |m| ≫ σ).
        let sums = UnsafeMutableRawPointer(b.scratch).assumingMemoryBound(to: Double.self)
        for c in 0..<count {
            var s = 0.0
            for n in 0..<b.batch { s += BatchNorm2D.sum(b.input + (n * count + c) * plane, count: plane) }
            sums[c] = s
        }
        b.context.allReduce(sums, count: count)
        let observations = Double(b.context.batchTotal * plane)
        let mean = b.kept, variance = b.kept + count, inverse = b.kept + 2 * count
        for c in 0..<count { mean[c] = Float(sums[c] / observations) }
        for c in 0..<count {
            var q = 0.0
            for n in 0..<b.batch { q += BatchNorm2D.centredSquares(b.input + (n * count + c) * plane, mean: mean[c], count: plane) }
            sums[c] = q
        }
        b.context.allReduce(sums, count: count)
        for c in 0..<count {
            let v = sums[c] / observations
            variance[c] = Float(v)
            inverse[c] = Float(1 / (v + Double(epsilon)).squareRoot())
        }
        for c in 0..<count {
            let scale = weight[c] * inverse[c], shift = bias[c] - mean[c] * scale
            for n in 0..<b.batch {
                let offset = (n * count + c) * plane
                let x = b.input + offset, y = b.output + offset
                for i in 0..<plane { y[i] = x[i] * scale + shift }
            }
        }
    }

    public func backward(_ b: LayerBuffers, gradients g: LayerGradientBuffers) {
        let count = channels, plane = self.plane
        let weight = b.parameters
        let weightGradient = g.parameters, biasGradient = g.parameters + count
        let training = b.context.training
        let sums = UnsafeMutableRawPointer(b.scratch).assumingMemoryBound(to: Double.self)
        // mean and 1/σ of the normalisation that the forward pass used.
        let mean = training ? UnsafePointer(b.kept) : UnsafePointer(b.state)
        for c in 0..<count {
            let m = mean[c]
            let inverse = training ? b.kept[2 * count + c] : 1 / (b.state[count + c] + epsilon).squareRoot()
            var sumGradient = 0.0, sumProduct = 0.0
            for n in 0..<b.batch {
                let offset = (n * count + c) * plane
                let (s, p) = BatchNorm2D.gradientSums(g.output + offset, b.input + offset, mean: m, count: plane)
                sumGradient += s
                sumProduct += p
            }
            // Σ dy·x̂ = Σ dy·(x − m) / σ.
            let product = sumProduct * Double(inverse)
            weightGradient[c] = Float(product)
            biasGradient[c] = Float(sumGradient)
            sums[2 * c] = sumGradient
            sums[2 * c + 1] = product
        }
        // Every worker takes part in the reduction, whether or not it needs the input gradient.
        if training { b.context.allReduce(sums, count: 2 * count) }
        guard let inputGradient = g.input else { return }
        let observations = Float(b.context.batchTotal * plane)
        for c in 0..<count {
            let m = mean[c]
            let inverse = training ? b.kept[2 * count + c] : 1 / (b.state[count + c] + epsilon).squareRoot()
            let gain = weight[c] * inverse
            if training {
                // dx = γ/σ · (dy − Σdy/n − x̂ · Σ(dy·x̂)/n), as one affine map of dy and x per
                // channel: dx = gain·dy + slope·x + shift, with the constants folded once.
                let meanGradient = Float(sums[2 * c]) / observations
                let meanProduct = Float(sums[2 * c + 1]) / observations
                let slope = -gain * inverse * meanProduct
                let shift = gain * (m * inverse * meanProduct - meanGradient)
                for n in 0..<b.batch {
                    let offset = (n * count + c) * plane
                    let dy = g.output + offset, x = b.input + offset, dx = inputGradient + offset
                    for i in 0..<plane { dx[i] = gain * dy[i] + (slope * x[i] + shift) }
                }
            } else {
                for n in 0..<b.batch {
                    let offset = (n * count + c) * plane
                    let dy = g.output + offset, dx = inputGradient + offset
                    for i in 0..<plane { dx[i] = gain * dy[i] }
                }
            }
        }
    }

    public func updateState(_ state: UnsafeMutablePointer<Float>, kept: UnsafePointer<Float>, batch: Int) {
        let count = channels
        let n = Float(batch * plane)
        let correction = n > 1 ? n / (n - 1) : 1
        for c in 0..<count {
            state[c] = (1 - momentum) * state[c] + momentum * kept[c]
            state[count + c] = (1 - momentum) * state[count + c] + momentum * kept[count + c] * correction
        }
        state[2 * count] += 1
    }

    /// `Σ x` of a plane: eight Float lanes, combined in Double.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var s = SIMD8<Float>()
        let raw = UnsafeRawPointer(x)
        let vectors = count / 8
        for i in 0..<vectors { s += raw.loadUnaligned(fromByteOffset: i * 32, as: SIMD8<Float>.self) }
        var total = Double(s.sum())
        for i in (vectors * 8)..<count { total += Double(x[i]) }
        return total
    }

    /// `Σ (x − mean)²` of a plane: eight Float lanes, combined in Double.
    @inline(__always)
    static func centredSquares(_ x: UnsafePointer<Float>, mean: Float, count: Int) -> Double {
        var q = SIMD8<Float>()
        let m = SIMD8<Float>(repeating: mean)
        let raw = UnsafeRawPointer(x)
        let vectors = count / 8
        for i in 0..<vectors {
            let d = raw.loadUnaligned(fromByteOffset: i * 32, as: SIMD8<Float>.self) - m
            q += d * d
        }
        var total = Double(q.sum())
        for i in (vectors * 8)..<count {
            let d = Double(x[i] - mean)
            total += d * d
        }
        return total
    }

    /// `Σ dy` and `Σ dy·(x − mean)` of a plane (centred, for accuracy): eight Float lanes,
    /// combined in Double.
    @inline(__always)
    static func gradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mean: Float, count: Int) -> (Double, Double) {
        var s = SIMD8<Float>(), p = SIMD8<Float>()
        let m = SIMD8<Float>(repeating: mean)
        let rawGradient = UnsafeRawPointer(dy), rawInput = UnsafeRawPointer(x)
        let vectors = count / 8
        for i in 0..<vectors {
            let d = rawGradient.loadUnaligned(fromByteOffset: i * 32, as: SIMD8<Float>.self)
            let v = rawInput.loadUnaligned(fromByteOffset: i * 32, as: SIMD8<Float>.self)
            s += d
            p += d * (v - m)
        }
        var total = Double(s.sum()), product = Double(p.sum())
        for i in (vectors * 8)..<count {
            total += Double(dy[i])
            product += Double(dy[i]) * Double(x[i] - mean)
        }
        return (total, product)
    }
}
