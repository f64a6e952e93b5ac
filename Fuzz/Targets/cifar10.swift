import CNNDatasets
import Foundation

/// libFuzzer target: the CIFAR-10 record decoder. The first byte picks the class count (1–16)
/// so that label checks are exercised against other limits too; the rest is the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIFAR10(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let classCount = Int(start[0] % 16) + 1
    let data = Data(bytes: start + 1, count: count - 1)
    var pixels: [UInt8] = []
    var labels: [UInt8] = []
    do {
        try CIFAR10.decode(data, file: "fuzz.bin", classCount: classCount, pixels: &pixels, labels: &labels)
    } catch is CIFAR10Error {
        return 0
    } catch {
        fatalError("decode threw a non-CIFAR10Error: \(error)")
    }
    guard labels.count * CIFAR10.recordSize == data.count, pixels.count == labels.count * CIFAR10.imageBytes,
          labels.allSatisfy({ Int($0) < classCount }) else { fatalError("decode accepted inconsistent data") }
    return 0
}
