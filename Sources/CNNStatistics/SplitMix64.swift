/// SplitMix64 (Steele, Lea & Flood 2014; the generator Java's `SplittableRandom` uses): a tiny,
/// fast 64-bit generator that is fully determined by its seed, so a bootstrap interval is the
/// same on every run and platform. Kept here, rather than taken from `CNNEngine`, so that this
/// module depends on nothing.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    /// The whole state: the seed advanced by one golden-ratio increment per draw.
    public var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An index in `0..<count`, as `next() % count` (the bias, below count/2⁶⁴, is immaterial
    /// for samples of any realistic size, and the rule is trivial to reproduce elsewhere).
    public mutating func index(below count: Int) -> Int {
        precondition(count > 0)
        return Int(next() % UInt64(count))
    }
}
