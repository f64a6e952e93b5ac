import Foundation

/// What one `prune` run gives (``LayerPruneJob``, ``GroupPruneJob``): its report document, its
/// table in words, and the figures a several-model run summarises (``MultiModelPruneSummary``).
public struct PruneRunResult {
    /// The report as a JSON document (``LayerPruneReport`` or ``GroupPruneReport``).
    public var report: any Encodable
    /// The table of the models before and after, and where the pruned one was saved.
    public var text: String
    /// Test accuracy (%) of the model before pruning.
    public var before: Double
    /// Test accuracy (%) after pruning, before the final fine-tuning.
    public var pruned: Double
    /// Test accuracy (%) after fine-tuning, if it ran.
    public var fineTuned: Double?
    /// The pruned model's parameters as a fraction of the original's.
    public var parameterRatio: Double
    /// The pruned model's multiply-accumulates per image as a fraction of the original's.
    public var macsRatio: Double

    /// A result as given.
    /// - Parameters:
    ///   - report: The report document.
    ///   - text: The table and the saved file, in words.
    ///   - before: Test accuracy (%) before pruning.
    ///   - pruned: Test accuracy (%) after pruning.
    ///   - fineTuned: Test accuracy (%) after fine-tuning, if any.
    ///   - parameterRatio: Parameters after over before.
    ///   - macsRatio: Multiply-accumulates after over before.
    public init(report: any Encodable, text: String, before: Double, pruned: Double, fineTuned: Double?, parameterRatio: Double, macsRatio: Double) {
        self.report = report
        self.text = text
        self.before = before
        self.pruned = pruned
        self.fineTuned = fineTuned
        self.parameterRatio = parameterRatio
        self.macsRatio = macsRatio
    }
}

extension PruneRunResult {
    /// The result of a channel-group prune run: its report, the report's table and the file saved.
    /// - Parameters:
    ///   - report: The run's report.
    ///   - timingRuns: The timed passes per model, as the table says.
    public init(_ report: GroupPruneReport, timingRuns: Int) {
        self.init(report: report, text: "\n" + report.table(timingRuns: timingRuns) + "\n\nSaved \(report.output)",
                  before: report.before.accuracy, pruned: report.pruned.accuracy, fineTuned: report.fineTuned?.accuracy,
                  parameterRatio: Double(report.pruned.parameters) / Double(report.before.parameters),
                  macsRatio: Double(report.pruned.multiplyAccumulates) / Double(report.before.multiplyAccumulates))
    }
}

extension MultiModelPruneSummary {
    /// The summary of several models' prune runs, in order.
    /// - Parameter results: Each model's result.
    public init(results: [PruneRunResult]) {
        self.init(before: results.map(\.before), pruned: results.map(\.pruned), fineTuned: results.map(\.fineTuned))
    }
}
