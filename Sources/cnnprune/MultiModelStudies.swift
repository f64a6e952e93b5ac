import CNNCharts
import CNNStatistics
import CNNStudy
import CNNEngine
import Foundation

/// The model files of a `--model` value: one path, or several separated by commas (CNNStudy's `ModelList`).
func modelFiles(_ value: String) -> [String] { ModelList.files(value) }

/// Checks a list of model files before any work (CNNStudy's `ModelList.check`): none empty, none
/// twice, each loadable, and all of one architecture; the problems as CLI errors naming `--model`.
func validateModelFiles(_ files: [String], fallback: ModelGraph? = nil) throws {
    do {
        try ModelList.check(files) { try loadAnyModel($0, fallback: fallback).graph }
    } catch let problem as ModelList.Problem {
        switch problem {
        case .emptyEntry: throw CLIError("--model has an empty entry in its comma-separated list")
        case .duplicate: throw CLIError("--model names the same file twice; give each model once")
        case .differentArchitectures: throw CLIError("--model: \(problem.description)")
        }
    }
}

/// The folder of model `index`'s own outputs inside a several-model run's `--output`.
func perModelDirectory(_ output: String, index: Int) -> URL { ModelList.directory(output, index: index) }

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
    /// Studies the one model of `model` into `output`: its curves and its classes.
    func studyOne() throws -> (curves: [ModelCurve], classes: Int)
    /// The several-model summary of `results`, written into `output`: the lines to print and
    /// the files written.
    static func summarize(models: [String], results: [(curves: [ModelCurve], classes: Int)], output: URL) throws -> (lines: [String], files: [String])
}

extension ModelStudyCommand {
    /// Studies the one model, or every model of the list and then their summary.
    func runOneOrSeveral() throws {
        let models = modelFiles(model)
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
        let (lines, files) = try studyStep { try Self.summarize(models: models, results: results, output: URL(fileURLWithPath: output)) }
        lines.forEach { print($0) }
        print("Wrote \(files.joined(separator: ", ")) (each model's own files in \(output)/model-<i>/)")
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
        try body(path, perModelDirectory(output, index: index).path)
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
