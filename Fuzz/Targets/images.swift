import CNNDatasets
import Foundation

/// libFuzzer target: the image folder's decoding path — PNG (libpng) and JPEG (libjpeg) by
/// signature, then the bilinear resize to a side picked by the first byte (1–32) and the
/// conversion to channel planes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImages(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 1 else { return 0 }
    let side = Int(start[0] % 32) + 1
    let data = Data(bytes: start + 1, count: count - 1)
    let image: DecodedImage
    do {
        image = try DecodedImage.decode(data, file: "fuzz.img")
    } catch let error as DatasetError {
        guard error.path == "fuzz.img", !error.description.contains("\n") else { fatalError("error not one line naming the file: \(error)") }
        return 0
    } catch {
        fatalError("the decoders threw a non-DatasetError: \(error)")
    }
    guard image.width > 0, image.height > 0, image.rgb.count == image.width * image.height * 3 else { fatalError("inconsistent image") }
    let resized = image.resized(width: side, height: side)
    guard resized.rgb.count == side * side * 3 else { fatalError("resize gave the wrong size") }
    var planes: [UInt8] = []
    resized.appendPlanes(to: &planes)
    guard planes.count == resized.rgb.count else { fatalError("planes of the wrong size") }
    return 0
}
