import CNNEngine

/// A view of some samples of another data set, in a given order (a calibration subset, the
/// first N images for a quick test). Holds indices only; the images stay in the base set.
public struct Subset<Base: LabeledImages>: LabeledImages {
    /// The data set the samples come from.
    public let base: Base
    /// The base set's indices of the samples, in this subset's order.
    public let indices: [Int32]

    /// The samples of `base` at `indices`, in that order; each index must lie in `0..<base.count`.
    public init(_ base: Base, indices: [Int]) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < base.count })
        self.base = base
        self.indices = indices.map { Int32($0) }
    }

    /// `count` samples drawn without replacement by a seeded shuffle, in drawn order.
    public init(_ base: Base, randomCount count: Int, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var all = Array(0..<base.count)
        all.seededShuffle(using: &generator)
        self.init(base, indices: Array(all.prefix(min(count, base.count))))
    }

    public var count: Int { indices.count }
    public var sampleShape: [Int] { base.sampleShape }
    public var classNames: [String] { base.classNames }
    public func label(at index: Int) -> Int { base.label(at: Int(indices[index])) }

    public func fillInputs(indices positions: UnsafeBufferPointer<Int32>, into inputs: UnsafeMutablePointer<Float>) {
        let size = sampleShape.reduce(1, *)
        indices.withUnsafeBufferPointer { map in
            var one: Int32 = 0
            for (slot, position) in positions.enumerated() {
                one = map[Int(position)]
                withUnsafePointer(to: &one) { base.fillInputs(indices: UnsafeBufferPointer(start: $0, count: 1), into: inputs + slot * size) }
            }
        }
    }
}
