import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNStudy
import Foundation

/// `cnnprune evaluate`: test accuracy, overall and per class.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a model (any architecture) on the 10,000 CIFAR-10 test images."
    )

    @Option(help: "The model (safetensors, from cnnprune or PyTorch).")
    var model: String

    @OptionGroup var data: DataOptions
    @OptionGroup var architecture: ArchitectureOptions
    @OptionGroup var threading: ThreadOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Also write every test image's label, prediction and logits to this CSV file (index,label,predicted,logit_0,…).")
    var predictions: String?

    @Option(parsing: .unconditional, help: "Images per evaluation step, across all threads (the results do not depend on it).")
    var batchSize: Int = 128

    @Option(parsing: .unconditional, help: "Timed passes over the test set; the fastest gives --json's seconds and images_per_second.")
    var timingRuns: Int = 1

    func validate() throws {
        guard (1...65536).contains(batchSize) else { throw ValidationError("--batch-size must be 1…65536, got \(batchSize)") }
        guard (1...100).contains(timingRuns) else { throw ValidationError("--timing-runs must be 1…100, got \(timingRuns)") }
    }

    func run() throws {
        if let predictions { try checkOutputFile(predictions, flag: "--predictions") }
        let test = try data.load(.test)
        let loaded = try ModelFile.load(model, fallback: try architecture.choice.fallback(inputShape: test.sampleShape, defaultClasses: test.classNames.count))
        try data.check(loaded.network, fits: test, model: model, metadata: loaded.metadata)
        let (evaluation, seconds) = Evaluator(threads: threading.threads, batchSize: batchSize)
            .timedEvaluation(of: loaded.network, on: test, runs: timingRuns, collectingLogits: predictions != nil)
        if let predictions {
            try AtomicFile.write(PredictionTable.csv(evaluation, on: test), to: URL(fileURLWithPath: predictions))
        }
        let report = EvaluationReport(evaluation, on: test, seconds: seconds)
        if json { return try printJSON(report) }
        print(String(format: "test accuracy %.2f%% (%d/%d)  %@", evaluation.accuracy, evaluation.correct, evaluation.total, loaded.summary))
        for entry in report.perClass {
            print("  \(entry.class.padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(format: "%6.2f%%", entry.accuracy))")
        }
        if let predictions { print("predictions of \(evaluation.total) images written to \(predictions)") }
    }
}
