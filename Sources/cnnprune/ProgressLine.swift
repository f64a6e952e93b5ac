import CNNEngine
import CNNStudy
import Foundation

/// A live one-line progress display on stderr, shown only when stderr is a terminal, so
/// that piped or logged output stays quiet and parseable.
struct ProgressLine {
    let isEnabled: Bool
    private var lastDraw: Double = 0

    init() {
        isEnabled = isatty(STDERR_FILENO) == 1
    }

    /// Redraws the line at most ten times a second (always when `force`).
    mutating func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard isEnabled else { return }
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        guard force || now - lastDraw >= 0.1 else { return }
        lastDraw = now
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text()).utf8))
    }

    /// Erases the line.
    func clear() {
        guard isEnabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// A text bar of `width` cells, `fraction` full.
    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = max(0, min(width, Int((fraction * Double(width)).rounded())))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    /// `m:ss` for a number of seconds.
    static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// Writes a line to stderr (human-readable notes that must not pollute stdout's JSON).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// The live stderr line while pruned networks are fine-tuned — which network, its epoch and
/// batch, the loss, and the time left for the whole run — shown only when stderr is a
/// terminal, like every other progress display (`ProgressLine`).
final class FineTuneProgress {
    private var line = ProgressLine()
    private let start = DispatchTime.now().uptimeNanoseconds

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

    func clear() { line.clear() }
}

/// A phase message on stderr, shown only when stderr is a terminal and erased when done; the
/// terminal face of a study's ``StudyProgress`` (fine-tuning gets its own live line, notes go to
/// stderr always).
final class StatusLine: StudyProgress {
    private var line = ProgressLine()
    private var fineTune: FineTuneProgress?

    func show(_ text: String) { line.update(text + "…", force: true) }

    func clear() {
        line.clear()
        fineTune?.clear()
        fineTune = nil
    }

    func note(_ text: String) { printError(text) }

    /// A line that stays, on a terminal only (in a log it would be noise); the fine-tuning
    /// display goes on below it with its own clock.
    func transientNote(_ text: String) {
        guard line.isEnabled else { return }
        line.clear()
        fineTune?.clear()
        printError(text)
    }

    func fineTuning(_ what: String, batch: BatchProgress, epochs: Int, fraction: Double) {
        let progress = fineTune ?? FineTuneProgress()
        fineTune = progress
        progress.update(what, batch: batch, epochs: epochs, fraction: fraction)
    }
}
