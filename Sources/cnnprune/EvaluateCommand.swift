import ArgumentParser
import CNNDatasets
import CNNEngine
import Foundation

/// `cnnprune evaluate`: test accuracy, overall and per class.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a model on the 10,000 CIFAR-10 test images."
    )

    @Option(help: "The model (safetensors, from cnnprune or PyTorch).")
    var model: String

    @OptionGroup var data: DataOptions
    @OptionGroup var threading: ThreadOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let loaded = try loadModel(model)
        let test = try data.load(.test)
        try data.check(loaded.network, fits: test, model: model, metadata: loaded.metadata)
        let evaluation = Evaluator(threads: threading.threads).evaluate(loaded.network, on: test)
        let perClass = test.classNames.indices.map { ClassAccuracy(class: test.classNames[$0], accuracy: rounded(evaluation.accuracy(ofClass: $0))) }
        if json {
            try printJSON(EvaluationReport(accuracy: rounded(evaluation.accuracy), correct: evaluation.correct,
                                           total: evaluation.total, perClass: perClass))
        } else {
            print(String(format: "test accuracy %.2f%% (%d/%d)  %@", evaluation.accuracy, evaluation.correct, evaluation.total, loaded.model.widthsDescription))
            for entry in perClass {
                print("  \(entry.class.padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(format: "%6.2f%%", entry.accuracy))")
            }
        }
    }
}

struct ClassAccuracy: Codable {
    var `class`: String
    var accuracy: Double
}

/// `evaluate --json` output.
struct EvaluationReport: Codable {
    var accuracy: Double
    var correct: Int
    var total: Int
    var perClass: [ClassAccuracy]
    enum CodingKeys: String, CodingKey {
        case accuracy, correct, total
        case perClass = "per_class"
    }
}
