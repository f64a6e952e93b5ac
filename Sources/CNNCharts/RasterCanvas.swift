/// An RGB pixel buffer with anti-aliased drawing of the shapes a line chart needs: thick
/// polylines (solid or dashed, with round joins and caps), circles, filled polygons, crisp
/// rectangles, and text in the embedded `BitmapFont`.
///
/// Layout: `pixels` holds `height` rows of `width` pixels, three bytes (R, G, B) each, top row
/// first — exactly the order a PNG scanline wants. Coordinates are in pixels with the origin
/// at the top-left corner of the top-left pixel, so pixel (i, j) has its centre at
/// (i + 0.5, j + 0.5).
struct RasterCanvas: Sendable {
    let width: Int
    let height: Int
    private(set) var pixels: [UInt8]

    /// A canvas filled with `background`.
    init(width: Int, height: Int, background: ChartColor = .white) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        pixels = [UInt8](repeating: 0, count: self.width * self.height * 3)
        fillRectangle(x: 0, y: 0, width: self.width, height: self.height, color: background)
    }

    /// The colour of pixel (`x`, `y`).
    func color(atX x: Int, y: Int) -> ChartColor {
        let i = (y * width + x) * 3
        return ChartColor(red: pixels[i], green: pixels[i + 1], blue: pixels[i + 2])
    }

    /// Paints `color` over pixel (`x`, `y`) with opacity `coverage` (0–1); off-canvas is ignored.
    mutating func blend(x: Int, y: Int, color: ChartColor, coverage: Double) {
        guard x >= 0, y >= 0, x < width, y < height, coverage > 0 else { return }
        let i = (y * width + x) * 3
        if coverage >= 1 {
            pixels[i] = color.red
            pixels[i + 1] = color.green
            pixels[i + 2] = color.blue
            return
        }
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            UInt8((Double(old) + (Double(new) - Double(old)) * coverage).rounded())
        }
        pixels[i] = mix(pixels[i], color.red)
        pixels[i + 1] = mix(pixels[i + 1], color.green)
        pixels[i + 2] = mix(pixels[i + 2], color.blue)
    }

    /// Fills whole pixels `x..<x+width`, `y..<y+height` (clipped to the canvas); used for
    /// crisp one-pixel axes, grid lines and ticks.
    mutating func fillRectangle(x: Int, y: Int, width w: Int, height h: Int, color: ChartColor) {
        let x0 = max(x, 0)
        let y0 = max(y, 0)
        let x1 = min(x + w, width)
        let y1 = min(y + h, height)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            for column in x0..<x1 {
                let i = (row * width + column) * 3
                pixels[i] = color.red
                pixels[i + 1] = color.green
                pixels[i + 2] = color.blue
            }
        }
    }

    /// Strokes the polyline through `points` with round joins and caps.
    /// - Parameters:
    ///   - points: The vertices, in pixels.
    ///   - color: The stroke colour.
    ///   - lineWidth: The stroke width, in pixels.
    ///   - dashPattern: Alternating on/off lengths in pixels, or `nil` for a solid line.
    ///   - clip: Pixels outside this rectangle are left untouched.
    mutating func strokePolyline(
        _ points: [PixelPoint],
        color: ChartColor,
        lineWidth: Double,
        dashPattern: [Double]? = nil,
        clip: PixelRect? = nil
    ) {
        guard let first = points.first else { return }
        let segments: [(PixelPoint, PixelPoint)]
        if points.count == 1 {
            segments = [(first, first)]
        } else if let dashPattern, !dashPattern.isEmpty, dashPattern.allSatisfy({ $0 > 0 }) {
            segments = Self.dashes(along: points, pattern: dashPattern)
        } else {
            segments = zip(points, points.dropFirst()).map { ($0, $1) }
        }
        let halfWidth = lineWidth / 2
        let pad = halfWidth + 1
        var bounds = PixelRect(x: 0, y: 0, width: Double(width), height: Double(height))
        if let clip { bounds = Self.intersection(bounds, clip) }
        // Coverage is collected per pixel as the maximum over all segments, then painted once,
        // so that joins and overlapping dashes are not painted twice (which would darken them).
        let xs = points.map(\.x), ys = points.map(\.y)
        let minX = max(Int((xs.min()! - pad).rounded(.down)), Int(bounds.minX.rounded(.down)), 0)
        let maxX = min(Int((xs.max()! + pad).rounded(.up)), Int(bounds.maxX.rounded(.up)), width)
        let minY = max(Int((ys.min()! - pad).rounded(.down)), Int(bounds.minY.rounded(.down)), 0)
        let maxY = min(Int((ys.max()! + pad).rounded(.up)), Int(bounds.maxY.rounded(.up)), height)
        guard minX < maxX, minY < maxY else { return }
        let maskWidth = maxX - minX
        var mask = [Double](repeating: 0, count: maskWidth * (maxY - minY))
        for (a, b) in segments {
            // Long segments are visited in short pieces so that only pixels near the line are
            // tested, instead of the whole bounding box of a long diagonal.
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            let pieces = max(1, Int((length / 6).rounded(.up)))
            for piece in 0..<pieces {
                let t0 = Double(piece) / Double(pieces)
                let t1 = Double(piece + 1) / Double(pieces)
                let p0 = PixelPoint(x: a.x + (b.x - a.x) * t0, y: a.y + (b.y - a.y) * t0)
                let p1 = PixelPoint(x: a.x + (b.x - a.x) * t1, y: a.y + (b.y - a.y) * t1)
                let x0 = max(Int((min(p0.x, p1.x) - pad).rounded(.down)), minX)
                let x1 = min(Int((max(p0.x, p1.x) + pad).rounded(.up)), maxX)
                let y0 = max(Int((min(p0.y, p1.y) - pad).rounded(.down)), minY)
                let y1 = min(Int((max(p0.y, p1.y) + pad).rounded(.up)), maxY)
                guard x0 < x1, y0 < y1 else { continue }
                for row in y0..<y1 {
                    for column in x0..<x1 {
                        let centre = PixelPoint(x: Double(column) + 0.5, y: Double(row) + 0.5)
                        let distance = Self.distance(from: centre, toSegmentFrom: a, to: b)
                        let coverage = min(max(halfWidth + 0.5 - distance, 0), 1)
                        let m = (row - minY) * maskWidth + (column - minX)
                        if coverage > mask[m] { mask[m] = coverage }
                    }
                }
            }
        }
        for row in minY..<maxY {
            for column in minX..<maxX {
                let coverage = mask[(row - minY) * maskWidth + (column - minX)]
                if coverage > 0 { blend(x: column, y: row, color: color, coverage: coverage) }
            }
        }
    }

    /// Fills the circle at `center` with `radius`, anti-aliased.
    mutating func fillCircle(center: PixelPoint, radius: Double, color: ChartColor) {
        let x0 = Int((center.x - radius - 1).rounded(.down))
        let x1 = Int((center.x + radius + 1).rounded(.up))
        let y0 = Int((center.y - radius - 1).rounded(.down))
        let y1 = Int((center.y + radius + 1).rounded(.up))
        for row in y0...y1 {
            for column in x0...x1 {
                let dx = Double(column) + 0.5 - center.x
                let dy = Double(row) + 0.5 - center.y
                let distance = (dx * dx + dy * dy).squareRoot()
                blend(x: column, y: row, color: color, coverage: min(max(radius + 0.5 - distance, 0), 1))
            }
        }
    }

    /// Fills the polygon with `vertices` (even–odd rule), anti-aliased by 4×4 supersampling.
    mutating func fillPolygon(_ vertices: [PixelPoint], color: ChartColor, opacity: Double = 1) {
        guard vertices.count >= 3 else { return }
        let x0 = Int(vertices.map(\.x).min()!.rounded(.down))
        let x1 = Int(vertices.map(\.x).max()!.rounded(.up))
        let y0 = Int(vertices.map(\.y).min()!.rounded(.down))
        let y1 = Int(vertices.map(\.y).max()!.rounded(.up))
        let samples = 4
        for row in y0...y1 {
            for column in x0...x1 {
                var inside = 0
                for sy in 0..<samples {
                    for sx in 0..<samples {
                        let point = PixelPoint(
                            x: Double(column) + (Double(sx) + 0.5) / Double(samples),
                            y: Double(row) + (Double(sy) + 0.5) / Double(samples)
                        )
                        if Self.polygon(vertices, contains: point) { inside += 1 }
                    }
                }
                blend(x: column, y: row, color: color, coverage: opacity * Double(inside) / Double(samples * samples))
            }
        }
    }

    /// Draws `text` in the bitmap font with its top-left corner at (`x`, `y`).
    /// - Parameters:
    ///   - scale: Output pixels per font pixel.
    ///   - bold: Draws each glyph twice, one pixel apart, for titles.
    ///   - rotated: Runs the text upwards (rotated 90° anticlockwise), for a y-axis label;
    ///     (`x`, `y`) is then the top-left corner of the rotated text's bounding box.
    mutating func drawText(
        _ text: String,
        x: Int,
        y: Int,
        scale: Int,
        color: ChartColor,
        bold: Bool = false,
        rotated: Bool = false
    ) {
        let textWidth = BitmapFont.width(of: text, scale: scale) + (bold ? 1 : 0)
        for (index, character) in text.enumerated() {
            let glyphX = index * BitmapFont.advance * scale
            for pixel in BitmapFont.pixels(of: character) {
                for offset in 0...(bold ? 1 : 0) {
                    // (u, v): position along and across the text direction.
                    let u = glyphX + pixel.column * scale + offset
                    let v = pixel.row * scale
                    if rotated {
                        fillRectangle(x: x + v, y: y + textWidth - u - scale, width: scale, height: scale, color: color)
                    } else {
                        fillRectangle(x: x + u, y: y + v, width: scale, height: scale, color: color)
                    }
                }
            }
        }
    }

    // MARK: - Geometry helpers

    private static func distance(from p: PixelPoint, toSegmentFrom a: PixelPoint, to b: PixelPoint) -> Double {
        let dx = b.x - a.x
        let dy = b.y - a.y
        let lengthSquared = dx * dx + dy * dy
        var t = 0.0
        if lengthSquared > 0 {
            t = min(max(((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSquared, 0), 1)
        }
        let cx = a.x + t * dx - p.x
        let cy = a.y + t * dy - p.y
        return (cx * cx + cy * cy).squareRoot()
    }

    private static func polygon(_ vertices: [PixelPoint], contains p: PixelPoint) -> Bool {
        var inside = false
        var j = vertices.count - 1
        for i in 0..<vertices.count {
            let a = vertices[i], b = vertices[j]
            if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
                inside.toggle()
            }
            j = i
        }
        return inside
    }

    private static func intersection(_ a: PixelRect, _ b: PixelRect) -> PixelRect {
        let x0 = max(a.minX, b.minX), y0 = max(a.minY, b.minY)
        let x1 = min(a.maxX, b.maxX), y1 = min(a.maxY, b.maxY)
        return PixelRect(x: x0, y: y0, width: max(x1 - x0, 0), height: max(y1 - y0, 0))
    }

    /// Cuts a polyline into the "on" pieces of a dash pattern, continuing the pattern's phase
    /// across vertices so that dashes flow around corners.
    static func dashes(along points: [PixelPoint], pattern: [Double]) -> [(PixelPoint, PixelPoint)] {
        var result: [(PixelPoint, PixelPoint)] = []
        var patternIndex = 0
        var remaining = pattern[0]
        for (a, b) in zip(points, points.dropFirst()) {
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            var position = 0.0
            while position < length {
                let step = min(remaining, length - position)
                if patternIndex.isMultiple(of: 2) {
                    let t0 = position / length, t1 = (position + step) / length
                    result.append((
                        PixelPoint(x: a.x + (b.x - a.x) * t0, y: a.y + (b.y - a.y) * t0),
                        PixelPoint(x: a.x + (b.x - a.x) * t1, y: a.y + (b.y - a.y) * t1)
                    ))
                }
                position += step
                remaining -= step
                if remaining <= 1e-9 {
                    patternIndex = (patternIndex + 1) % pattern.count
                    remaining = pattern[patternIndex]
                }
            }
        }
        return result
    }
}
