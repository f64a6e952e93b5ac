import CNNEngine
import Foundation

/// libFuzzer target: the safetensors reader, and the checkpoint checks behind `--model`.
///
/// Any input must either be rejected with `SafeTensorsError`/`CheckpointError` or parse; what
/// parses must survive a write/read round trip byte for byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    let file: SafeTensors
    do {
        file = try SafeTensors(data: data)
    } catch is SafeTensorsError {
        return 0
    } catch {
        fatalError("SafeTensors(data:) threw a non-SafeTensorsError: \(error)")
    }
    let encoded = file.encoded()
    guard let again = try? SafeTensors(data: encoded) else { fatalError("a parsed file does not re-read after encoding") }
    guard again.encoded() == encoded else { fatalError("encoding is not stable across a round trip") }
    do {
        _ = try Checkpoint.network(from: file)
    } catch is CheckpointError {
    } catch {
        fatalError("Checkpoint.network(from:) threw a non-CheckpointError: \(error)")
    }
    return 0
}
