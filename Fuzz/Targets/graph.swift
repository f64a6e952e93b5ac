import CNNEngine
import Foundation

/// libFuzzer target: the architecture reader behind `--arch-file` and the `cnnprune.graph`
/// metadata of checkpoints.
///
/// Any input must either be rejected with `ModelGraphError` (not an architecture) or
/// `EngineError` (layers that do not fit, absurd sizes), or bind; what binds must describe the
/// same graph after a JSON round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelGraph(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    let graph: ModelGraph
    do {
        graph = try ModelGraph.decode(data)
    } catch is ModelGraphError {
        return 0
    } catch {
        fatalError("ModelGraph.decode threw a non-ModelGraphError: \(error)")
    }
    let architecture: Sequential
    do {
        architecture = try graph.sequential()
    } catch is EngineError {
        return 0
    } catch {
        fatalError("ModelGraph.sequential threw a non-EngineError: \(error)")
    }
    guard let again = try? ModelGraph.decode(Data(graph.jsonString().utf8)), again == graph else {
        fatalError("a bound graph does not survive a JSON round trip")
    }
    guard architecture.graph == graph else { fatalError("the bound layers describe another graph") }
    return 0
}
