import Foundation

/// One decoded 8-bit RGB image, row-major, 3 bytes a pixel (red, green, blue).
public struct DecodedImage: Equatable, Sendable {
    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// `height × width × 3` bytes.
    public var rgb: [UInt8]

    /// The largest pixel count a decoder accepts (a hostile header cannot make it allocate more).
    public static let maximumPixels = 1 << 25

    /// An image of `width` × `height` pixels from its `rgb` bytes (`height × width × 3`, row-major).
    public init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(rgb.count == width * height * 3)
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    /// Decodes a PNG or JPEG file held in memory, telling them apart by their signature.
    /// - Parameters:
    ///   - data: the file's bytes.
    ///   - file: named in errors.
    public static func decode(_ data: Data, file: String) throws -> DecodedImage {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGDecoder.decode(data, file: file) }
        if data.starts(with: [0xFF, 0xD8]) { return try JPEGDecoder.decode(data, file: file) }
        throw DatasetError(file, "is neither a PNG nor a JPEG image (unknown signature)")
    }

    /// Appends the image's channel planes (red, then green, then blue; `[3, H, W]`) to `planes`.
    public func appendPlanes(to planes: inout [UInt8]) {
        let area = width * height
        let start = planes.count
        planes.append(contentsOf: repeatElement(0, count: 3 * area))
        planes.withUnsafeMutableBufferPointer { out in
            rgb.withUnsafeBufferPointer { src in
                for c in 0..<3 {
                    let dst = out.baseAddress! + start + c * area
                    for i in 0..<area { dst[i] = src[3 * i + c] }
                }
            }
        }
    }

    /// This image resized to `width`×`height` by bilinear interpolation with half-pixel
    /// centres (`align_corners=False`, no antialiasing), rounded to the nearest byte.
    public func resized(width newWidth: Int, height newHeight: Int) -> DecodedImage {
        if newWidth == width && newHeight == height { return self }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        let sx = Double(width) / Double(newWidth), sy = Double(height) / Double(newHeight)
        func axis(_ i: Int, scale: Double, size: Int) -> (Int, Int, Double) {
            let position = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(size - 1))
            let low = Int(position)
            return (low, min(low + 1, size - 1), position - Double(low))
        }
        let columns = (0..<newWidth).map { axis($0, scale: sx, size: width) }
        for y in 0..<newHeight {
            let (y0, y1, fy) = axis(y, scale: sy, size: height)
            for x in 0..<newWidth {
                let (x0, x1, fx) = columns[x]
                for c in 0..<3 {
                    let top = Double(rgb[(y0 * width + x0) * 3 + c]) * (1 - fx) + Double(rgb[(y0 * width + x1) * 3 + c]) * fx
                    let bottom = Double(rgb[(y1 * width + x0) * 3 + c]) * (1 - fx) + Double(rgb[(y1 * width + x1) * 3 + c]) * fx
                    out[(y * newWidth + x) * 3 + c] = UInt8(min(max((top * (1 - fy) + bottom * fy).rounded(), 0), 255))
                }
            }
        }
        return DecodedImage(width: newWidth, height: newHeight, rgb: out)
    }
}
