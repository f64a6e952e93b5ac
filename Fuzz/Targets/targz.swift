import CNNDatasets
import Foundation

/// libFuzzer target: the archive path of `cnnprune download` — gunzip and the tar reader. The
/// first byte picks raw tar (even) or gzip-compressed tar (odd). Entries must come out with
/// safe relative paths and contents exactly as long as announced.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTarGz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let compressed = start[0] & 1 == 1
    let body = UnsafeRawBufferPointer(start: start + 1, count: count - 1)
    var reader = TarReader(limit: 1 << 20)
    var received = 0
    let check: (TarEvent) throws -> Void = { event in
        switch event {
        case .begin(let entry):
            received = 0
            guard !entry.path.hasPrefix("/"), !entry.path.split(separator: "/").contains(".."),
                  !entry.path.split(separator: "/", omittingEmptySubsequences: false).contains("") || entry.path.isEmpty
            else { fatalError("unsafe path accepted: \(entry.path)") }
        case .data(let bytes): received += bytes.count
        case .end(let entry): guard received == entry.size else { fatalError("entry \(entry.path): \(received) of \(entry.size) bytes") }
        }
    }
    do {
        if compressed {
            let inflater = try GzipInflater()
            try inflater.push(body) { try reader.push($0, to: check) }
            try inflater.finish()
        } else {
            try reader.push(body, to: check)
        }
        try reader.finish()
    } catch is GzipError {
    } catch is TarError {
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
