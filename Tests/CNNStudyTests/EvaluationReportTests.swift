import CNNDatasets
import CNNEngine
import CNNStudy
import Foundation
import Testing

/// `EvaluationReport`: the evaluation document, counted independently from the predictions.
@Suite struct EvaluationReportTests {
    @Test func countsMatchThePredictionsAndTheJSONKeysAreStable() throws {
        var generator = SeededGenerator(seed: 5)
        let network = Network(architecture: try StudyFixtures.widths.architecture(), generator: &generator)
        let test = StudyFixtures.test
        let (evaluation, seconds) = Evaluator(threads: 1).timedEvaluation(of: network, on: test, runs: 2)
        let report = EvaluationReport(evaluation, on: test, seconds: seconds)
        let labels = (0..<test.count).map { Int(test.label(at: $0)) }
        let correct = zip(labels, evaluation.predictions).filter { $0 == Int($1) }.count
        #expect(report.correct == correct && report.total == test.count)
        #expect(report.confusionMatrix.joined().reduce(0, +) == test.count)
        #expect((0..<3).map { report.confusionMatrix[$0][$0] }.reduce(0, +) == correct)
        #expect(report.perClass.map(\.class) == test.classNames)
        #expect(report.seconds > 0 && report.seconds.isFinite)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        let keys = Set(object?.keys.map { $0 } ?? [])
        #expect(keys == ["accuracy", "correct", "total", "per_class", "confusion_matrix", "seconds", "images_per_second"])
    }
}
