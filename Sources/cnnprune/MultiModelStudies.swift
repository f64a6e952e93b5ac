import CNNCharts
import CNNStatistics
import CNNStudy
import CNNEngine
import Foundation

/// The model files of a `--model` value: one path, or several separated by commas
/// (`--model a.safetensors,b.safetensors`). A value that names an existing file is one model even
/// if it holds a comma.
func modelFiles(_ value: String) -> [String] {
    if FileManager.default.fileExists(atPath: value) || !value.contains(",") { return [value] }
    return value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
}

/// Checks a list of model files before any work: none empty, none twice, each loadable, and
/// all of one architecture (several models are summarised as seeds of one network: a mixed
/// list would be averaged as if it were one).
func validateModelFiles(_ files: [String], fallback: ModelGraph? = nil) throws {
    if files.contains(where: \.isEmpty) { throw CLIError("--model has an empty entry in its comma-separated list") }
    if Set(files).count != files.count { throw CLIError("--model names the same file twice; give each model once") }
    var first: (path: String, graph: ModelGraph)?
    for path in files {
        let graph = try loadAnyModel(path, fallback: fallback).graph
        guard let reference = first else { first = (path, graph); continue }
        guard graph == reference.graph else {
            throw CLIError("--model: \(path) (\(graph.name ?? "custom architecture")) and \(reference.path) (\(reference.graph.name ?? "custom architecture")) are networks of different architectures or widths; several models are compared as seeds of one network")
        }
    }
}

/// The folder of model `index`'s own outputs inside a several-model run's `--output`.
func perModelDirectory(_ output: String, index: Int) -> URL {
    URL(fileURLWithPath: output).appendingPathComponent("model-\(index)")
}

/// `sweep --model a,b,…`: every model swept alike (its files in `model-<i>/`), then the criteria
/// over the models (`MultiModelSweepSummary`).
struct MultiModelSweepRun {
    let command: SweepCommand
    let models: [String]

    func run() throws {
        var results: [(curves: [ModelCurve], classes: Int)] = []
        try runEachModel(models, output: command.output) { path, output in
            var single = command
            single.model = path
            single.output = output
            results.append(try single.sweepOne())
        }
        let summary = try studyStep {
            try MultiModelSweepSummary(models: models, curves: results.map(\.curves), classes: results[0].classes)
        }
        let files = try studyStep { try summary.write(to: URL(fileURLWithPath: command.output)) }
        summary.lines.forEach { print($0) }
        print("Wrote \(files.joined(separator: ", ")) (each model's own files in \(command.output)/model-<i>/)")
    }
}

/// `sensitivity --model a,b,…`: every model's sensitivity (its files in `model-<i>/`), then each
/// layer over the models (`MultiModelSensitivitySummary`).
struct MultiModelSensitivityRun {
    let command: SensitivityCommand
    let models: [String]

    func run() throws {
        var results: [(curves: [ModelCurve], classes: Int)] = []
        try runEachModel(models, output: command.output) { path, output in
            var single = command
            single.model = path
            single.output = output
            results.append(try single.analyseOne())
        }
        let summary = try studyStep {
            try MultiModelSensitivitySummary(models: models, curves: results.map(\.curves), classes: results[0].classes)
        }
        let files = try studyStep { try summary.write(to: URL(fileURLWithPath: command.output)) }
        print(summary.line)
        print("Wrote \(files.joined(separator: ", ")) (each model's own files in \(command.output)/model-<i>/)")
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

/// What one `prune` run gives: its `--json` report, its table, and the figures a several-model
/// run summarises.
struct PruneRunResult {
    var report: any Encodable
    var text: String
    /// Test accuracy (%) of the model before pruning, after it, and after fine-tuning (if any).
    var before: Double
    var pruned: Double
    var fineTuned: Double?
    var parameterRatio: Double
    var macsRatio: Double
}

/// `prune --model a,b,…`: every model pruned alike (outputs `NAME-<i>.safetensors` for
/// `--output NAME.safetensors`), then the accuracies over the models: before, pruned and
/// fine-tuned, each with its 95 % interval, and the change from before to the final model
/// compared paired (same model).
struct MultiModelPruneRun {
    let command: PruneCommand
    let models: [String]

    /// `pruned.safetensors` → `pruned-1.safetensors` for model 1.
    static func output(_ output: String, index: Int) -> String {
        let url = URL(fileURLWithPath: output)
        let ext = url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let name = ext.isEmpty ? "\(stem)-\(index)" : "\(stem)-\(index).\(ext)"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    func run() throws {
        var results: [PruneRunResult] = []
        for (index, path) in models.enumerated() {
            var single = command
            single.model = path
            single.output = Self.output(command.output, index: index)
            if !command.json { print("Model \(index + 1) of \(models.count): \(path)") }
            let result = try single.pruneOne()
            if !command.json { print(result.text + "\n") }
            results.append(result)
        }
        let summary = MultiModelPruneSummary(before: results.map(\.before), pruned: results.map(\.pruned), fineTuned: results.map(\.fineTuned))
        if command.json {
            print(try summary.json(reports: results.map(\.report)))
            return
        }
        summary.lines.forEach { print($0) }
    }
}
