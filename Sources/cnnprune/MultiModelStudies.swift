import CNNCharts
import CNNStatistics
import CNNStudy
import CNNDatasets
import CNNEngine
import Foundation

/// Checks a list of model files before any work (CNNStudy's `ModelList.check`): none empty, none
/// twice, each loadable, and all of one architecture; the problems as CLI errors naming `--model`.
func validateModelFiles(_ files: [String], fallback: ModelGraph? = nil) throws {
    do {
        try ModelList.check(files) { try ModelFile.load($0, fallback: fallback).graph }
    } catch let problem as ModelList.Problem {
        switch problem {
        case .emptyEntry: throw CLIError("--model has an empty entry in its comma-separated list")
        case .duplicate: throw CLIError("--model names the same file twice; give each model once")
        case .differentArchitectures: throw CLIError("--model: \(problem.description)")
        }
    }
}

/// A command that studies the model of `--model`, or each of several alike (its files in
/// `--output/model-<i>/`) and then summarises them: `sweep` and `sensitivity`.
protocol ModelStudyCommand {
    /// `--model`: one file, or several separated by commas.
    var model: String { get set }
    /// `--output`: the directory of the files.
    var output: String { get set }
    /// The data flags, for an architecture given by flags.
    var data: DataOptions { get }
    /// `--arch`, `--arch-file`: the architecture of files that record none.
    var architecture: ArchitectureOptions { get }
    /// `--threads`.
    var threading: ThreadOptions { get }
    /// Studies the one model of `model` into `output`: its curves and its classes.
    func studyOne() throws -> (curves: [ModelCurve], classes: Int)
    /// The several-model summary of `results`, written into `output`: the lines to print and
    /// the files written.
    static func summarize(models: [String], results: [(curves: [ModelCurve], classes: Int)], output: URL) throws -> (lines: [String], files: [String])
}

extension ModelStudyCommand {
    /// Studies the one model, or every model of the list and then their summary.
    func runOneOrSeveral() throws {
        let models = ModelList.files(model)
        guard models.count > 1 else { _ = try studyOne(); return }
        let outputLock = try lockOutputDirectory(output)
        defer { withExtendedLifetime(outputLock) {} }
        try validateModelFiles(models, fallback: architecture.fallback(for: data))
        var results: [(curves: [ModelCurve], classes: Int)] = []
        try runEachModel(models, output: output) { path, output in
            var single = self
            single.model = path
            single.output = output
            results.append(try single.studyOne())
        }
        let (lines, files) = try Self.summarize(models: models, results: results, output: URL(fileURLWithPath: output))
        lines.forEach { print($0) }
        print("Wrote \(files.joined(separator: ", ")) (each model's own files in \(output)/model-<i>/)")
    }
}

extension ModelStudyCommand {
    /// Studies the one model of `model` into `output` with `body`, given the loaded model, the
    /// status line and the start time, and prints the report: what `sweep` and `sensitivity`
    /// share around their study (the output folder claimed, the model loaded and checked to
    /// fit in memory, the study's errors named for the model file).
    func runStudy(_ body: (_ loaded: LoadedModel, _ status: StatusLine, _ start: UInt64) throws -> StudyReport) throws -> (curves: [ModelCurve], classes: Int) {
        let outputLock = try lockOutputDirectory(output)
        defer { withExtendedLifetime(outputLock) {} }
        let start = DispatchTime.now().uptimeNanoseconds
        let status = StatusLine()
        defer { status.clear() }
        let loaded = try ModelFile.load(model, fallback: architecture.fallback(for: data))
        try checkStudyMemory(loaded.network, threads: threading.threads, model: model)
        let report: StudyReport
        do { report = try body(loaded, status, start) } catch let error as StudyError { throw CLIError(error.commandLineDescription(model: model)) }
        status.clear()
        printReport(report, since: start)
        return (report.curves, report.classes)
    }

    /// The test set (read under a status line) checked against `loaded`, and the calibration
    /// images drawn with `seed`.
    func testImages(for loaded: LoadedModel, seed: UInt64, status: StatusLine) throws -> (test: ByteImages, images: CalibrationImages) {
        status.show("reading the \(data.dataset.displayName) test set")
        let test = try data.load(.test)
        try data.check(loaded.network, fits: test, model: model, metadata: loaded.metadata)
        return (test, CalibrationImages(data: data, test: test, seed: seed, threads: threading.threads, status: status))
    }
}

extension SweepCommand: ModelStudyCommand {
    static func summarize(models: [String], results: [(curves: [ModelCurve], classes: Int)], output: URL) throws -> (lines: [String], files: [String]) {
        let summary = try MultiModelSweepSummary(models: models, curves: results.map(\.curves), classes: results[0].classes)
        return (summary.lines, try summary.write(to: output))
    }
}

extension SensitivityCommand: ModelStudyCommand {
    static func summarize(models: [String], results: [(curves: [ModelCurve], classes: Int)], output: URL) throws -> (lines: [String], files: [String]) {
        let summary = try MultiModelSensitivitySummary(models: models, curves: results.map(\.curves), classes: results[0].classes)
        return ([summary.line], try summary.write(to: output))
    }
}

/// Runs `body` for each of `models` with the folder of its own outputs (`output/model-<i>`),
/// announcing each model.
func runEachModel(_ models: [String], output: String, _ body: (_ path: String, _ output: String) throws -> Void) throws {
    for (index, path) in models.enumerated() {
        print("Model \(index + 1) of \(models.count): \(path)")
        try body(path, ModelList.directory(output, index: index).path)
        print("")
    }
}

/// `prune --model a,b,…`: every model pruned alike (outputs `NAME-<i>.safetensors` for
/// `--output NAME.safetensors`), then the accuracies over the models (`MultiModelPruneSummary`).
struct MultiModelPruneRun {
    let command: PruneCommand
    let models: [String]

    func run() throws {
        var results: [PruneRunResult] = []
        for (index, path) in models.enumerated() {
            var single = command
            single.model = path
            single.output = ModelList.output(command.output, index: index)
            if !command.json { print("Model \(index + 1) of \(models.count): \(path)") }
            let result = try single.pruneOne()
            if !command.json { print(result.text + "\n") }
            results.append(result)
        }
        let summary = MultiModelPruneSummary(results: results)
        if command.json { print(try summary.json(reports: results.map(\.report))) } else { summary.lines.forEach { print($0) } }
    }
}
