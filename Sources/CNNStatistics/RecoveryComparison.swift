/// Fine-tuning recovery over several models: each model pruned and fine-tuned, against the same
/// model fine-tuned equally long without pruning (the K = 0 control), compared *paired*, so
/// that what the extra training alone gives, and the seed-to-seed spread, cancel.
public struct RecoveryComparison: Sendable, Equatable {
    /// Each model's test accuracy (%) after pruning and fine-tuning.
    public let pruned: [Double]
    /// The same models' test accuracy (%) after the same fine-tuning, unpruned.
    public let control: [Double]
    /// `pruned − control`, paired by model.
    public let comparison: PairedComparison

    /// - Parameters:
    ///   - pruned: one accuracy per model, pruned and fine-tuned.
    ///   - control: the same models' accuracies, fine-tuned unpruned, in the same order.
    ///   - level: the interval's coverage, default 0.95.
    public init(pruned: [Double], control: [Double], level: Double = 0.95) {
        self.pruned = pruned
        self.control = control
        comparison = PairedComparison(pruned, control, level: level)
    }

    /// How many models were compared.
    public var modelCount: Int { pruned.count }

    /// The mean of `pruned − control` in points: negative when pruning costs accuracy that
    /// fine-tuning did not win back.
    public var meanDifference: Double { comparison.meanDifference }

    /// The reading in one sentence: "after fine-tuning the pruned models stay below their
    /// controls by 1.20 points (95 % CI 0.40 to 2.00; paired t p = 0.012)" where the interval
    /// excludes 0 ("above" when it lies above 0), "no difference between the pruned models and
    /// their controls detected with N models (…)" otherwise, and a plain statement for one model.
    public var sentence: String {
        let d = meanDifference
        guard let interval = comparison.interval, let test = comparison.test else {
            return "after fine-tuning the pruned model is \(signedNumber(d)) points from its equally fine-tuned control, on one model (no interval with one model)"
        }
        let percent = Int((interval.level * 100).rounded())
        let p = pValueText(test.pValue)
        if interval.upper < 0 {
            return "after fine-tuning the pruned models stay below their equally fine-tuned controls by \(number(-d)) points (\(percent) % CI \(number(-interval.upper)) to \(number(-interval.lower)); paired t \(p))"
        }
        if interval.lower > 0 {
            return "after fine-tuning the pruned models end above their equally fine-tuned controls by \(number(d)) points (\(percent) % CI \(number(interval.lower)) to \(number(interval.upper)); paired t \(p))"
        }
        return "no difference between the fine-tuned pruned models and their equally fine-tuned controls detected with \(modelCount) models (mean difference \(signedNumber(d)) points, \(percent) % CI \(signedNumber(interval.lower)) to \(signedNumber(interval.upper)); paired t \(p))"
    }
}
