import CNNEngine

/// Per-unit sums of a layer's output over calibration images and positions — everything the
/// data-driven criteria need, gathered in one pass.
///
/// The sums are over the layer's output *before* the ReLU (the pre-activation `z`), over all
/// `samples × positionsPerUnit` observations of each unit (each image's plane summed in eight
/// Float lanes, everything else in Double):
/// `Σ z`, `Σ max(z, 0)`, the number of `z ≤ 0` (zeros after the ReLU), and — when gradients were
/// computed — `Σ z · ∂L/∂z` with `L` each image's own cross-entropy loss.
public struct UnitStatistics: Sendable, Equatable {
    /// Images seen.
    public var samples: Int
    /// Positions per unit per image (`H × W`, or 1 for a `Linear` layer).
    public var positionsPerUnit: Int
    /// `Σ z` per unit.
    public var sum: [Double]
    /// `Σ max(z, 0)` per unit.
    public var rectifiedSum: [Double]
    /// How many `z ≤ 0` per unit, i.e. zeros after the ReLU.
    public var zeroCount: [Int]
    /// `Σ z · ∂L/∂z` per unit, or `nil` when no gradients were computed. Since
    /// `∂L/∂z = ∂L/∂a · [z > 0]` for `a = max(z, 0)`, this equals `Σ a · ∂L/∂a` after the ReLU.
    public var gradientProductSum: [Double]?

    /// Zero sums for `units` units.
    public init(units: Int, positionsPerUnit: Int, withGradients: Bool) {
        samples = 0
        self.positionsPerUnit = positionsPerUnit
        sum = [Double](repeating: 0, count: units)
        rectifiedSum = sum
        zeroCount = [Int](repeating: 0, count: units)
        gradientProductSum = withGradients ? sum : nil
    }

    /// The number of units.
    public var unitCount: Int { sum.count }
    /// Observations per unit: `samples × positionsPerUnit`.
    public var observations: Int { samples * positionsPerUnit }

    /// Mean pre-activation per unit.
    public var mean: [Double] { sum.map { $0 / Double(max(observations, 1)) } }
    /// Mean post-ReLU activation per unit.
    public var rectifiedMean: [Double] { rectifiedSum.map { $0 / Double(max(observations, 1)) } }
    /// Fraction of zeros after the ReLU per unit (APoZ), in 0…1.
    public var zeroFraction: [Double] { zeroCount.map { Double($0) / Double(max(observations, 1)) } }

    /// Adds `batch` images' pre-activations (`[batch, units, positions]`, sample-major) and,
    /// when gathering gradients, the loss gradients with respect to them (same layout).
    public mutating func add(batch: Int, preActivations: UnsafePointer<Float>, gradients: UnsafePointer<Float>? = nil) {
        let units = unitCount, positions = positionsPerUnit
        let withGradients = gradients != nil && gradientProductSum != nil
        var products = gradientProductSum ?? []
        for n in 0..<batch {
            for unit in 0..<units {
                let offset = (n * units + unit) * positions
                let (s, r, zeros) = UnitStatistics.planeSums(preActivations + offset, count: positions)
                sum[unit] += s
                rectifiedSum[unit] += r
                zeroCount[unit] += zeros
                if withGradients {
                    products[unit] += UnitStatistics.dot(preActivations + offset, gradients! + offset, count: positions)
                }
            }
        }
        if withGradients { gradientProductSum = products }
        samples += batch
    }

    /// `Σ z`, `Σ max(z, 0)` and the number of `z ≤ 0` over one plane: eight Float lanes (each
    /// summing at most `count / 8` values), combined in Double.
    @inline(__always)
    static func planeSums(_ plane: UnsafePointer<Float>, count: Int) -> (Double, Double, Int) {
        var s = SIMD8<Float>(), r = SIMD8<Float>(), zeros = SIMD8<Int32>()
        let raw = UnsafeRawPointer(plane)
        let vectors = count / 8
        for i in 0..<vectors {
            let z = raw.loadUnaligned(fromByteOffset: i * 32, as: SIMD8<Float>.self)
            s += z
            r += pointwiseMax(z, .zero)
            zeros &+= SIMD8<Int32>(repeating: 0).replacing(with: 1, where: z .<= 0)
        }
        var sum = 0.0, rectified = 0.0, zeroCount = Int(zeros.wrappedSum())
        for lane in 0..<8 {
            sum += Double(s[lane])
            rectified += Double(r[lane])
        }
        for i in (vectors * 8)..<count {
            let z = Double(plane[i])
            sum += z
            rectified += max(z, 0)
            zeroCount += z <= 0 ? 1 : 0
        }
        return (sum, rectified, zeroCount)
    }

    /// `Σ a·b` over `count` values, with the same lanes as `planeSums`.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        var p = SIMD8<Float>()
        let vectors = count / 8
        for i in 0..<vectors {
            p += UnsafeRawPointer(a).loadUnaligned(fromByteOffset: i * 32, as: SIMD8<Float>.self)
                * UnsafeRawPointer(b).loadUnaligned(fromByteOffset: i * 32, as: SIMD8<Float>.self)
        }
        var total = 0.0
        for lane in 0..<8 { total += Double(p[lane]) }
        for i in (vectors * 8)..<count { total += Double(a[i]) * Double(b[i]) }
        return total
    }

    /// Adds the sums of another part of the data.
    public mutating func merge(_ other: UnitStatistics) {
        precondition(other.unitCount == unitCount && other.positionsPerUnit == positionsPerUnit)
        samples += other.samples
        for u in 0..<unitCount {
            sum[u] += other.sum[u]
            rectifiedSum[u] += other.rectifiedSum[u]
            zeroCount[u] += other.zeroCount[u]
        }
        if var mine = gradientProductSum, let theirs = other.gradientProductSum {
            for u in 0..<unitCount { mine[u] += theirs[u] }
            gradientProductSum = mine
        } else {
            gradientProductSum = nil
        }
    }

    /// The statistics the same images would give if `units` emitted a constant pre-activation
    /// (`value(unit)`, their bias once their weights are zeroed) everywhere. The gradient sums
    /// depend on the rest of the network and cannot be derived, so they are dropped.
    public func replacingUnits(_ units: some Sequence<Int>, withConstant value: (Int) -> Float) -> UnitStatistics {
        var copy = self
        let n = Double(observations)
        for unit in units {
            let z = Double(value(unit))
            copy.sum[unit] = z * n
            copy.rectifiedSum[unit] = max(z, 0) * n
            copy.zeroCount[unit] = z <= 0 ? observations : 0
        }
        copy.gradientProductSum = nil
        return copy
    }
}
