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
