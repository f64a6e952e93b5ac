/// A point in output pixels (y grows downwards), shared by the layout and the renderers.
struct PixelPoint: Sendable, Hashable {
    var x: Double
    var y: Double
}

/// An axis-aligned rectangle in output pixels.
struct PixelRect: Sendable, Hashable {
    var x: Double
    var y: Double
    var width: Double
    var height: Double

    var minX: Double { x }
    var minY: Double { y }
    var maxX: Double { x + width }
    var maxY: Double { y + height }
    var midX: Double { x + width / 2 }
    var midY: Double { y + height / 2 }

    /// The rectangle shrunk by `amount` on every side (grown when `amount` is negative).
    func insetBy(_ amount: Double) -> PixelRect {
        PixelRect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }

    func contains(_ point: PixelPoint) -> Bool {
        point.x >= minX && point.x <= maxX && point.y >= minY && point.y <= maxY
    }

    /// Whether the segment from `a` to `b` touches the rectangle (Liang–Barsky clipping).
    func intersectsSegment(from a: PixelPoint, to b: PixelPoint) -> Bool {
        let dx = b.x - a.x
        let dy = b.y - a.y
        var t0 = 0.0
        var t1 = 1.0
        let edges: [(p: Double, q: Double)] = [
            (-dx, a.x - minX), (dx, maxX - a.x), (-dy, a.y - minY), (dy, maxY - a.y),
        ]
        for edge in edges {
            if edge.p == 0 {
                if edge.q < 0 { return false }
            } else {
                let t = edge.q / edge.p
                if edge.p < 0 {
                    t0 = max(t0, t)
                } else {
                    t1 = min(t1, t)
                }
                if t0 > t1 { return false }
            }
        }
        return true
    }
}
