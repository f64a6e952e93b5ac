import CNNEngine

/// Distiller-style sensitivity analysis: each channel group (or SimpleCNN layer) on its own, a
/// growing fraction of its units masked (ranked once, no fine-tuning), accuracy measured at
/// each fraction. Groups that cannot be pruned are reported with the reason, never as curves
/// that lose nothing.
public enum Sensitivity {
    /// 0 %, 10 %, … 90 %.
    public static let defaultFractions: [Double] = (0..<10).map { Double($0) / 10 }

    /// One group's curve.
    public struct Curve: Sendable {
        /// The group (a SimpleCNN layer's is its one-producer group).
        public var group: ChannelGroup
        /// The fractions of its units removed, one per point.
        public var fractions: [Double]
        /// The accuracy at each fraction.
        public var sweep: CriterionSweep
        /// The unpruned network on the same images.
        public var baseline: SweepPoint
    }

    /// The analysis: a curve per prunable group, and the groups left out with why.
    public struct Result: Sendable {
        /// One curve per prunable group, in the network's order.
        public var curves: [Curve]
        /// The groups left out, each with why.
        public var unprunable: [(group: String, reason: String)]
    }

    /// Runs the analysis for the SimpleCNN layers `layers` with one request (its calibration
    /// set and masking method). Each fraction `f` masks `PruningCounts.count(fraction: f, of:
    /// units)` units (repeated counts are measured once).
    /// - Parameters:
    ///   - network: the unpruned network.
    ///   - layers: the layers to sweep.
    ///   - request: the criterion, calibration and masking method.
    ///   - fractions: the fractions of each layer's units to mask.
    ///   - evaluationData: the images the accuracy is measured on.
    ///   - threads: evaluation workers.
    ///   - evaluation: the prepared evaluation for a layer (to share passes between layers and
    ///     with other sweeps); by default a fresh one on `evaluationData`.
    ///   - provider: the statistics provider for each layer.
    /// - Throws: the criterion's error.
    public static func run<Data: LabeledImages>(
        network: Network, layers: [PrunableLayer], request: SweepRequest, fractions: [Double] = defaultFractions,
        evaluationData: Data, threads: Int, evaluation: ((PrunableLayer) -> MaskedEvaluation)? = nil,
        statistics provider: (PrunableLayer) -> Sweep.StatisticsProvider
    ) throws -> Result {
        let curves = try layers.map { layer in
            let (counts, kept) = PruningCounts.counts(fractions: fractions, of: layer.unitCount)
            let prepared = evaluation?(layer) ?? MaskedEvaluation(
                network: network, layer: layer, data: evaluationData, threads: threads,
                collectStatistics: request.criterion.need == .activations && request.calibration == .test)
            let result = try Sweep.run(on: prepared, requests: [request], counts: counts, statistics: provider(layer))
            return Curve(group: layer.group, fractions: kept, sweep: result.sweeps[0], baseline: result.baseline)
        }
        return Result(curves: curves, unprunable: [])
    }

    /// Runs `request` on every group of `groups`; groups for which `whyNotPrunable` answers
    /// are listed in `unprunable`.
    /// - Parameters:
    ///   - network: the unpruned network.
    ///   - groups: the groups to sweep.
    ///   - allowResidual: also sweep groups coupled through residual sums.
    ///   - request: the criterion and its legend name.
    ///   - fractions: the fractions of each group's channels to mask.
    ///   - evaluationData: the images the accuracy is measured on.
    ///   - threads: evaluation workers.
    ///   - statistics: per-group calibration statistics, for data-driven criteria.
    /// - Throws: the criterion's error.
    public static func run<Data: LabeledImages>(
        network: Network, groups: [ChannelGroup], allowResidual: Bool, request: SweepRequest,
        fractions: [Double] = defaultFractions, evaluationData: Data, threads: Int,
        statistics: [String: GroupStatistics] = [:]
    ) throws -> Result {
        var curves: [Curve] = []
        var unprunable: [(String, String)] = []
        for group in groups {
            if let why = group.whyNotPrunable(allowResidual: allowResidual) {
                unprunable.append((group.name, why))
                continue
            }
            let (counts, kept) = PruningCounts.counts(fractions: fractions, of: group.units)
            let result = try Sweep.run(network: network, group: group, requests: [request], counts: counts,
                                       evaluationData: evaluationData, threads: threads, statistics: statistics[group.name])
            curves.append(Curve(group: group, fractions: kept, sweep: result.sweeps[0], baseline: result.baseline))
        }
        return Result(curves: curves, unprunable: unprunable)
    }
}
