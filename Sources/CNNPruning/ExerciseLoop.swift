import CNNEngine

/// The exercise's pruning loop, reproduced exactly (`--seed-compatible`): one model pruned in
/// place and cumulatively, re-ranked on the test set before every K, the weights of the K
/// lowest-ranked units zeroed and their biases kept:
///
/// ```python
/// for K in range(0, 32, 2):
///     order = torch.argsort(mean_activation(model, test_images))
///     for i in range(K): model.conv2.weight[order[i]] = 0
///     accuracy(model, test_images)
/// ```
///
/// Two things follow that the corrected sweep avoids. A zeroed unit still outputs its bias, so
/// its mean activation becomes the bias: when that is higher than other units' means it leaves
/// the bottom K, and the next K zeroes fresh units on top of it — the zeroed set grows past K.
/// And the ranking is measured on the very images the accuracy is reported on.
public enum ExerciseLoop {
    /// The loop's course.
    public struct Result: Sendable, Equatable {
        /// For each K, every unit zeroed so far (ascending): possibly more than K.
        public var masks: [[Int]]
        /// For each K, the ranking used (least important first).
        public var rankings: [[Int]]
        /// For each K, the scores that ranking came from.
        public var scores: [[Double]]
    }

    /// Runs the loop's ranking and zeroing for `counts` (in the order given) and returns the
    /// zeroed sets; evaluate them with `MaskedEvaluation` and `keepBias: true`.
    ///
    /// - Parameters:
    ///   - network: the unpruned network.
    ///   - layer: the layer whose units are zeroed.
    ///   - criterion: ranks the units before each K.
    ///   - counts: the K values, in order; each zeroes the K lowest-ranked units on top of those already zeroed.
    ///   - statistics: `layer`'s statistics on the test set for the unpruned `network`, for
    ///     criteria that need activations. A unit with zeroed weights outputs its bias at every
    ///     position, so its statistics after zeroing are known exactly without another pass.
    ///   - recalibrate: for criteria that need gradients (which change downstream of a zeroed
    ///     unit), the statistics of a partly zeroed network on the test set, by a fresh pass.
    public static func run(
        network: Network, layer: PrunableLayer, criterion: any ImportanceCriterion, counts: [Int],
        statistics: UnitStatistics?, recalibrate: ((Network) throws -> UnitStatistics)? = nil
    ) throws -> Result {
        var model = network
        var zeroed = Set<Int>()
        var result = Result(masks: [], rankings: [], scores: [])
        for k in counts {
            let current: UnitStatistics?
            switch criterion.need {
            case .none:
                current = nil
            case .activations:
                guard let statistics else { preconditionFailure("\(criterion.name) needs test-set statistics") }
                current = statistics.replacingUnits(zeroed) { model.bias($0, of: layer) }
            case .gradients:
                guard let recalibrate else { preconditionFailure("\(criterion.name) needs a recalibration pass") }
                current = try recalibrate(model)
            }
            let scores = try criterion.scores(for: layer, in: model, statistics: current)
            let order = criterion.ranking(of: scores)
            let chosen = order.prefix(k)
            model.mask(chosen, of: layer, keepBias: true)
            zeroed.formUnion(chosen)
            result.masks.append(zeroed.sorted())
            result.rankings.append(order)
            result.scores.append(scores)
        }
        return result
    }
}
