import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// The live stderr line while pruned networks are fine-tuned — which network, its epoch and
/// batch, the loss, and the time left for the whole run — shown only when stderr is a
/// terminal, like every other progress display (`ProgressLine`).
final class FineTuneProgress {
    private var line = ProgressLine()
    private let start = DispatchTime.now().uptimeNanoseconds

    /// Whether anything is shown (stderr is a terminal).
    var isEnabled: Bool { line.isEnabled }

    /// Redraws the line for `batch` of the network described by `what`, with `fraction` of the
    /// whole run done (for the time left).
    func update(_ what: String, batch: BatchProgress, epochs: Int, fraction: Double) {
        guard line.isEnabled else { return }
        let elapsed = seconds(since: start)
        let remaining = fraction > 0 ? elapsed / fraction * (1 - fraction) : 0
        line.update(String(format: "%@ · epoch %d/%d %@ batch %d/%d · loss %.4f · %@ left",
                           what, batch.epoch, epochs, ProgressLine.bar(fraction, width: 20), batch.batch, batch.batchCount,
                           batch.meanLoss, ProgressLine.duration(remaining)),
                    force: batch.batch == batch.batchCount)
    }

    /// Shows one `FineTunedSweep` progress report; `names` are the rankings' names.
    func update(_ progress: FineTunedSweep.Progress, names: [String], layer: String) {
        let name = names.indices.contains(progress.ranking) ? names[progress.ranking] : "ranking \(progress.ranking + 1)"
        update("fine-tuning \(progress.job)/\(progress.jobs): \(name), K = \(progress.k) of \(layer)",
               batch: progress.batch, epochs: progress.epochs, fraction: progress.fraction)
    }

    /// Replaces the live line by a line that stays (on a terminal only).
    func note(_ text: String) {
        guard line.isEnabled else { return }
        line.clear()
        printError(text)
    }

    func clear() { line.clear() }
}
