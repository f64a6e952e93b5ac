import CJPEG
import Foundation

/// Decodes JPEG images with the system libjpeg(-turbo) to 8-bit RGB (grey and CMYK converted
/// by libjpeg). The decode runs in a C shim (`Sources/CJPEG/shim.h`) because libjpeg reports
/// errors by `longjmp`, which Swift cannot catch.
public enum JPEGDecoder {
    /// Decodes `data`; errors name `file` and libjpeg's reason.
    public static func decode(_ data: Data, file: String) throws -> DecodedImage {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX) + 1)
        let status = data.withUnsafeBytes { raw in
            cnnprune_jpeg_decode_rgb(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt(raw.count),
                                     UInt(DecodedImage.maximumPixels), &pixels, &width, &height, &message)
        }
        defer { free(pixels) }
        guard status == 0, let pixels else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw DatasetError(file, "is not a readable JPEG (\(reason.isEmpty ? "unknown libjpeg error" : reason))")
        }
        let count = Int(width) * Int(height) * 3
        return DecodedImage(width: Int(width), height: Int(height), rgb: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }
}
