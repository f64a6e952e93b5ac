import CZlib
import Foundation

/// Why a PNG could not be encoded.
public enum PNGEncodingError: Error, Sendable, Hashable {
    /// Width or height is zero, negative, or too large for a PNG header.
    case invalidDimensions(width: Int, height: Int)
    /// The pixel buffer does not hold `width × height × 3` bytes.
    case pixelCountMismatch(expected: Int, actual: Int)
    /// zlib's `compress2` failed with this status code.
    case compressionFailed(status: Int32)
}

/// Encodes 8-bit RGB images as PNG files, using zlib for the compressed image data.
///
/// The file is the 8-byte signature followed by three chunks: `IHDR` (size, bit depth 8,
/// colour type 2 = RGB, no interlace), one `IDAT` holding the zlib stream of filtered
/// scanlines, and `IEND`. Each chunk ends with the CRC-32 of its type and data. Every scanline
/// is prefixed by the PNG filter (None, Sub, Up, Average or Paeth) that makes it smallest,
/// chosen by the usual minimum-sum-of-absolute-differences heuristic.
public enum PNGEncoder {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes an RGB image as a PNG file.
    /// - Parameters:
    ///   - rgb: `height` rows of `width` pixels, three bytes (R, G, B) per pixel, top row first.
    ///   - width: Image width in pixels.
    ///   - height: Image height in pixels.
    ///   - compressionLevel: zlib level, 0 (none) to 9 (smallest).
    /// - Returns: The complete PNG file.
    /// - Throws: `PNGEncodingError` for bad dimensions or a zlib failure.
    public static func encode(rgb: [UInt8], width: Int, height: Int, compressionLevel: Int32 = 9) throws -> Data {
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw PNGEncodingError.invalidDimensions(width: width, height: height)
        }
        let expected = width * height * 3
        guard rgb.count == expected else {
            throw PNGEncodingError.pixelCountMismatch(expected: expected, actual: rgb.count)
        }

        var header: [UInt8] = []
        header += bigEndianBytes(UInt32(width))
        header += bigEndianBytes(UInt32(height))
        header += [8, 2, 0, 0, 0]  // bit depth, colour type RGB, deflate, adaptive filtering, no interlace

        let compressed = try deflate(filteredScanlines(rgb: rgb, width: width, height: height), level: compressionLevel)

        var file = Data(signature)
        file += chunk(type: "IHDR", data: header)
        file += chunk(type: "IDAT", data: compressed)
        file += chunk(type: "IEND", data: [])
        return file
    }

    /// Each row prefixed with its best filter type and filtered with it.
    static func filteredScanlines(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        let stride = width * 3
        let bytesPerPixel = 3
        var output: [UInt8] = []
        output.reserveCapacity(height * (stride + 1))
        let zeroRow = [UInt8](repeating: 0, count: stride)
        var candidate = [UInt8](repeating: 0, count: stride)
        var best = [UInt8](repeating: 0, count: stride)
        for row in 0..<height {
            let current = Array(rgb[(row * stride)..<((row + 1) * stride)])
            let previous = row == 0 ? zeroRow : Array(rgb[((row - 1) * stride)..<(row * stride)])
            var bestType: UInt8 = 0
            var bestCost = Int.max
            for filterType: UInt8 in 0...4 {
                var cost = 0
                for i in 0..<stride {
                    let left = i >= bytesPerPixel ? current[i - bytesPerPixel] : 0
                    let up = previous[i]
                    let upLeft = i >= bytesPerPixel ? previous[i - bytesPerPixel] : 0
                    let predictor: UInt8
                    switch filterType {
                    case 0: predictor = 0
                    case 1: predictor = left
                    case 2: predictor = up
                    case 3: predictor = UInt8((Int(left) + Int(up)) / 2)
                    default: predictor = paeth(left: left, up: up, upLeft: upLeft)
                    }
                    let value = current[i] &- predictor
                    candidate[i] = value
                    cost += value < 128 ? Int(value) : 256 - Int(value)
                }
                if cost < bestCost {
                    bestCost = cost
                    bestType = filterType
                    swap(&best, &candidate)
                }
            }
            output.append(bestType)
            output += best
        }
        return output
    }

    /// The Paeth predictor from the PNG specification: whichever neighbour is closest to
    /// `left + up - upLeft`.
    static func paeth(left: UInt8, up: UInt8, upLeft: UInt8) -> UInt8 {
        let estimate = Int(left) + Int(up) - Int(upLeft)
        let distanceLeft = abs(estimate - Int(left))
        let distanceUp = abs(estimate - Int(up))
        let distanceUpLeft = abs(estimate - Int(upLeft))
        if distanceLeft <= distanceUp && distanceLeft <= distanceUpLeft { return left }
        if distanceUp <= distanceUpLeft { return up }
        return upLeft
    }

    /// A zlib stream (as IDAT requires) of `bytes`.
    private static func deflate(_ bytes: [UInt8], level: Int32) throws -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let status = bytes.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                compress2(destination.baseAddress, &capacity, source.baseAddress, uLong(source.count), level)
            }
        }
        guard status == Z_OK else { throw PNGEncodingError.compressionFailed(status: status) }
        return Array(output.prefix(Int(capacity)))
    }

    /// A chunk: length, type, data, and the CRC-32 of type and data.
    private static func chunk(type: String, data: [UInt8]) -> Data {
        let typeBytes = Array(type.utf8)
        let checksum = crc(typeBytes + data)
        var bytes = bigEndianBytes(UInt32(data.count))
        bytes += typeBytes
        bytes += data
        bytes += bigEndianBytes(checksum)
        return Data(bytes)
    }

    /// CRC-32 (the PNG/zlib polynomial) of `bytes`.
    static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(truncatingIfNeeded: crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
    }

    private static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
