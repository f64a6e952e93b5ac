import Foundation

/// The symbol drawn at each data point of a series.
///
/// Distinct shapes keep series apart for readers who cannot tell the colours apart, and in
/// greyscale print.
public enum MarkerShape: Sendable, Hashable, CaseIterable {
    /// A filled circle.
    case circle
    /// A filled square.
    case square
    /// A filled triangle pointing up.
    case triangleUp
    /// A filled square standing on a corner.
    case diamond
    /// A filled triangle pointing down.
    case triangleDown
    /// A filled five-pointed star.
    case star
    /// A filled plus sign.
    case plus

    /// The outline of the shape centred on the origin, for a marker of nominal `radius`, or
    /// `nil` for the circle (which renderers draw as a true circle).
    ///
    /// Coordinates are in pixels with y growing downwards, as in SVG and the raster canvas.
    /// Each shape is scaled so that it looks about as heavy as a circle of the same radius.
    func outline(radius r: Double) -> [(x: Double, y: Double)]? {
        switch self {
        case .circle:
            return nil
        case .square:
            let h = r * 0.88
            return [(-h, -h), (h, -h), (h, h), (-h, h)]
        case .triangleUp:
            let s = r * 1.25
            return [(0, -s), (s * 0.866, s * 0.5), (-s * 0.866, s * 0.5)]
        case .triangleDown:
            let s = r * 1.25
            return [(0, s), (-s * 0.866, -s * 0.5), (s * 0.866, -s * 0.5)]
        case .diamond:
            let s = r * 1.25
            return [(0, -s), (s, 0), (0, s), (-s, 0)]
        case .star:
            let outer = r * 1.35
            let inner = outer * 0.45
            return (0..<10).map { k in
                let radius = k.isMultiple(of: 2) ? outer : inner
                let angle = Double(k) * Double.pi / 5 - Double.pi / 2
                return (radius * cos(angle), radius * sin(angle))
            }
        case .plus:
            let a = r * 1.1
            let b = r * 0.38
            return [
                (-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b),
                (b, a), (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b),
            ]
        }
    }
}
