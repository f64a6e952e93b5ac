import CNNDatasets
import Foundation

/// libFuzzer target: the IDX reader of MNIST / Fashion-MNIST. The first byte picks what the
/// rest is: 0 an images file, 1 a labels file, 2 a gzipped images file (through the data
/// set's gunzip, with a 16 MB limit), 3 an images file and a labels file (split at the next
/// byte's fraction) paired as a 10-class data set.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 1 else { return 0 }
    let mode = start[0] % 4
    let data = Data(bytes: start + 1, count: count - 1)
    do {
        switch mode {
        case 0, 1:
            let magic = mode == 0 ? IDXFile.imagesMagic : IDXFile.labelsMagic
            let file = try IDXFile(data, file: "fuzz.idx", expectedMagic: magic)
            check(file, in: data)
        case 2:
            let file = try IDXFile(bytes: DatasetFile.gunzipBytes(data, file: "fuzz.idx.gz", limit: 1 << 24), file: "fuzz.idx.gz", expectedMagic: IDXFile.imagesMagic)
            guard file.bytes.count == file.dimensions.reduce(1, *) else { fatalError("payload size disagrees with the header") }
        default:
            let cut = 1 + Int(data[data.startIndex]) * (data.count - 1) / 255
            let images = try IDXFile(data[(data.startIndex + 1)..<(data.startIndex + cut)], file: "images", expectedMagic: IDXFile.imagesMagic)
            let labels = try IDXFile(data[(data.startIndex + cut)...], file: "labels", expectedMagic: IDXFile.labelsMagic)
            let set = try MNIST.combine(images: images, imagesFile: "images", labels: labels, labelsFile: "labels",
                                        classNames: MNIST.digitNames, normalization: Normalization(mean: 0.1307, std: 0.3081))
            guard set.count == labels.bytes.count, set.pixels.count == set.count * set.imageBytes,
                  (0..<set.count).allSatisfy({ set.label(at: $0) < 10 }) else { fatalError("combine accepted inconsistent data") }
            // One batch through the normaliser.
            let n = min(set.count, 4)
            var inputs = [Float](repeating: 0, count: n * set.imageBytes)
            let indices = (0..<Int32(n)).map { $0 }
            indices.withUnsafeBufferPointer { i in inputs.withUnsafeMutableBufferPointer { set.fillInputs(indices: i, into: $0.baseAddress!) } }
            guard inputs.allSatisfy(\.isFinite) else { fatalError("non-finite input") }
        }
    } catch is DatasetError {
        return 0
    } catch {
        fatalError("the IDX reader threw a non-DatasetError: \(error)")
    }
    return 0
}

private func check(_ file: IDXFile, in data: Data) {
    guard file.bytes.count == file.dimensions.reduce(1, *), file.bytes.count == data.count - 4 - 4 * file.dimensions.count else {
        fatalError("accepted an IDX file whose payload disagrees with its header")
    }
}
