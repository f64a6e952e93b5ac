import CNNEngine

/// Where a study reports what it is doing. The library prints nothing itself: the command line
/// draws these as a live status line on a terminal, a program may log them or ignore them
/// (``SilentProgress``).
public protocol StudyProgress: AnyObject {
    /// A phase begins (`ranking on 5,000 training images: …`); it lasts until the next phase or ``clear()``.
    func show(_ phase: String)
    /// The current phase (or fine-tuning display) is over.
    func clear()
    /// A remark the user should read even when no phase is displayed, e.g. a calibration set
    /// larger than the training split.
    func note(_ text: String)
    /// One batch of fine-tuning done: `what` is being trained, `batch` says where in its
    /// `epochs`, and `fraction` of the whole fine-tuning is done (for an estimate of the time left).
    func fineTuning(_ what: String, batch: BatchProgress, epochs: Int, fraction: Double)
    /// A remark that belongs with the live display (a fine-tuned point reached): worth a line
    /// where phases are shown, noise in a log. Ignored by default.
    func transientNote(_ text: String)
}

extension StudyProgress {
    /// Ignored: a progress sink without a live display has no use for it.
    public func transientNote(_ text: String) {}
}

/// Progress that goes nowhere: for programs and tests that only want the results.
public final class SilentProgress: StudyProgress {
    /// A progress sink that discards everything.
    public init() {}
    /// Ignored.
    public func show(_ phase: String) {}
    /// Ignored.
    public func clear() {}
    /// Ignored.
    public func note(_ text: String) {}
    /// Ignored.
    public func fineTuning(_ what: String, batch: BatchProgress, epochs: Int, fraction: Double) {}
}
