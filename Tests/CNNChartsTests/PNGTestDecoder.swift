import CZlib
import Foundation

/// A minimal PNG reader for 8-bit RGB files, written independently of `PNGEncoder` so that the
/// tests check the encoder against the PNG specification rather than against itself.
struct DecodedPNG {
    struct Chunk {
        var type: String
        var data: [UInt8]
        var storedCRC: UInt32
        var computedCRC: UInt32
    }

    enum Failure: Error, CustomStringConvertible {
        case badSignature
        case truncated
        case missingChunk(String)
        case inflateFailed(Int32)
        case badFilter(row: Int, type: UInt8)

        var description: String {
            switch self {
            case .badSignature: return "bad signature"
            case .truncated: return "truncated file"
            case .missingChunk(let type): return "missing \(type) chunk"
            case .inflateFailed(let status): return "uncompress failed with status \(status)"
            case .badFilter(let row, let type): return "row \(row) has filter type \(type)"
            }
        }
    }

    var chunks: [Chunk] = []
    var width = 0
    var height = 0
    var bitDepth: UInt8 = 0
    var colorType: UInt8 = 0
    var interlace: UInt8 = 0
    /// The inflated IDAT stream: filter byte + filtered scanline, per row.
    var inflated: [UInt8] = []
    var filterTypes: [UInt8] = []
    /// Unfiltered RGB pixels, top row first.
    var rgb: [UInt8] = []

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 8, Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw Failure.badSignature
        }
        var offset = 8
        func readUInt32(_ at: Int) -> UInt32 {
            bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Failure.truncated }
            let length = Int(readUInt32(offset))
            guard offset + 12 + length <= bytes.count else { throw Failure.truncated }
            let typeAndData = Array(bytes[(offset + 4)..<(offset + 8 + length)])
            let computed = typeAndData.withUnsafeBufferPointer {
                UInt32(truncatingIfNeeded: crc32(0, $0.baseAddress, uInt($0.count)))
            }
            chunks.append(Chunk(
                type: String(decoding: typeAndData[0..<4], as: UTF8.self),
                data: Array(typeAndData[4...]),
                storedCRC: readUInt32(offset + 8 + length),
                computedCRC: computed
            ))
            offset += 12 + length
        }
        guard let header = chunks.first(where: { $0.type == "IHDR" }) else { throw Failure.missingChunk("IHDR") }
        let h = header.data
        width = Int(h[0..<4].reduce(0) { $0 << 8 | UInt32($1) })
        height = Int(h[4..<8].reduce(0) { $0 << 8 | UInt32($1) })
        bitDepth = h[8]
        colorType = h[9]
        interlace = h[12]

        let compressed = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
        let expected = height * (1 + width * 3)
        // One spare byte: if the stream inflated to more than expected, the size check fails.
        var output = [UInt8](repeating: 0, count: expected + 1)
        var outputLength = uLongf(output.count)
        let status = compressed.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                uncompress(destination.baseAddress, &outputLength, source.baseAddress, uLong(source.count))
            }
        }
        guard status == Z_OK else { throw Failure.inflateFailed(status) }
        inflated = Array(output.prefix(Int(outputLength)))
        guard inflated.count == expected else { return }

        let stride = width * 3
        rgb = [UInt8](repeating: 0, count: width * height * 3)
        for row in 0..<height {
            let type = inflated[row * (stride + 1)]
            filterTypes.append(type)
            guard type <= 4 else { throw Failure.badFilter(row: row, type: type) }
            for i in 0..<stride {
                let raw = inflated[row * (stride + 1) + 1 + i]
                let a = i >= 3 ? Int(rgb[row * stride + i - 3]) : 0
                let b = row > 0 ? Int(rgb[(row - 1) * stride + i]) : 0
                let c = (i >= 3 && row > 0) ? Int(rgb[(row - 1) * stride + i - 3]) : 0
                let predictor: Int
                switch type {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                default:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                }
                rgb[row * stride + i] = UInt8((Int(raw) + predictor) & 0xFF)
            }
        }
    }

    /// The pixel at (`x`, `y`) as a 0xRRGGBB value.
    func pixel(x: Int, y: Int) -> UInt32 {
        let i = (y * width + x) * 3
        return UInt32(rgb[i]) << 16 | UInt32(rgb[i + 1]) << 8 | UInt32(rgb[i + 2])
    }
}
