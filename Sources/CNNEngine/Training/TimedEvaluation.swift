import Foundation

extension Evaluator {
    /// Evaluates `network` on `data` `runs` times and keeps the fastest pass's time.
    /// - Parameters:
    ///   - network: the network evaluated.
    ///   - data: the images.
    ///   - runs: the timed passes (at least 1).
    ///   - collectingLogits: whether to keep every image's logits.
    /// - Returns: the evaluation (every pass gives the same) and the fastest pass in seconds.
    public func timedEvaluation<Data: LabeledImages>(of network: Network, on data: Data, runs: Int,
                                                     collectingLogits: Bool = false) -> (evaluation: Evaluation, seconds: Double) {
        precondition(runs >= 1, "at least one timed pass")
        var result: (evaluation: Evaluation, seconds: Double)?
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let evaluation = evaluate(network, on: data, collectingLogits: collectingLogits)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            result = (evaluation, min(seconds, result?.seconds ?? .infinity))
        }
        return result!
    }
}
