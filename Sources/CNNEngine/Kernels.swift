/// Small vectorised loops shared by layers.
enum Kernels {
    /// The sum of `count` floats, in eight independent lanes (so the order of additions, and
    /// the rounding, is fixed for a given count).
    @inline(__always)
    static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            lanes += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = lanes.sum()
        while i < count { total += values[i]; i += 1 }
        return total
    }

    /// `max(0, x)` in place on `count` floats, eight at a time; a NaN stays NaN, as in `ReLU`.
    @inline(__always)
    static func rectify(_ values: UnsafeMutablePointer<Float>, count: Int) {
        typealias Lanes = SIMD8<Float>
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(values + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(values + i).storeBytes(of: v.replacing(with: 0, where: v .< 0), as: Lanes.self)
            i += 8
        }
        while i < count {
            if values[i] < 0 { values[i] = 0 }
            i += 1
        }
    }
}
