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
