import CNNPruning
import Foundation

/// libFuzzer target: the `--k` parser (`PruningCounts.parse`). Any text must give either a
/// `PruningError` or a strictly increasing list of non-negative counts.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPruningCounts(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = start.map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? ""
    let counts: [Int]
    do {
        counts = try PruningCounts.parse(text)
    } catch is PruningError {
        return 0
    } catch {
        fatalError("parse threw a non-PruningError: \(error)")
    }
    guard !counts.isEmpty, counts.allSatisfy({ $0 >= 0 }), zip(counts, counts.dropFirst()).allSatisfy({ $0 < $1 }) else {
        fatalError("parse accepted '\(text)' as \(counts)")
    }
    return 0
}
