/// Counts of (true class, predicted class) pairs: `counts[t][p]` samples labelled `t` were
/// predicted `p`. Rows are the data's classes, columns the network's outputs (the same ten for
/// CIFAR-10); the diagonal holds the correct predictions.
public struct ConfusionMatrix: Equatable, Sendable {
    /// `counts[label][predicted]`: how many samples of class `label` were predicted as `predicted`.
    public var counts: [[Int]]

    /// - Parameters:
    ///   - labels: the true class of every sample.
    ///   - predictions: the predicted class of every sample, in the same order.
    ///   - rows: the number of true classes.
    ///   - columns: the number of predictable classes.
    public init(labels: [Int], predictions: [Int32], rows: Int, columns: Int) {
        precondition(labels.count == predictions.count)
        counts = [[Int]](repeating: [Int](repeating: 0, count: columns), count: rows)
        for (label, predicted) in zip(labels, predictions) { counts[label][Int(predicted)] += 1 }
    }

    /// The confusion matrix of `evaluation`, made on `data`.
    public init<Data: LabeledImages>(_ evaluation: Evaluation, on data: Data) {
        precondition(evaluation.predictions.count == data.count)
        self.init(labels: (0..<data.count).map(data.label(at:)), predictions: evaluation.predictions,
                  rows: data.classNames.count, columns: max(evaluation.classes, data.classNames.count))
    }
}
