/// A small, fast, seedable random number generator (xoshiro256**), so that the same seed gives
/// the same initialisation, shuffles and subsets on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The generator's whole state; saving and restoring it resumes the exact same stream.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the generator by expanding `seed` with SplitMix64, as xoshiro's authors recommend.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A uniformly distributed Float in `[-bound, bound)`.
    public mutating func uniform(bound: Float) -> Float {
        let unit = Float(next() >> 40) * (1.0 / Float(1 << 24))  // [0, 1) with 24 bits
        return (unit * 2 - 1) * bound
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public static func == (lhs: SeededGenerator, rhs: SeededGenerator) -> Bool {
        lhs.state == rhs.state
    }
}

extension Array {
    /// Shuffles in place with Fisher–Yates driven by `generator`; the same generator state
    /// always gives the same permutation (unlike the standard library's unspecified algorithm).
    public mutating func seededShuffle(using generator: inout SeededGenerator) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(generator.next() % UInt64(i + 1))
            swapAt(i, j)
        }
    }
}
