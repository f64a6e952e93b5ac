import CPNG
import Foundation

/// Decodes PNG images with the system libpng (its simplified `png_image` API) to 8-bit RGB:
/// grey is replicated, alpha is dropped by compositing on black, 16-bit samples are reduced.
public enum PNGDecoder {
    /// Decodes `data`; errors name `file` and libpng's reason.
    public static func decode(_ data: Data, file: String) throws -> DecodedImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let begun = data.withUnsafeBytes { raw in png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) }
        guard begun != 0 else { throw DatasetError(file, "is not a readable PNG (\(message(of: &image)))") }
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= DecodedImage.maximumPixels else {
            throw DatasetError(file, "PNG of \(width)×\(height) pixels is larger than the \(DecodedImage.maximumPixels) accepted")
        }
        image.format = UInt32(PNG_FORMAT_RGB)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let finished = data.withUnsafeBytes { _ in
            rgb.withUnsafeMutableBytes { out in png_image_finish_read(&image, nil, out.baseAddress, Int32(width * 3), nil) }
        }
        guard finished != 0 else { throw DatasetError(file, "is a corrupt PNG (\(message(of: &image)))") }
        return DecodedImage(width: width, height: height, rgb: rgb)
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let text = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            return text.isEmpty ? "unknown libpng error" : text
        }
    }
}
