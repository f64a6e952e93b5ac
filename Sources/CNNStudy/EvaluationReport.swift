import CNNEngine

/// A network's test accuracy, overall and per class, with the confusion matrix and the time a
/// pass over the test set took: the document `cnnprune evaluate --json` prints.
public struct EvaluationReport: Codable, Sendable, Equatable {
    /// Test accuracy (%), rounded to two places.
    public var accuracy: Double
    /// Images classified correctly.
    public var correct: Int
    /// Images evaluated.
    public var total: Int
    /// Each class's accuracy (%), rounded to two places, in label order.
    public var perClass: [ClassAccuracy]
    /// Rows: true class; columns: predicted class.
    public var confusionMatrix: [[Int]]
    /// The fastest timed pass over the test set, in process (no loading), and its speed.
    public var seconds: Double
    /// Images per second of that pass, rounded.
    public var imagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case accuracy, correct, total, seconds
        case perClass = "per_class"
        case confusionMatrix = "confusion_matrix"
        case imagesPerSecond = "images_per_second"
    }

    /// The report of `evaluation` on `data`, whose fastest pass took `seconds`.
    /// - Parameters:
    ///   - evaluation: the evaluation of a network on `data`.
    ///   - data: the images evaluated (their labels and class names).
    ///   - seconds: the fastest timed pass.
    public init<Data: LabeledImages>(_ evaluation: Evaluation, on data: Data, seconds: Double) {
        accuracy = rounded(evaluation.accuracy)
        correct = evaluation.correct
        total = evaluation.total
        perClass = data.classNames.indices.map { ClassAccuracy(class: data.classNames[$0], accuracy: rounded(evaluation.accuracy(ofClass: $0))) }
        confusionMatrix = ConfusionMatrix(evaluation, on: data).counts
        self.seconds = seconds
        imagesPerSecond = (Double(evaluation.total) / seconds).rounded()
    }
}
