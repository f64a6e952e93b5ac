import CNNEngine
import Foundation

/// libFuzzer target: resuming a training checkpoint (`train --resume`), past the model checks of
/// the `safetensors` target — the `cnnprune.training` metadata (position, shuffle state,
/// optimizer, schedule, augmentation) and the optimizer's state tensors.
///
/// Any input must either be rejected with `SafeTensorsError`, `CheckpointError` or
/// `TrainingCheckpointError`, or resume; a resumed run's own checkpoint must resume to the same
/// checkpoint again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrainingCheckpoint(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    let file: SafeTensors
    do {
        file = try SafeTensors(data: data)
    } catch is SafeTensorsError {
        return 0
    } catch {
        fatalError("SafeTensors(data:) threw a non-SafeTensorsError: \(error)")
    }
    let run: TrainingRun
    do {
        run = try TrainingRun(resuming: file, threads: 1)
    } catch is TrainingCheckpointError {
        return 0
    } catch is CheckpointError {
        return 0
    } catch {
        fatalError("TrainingRun(resuming:) threw a non-checkpoint error: \(error)")
    }
    let saved = run.checkpoint()
    let again: TrainingRun
    do {
        again = try TrainingRun(resuming: SafeTensors(data: saved.encoded()), threads: 1)
    } catch {
        fatalError("a resumed run's checkpoint does not resume: \(error)")
    }
    guard again.checkpoint() == saved else { fatalError("a resumed run's checkpoint changes when resumed again") }
    return 0
}
