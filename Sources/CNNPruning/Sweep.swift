import CNNEngine

/// How a sweep chooses and masks the units for each K.
public enum SweepMethod: Sendable, Equatable {
    /// Rank once on the trained model; for each K a fresh copy with the K least important units
    /// masked (nested sets). `keepBias` zeroes the weights only.
    case rankOnce(keepBias: Bool)
    /// The exercise's loop (`ExerciseLoop`): in place, cumulative, re-ranked on the test set
    /// before each K, weights zeroed, biases kept.
    case exerciseLoop

    /// Whether masked units keep their bias.
    public var keepsBias: Bool {
        switch self {
        case .rankOnce(let keepBias): return keepBias
        case .exerciseLoop: return true
        }
    }
}

/// Accuracy after masking, at one K.
public struct SweepPoint: Sendable, Equatable {
    /// Units asked to be pruned.
    public var k: Int
    /// Units actually masked (ascending). `k` of them, except in the exercise's loop.
    public var masked: [Int]
    /// Correctly classified evaluation images.
    public var correct: Int
    /// Evaluation images.
    public var total: Int
    /// Accuracy in percent.
    public var accuracy: Double { total == 0 ? 0 : 100 * Double(correct) / Double(total) }

    /// The result at one K (see the properties).
    public init(k: Int, masked: [Int], correct: Int, total: Int) {
        self.k = k
        self.masked = masked
        self.correct = correct
        self.total = total
    }
}

/// One line of a sweep: what to rank with, on which data, and how to mask.
public struct SweepRequest: Sendable {
    /// Ranks the layer's units.
    public var criterion: any ImportanceCriterion
    /// Where the ranking's statistics come from (ignored by criteria that need no data; the
    /// exercise's loop always uses the test set).
    public var calibration: CalibrationSet
    /// How the units are chosen and masked for each K: ranked once on the trained model, or by the exercise's loop.
    public var method: SweepMethod
    /// The legend name, e.g. `mean-activation` or `exercise's loop`.
    public var label: String

    /// A request to sweep with `criterion`, statistics from `calibration`, masking by `method`, shown as `label`.
    public init(criterion: any ImportanceCriterion, calibration: CalibrationSet = .default, method: SweepMethod = .rankOnce(keepBias: false), label: String? = nil) {
        self.criterion = criterion
        self.calibration = method == .exerciseLoop ? .test : calibration
        self.method = method
        self.label = label ?? criterion.name
    }

    /// The calibration data actually used, or `nil` for a criterion that needs none.
    public var effectiveCalibration: CalibrationSet? { criterion.need == .none ? nil : calibration }
}

/// The outcome of one `SweepRequest`.
public struct CriterionSweep: Sendable {
    /// What was swept.
    public var request: SweepRequest
    /// Scores on the trained (unpruned) model.
    public var scores: [Double]
    /// The ranking on the trained model, least important first.
    public var ranking: [Int]
    /// Accuracy after masking the K least important units, for every K swept.
    public var points: [SweepPoint]
}

/// The sweeps of one channel group (or SimpleCNN layer), with the unpruned network's result on
/// the same images.
public struct SweepResult: Sendable {
    /// The unpruned network (K = 0).
    public var baseline: SweepPoint
    /// One per request, in request order.
    public var sweeps: [CriterionSweep]
}

/// Sweeps: rank the units of one channel group with each request's criterion, then measure the
/// accuracy with the K least important masked, for each K, on a fresh copy per K (nested sets:
/// the K + 1 lowest include the K lowest), all copies sharing one pass of the layers before the
/// group.
///
/// A SimpleCNN layer is a channel group with one producer; its study (`run(network:layer:…)`)
/// adds the exercise's policy on the same masked-evaluation engine (`ConsumerMasking`): the
/// exercise's loop, kept biases, statistics from several calibration sets, scores of the one
/// producer as they are (not normalised, as a group's are for global comparison).
public enum Sweep {
    /// Supplies `layer`'s statistics of a network on a calibration set; the Bool asks for
    /// gradient products too. Called once per calibration set for the trained network (results
    /// are shared between requests), and once per K for a gradient criterion in the exercise's loop.
    public typealias StatisticsProvider = (Network, CalibrationSet, Bool) throws -> UnitStatistics

    /// Runs `requests` on `layer` of `network` for `counts`, evaluating on `evaluationData`.
    /// Statistics on the test set for activation criteria come from the evaluation pass itself;
    /// all other statistics from `statistics`.
    /// - Parameters:
    ///   - network: the unpruned network.
    ///   - layer: the SimpleCNN layer to mask.
    ///   - requests: one sweep per request.
    ///   - counts: the K values.
    ///   - evaluationData: the images the accuracy is measured on.
    ///   - threads: evaluation workers.
    ///   - provider: the layer's statistics on a calibration set.
    /// - Throws: `PruningError.countOutOfRange` for a K outside 0…units, or the criterion's error.
    public static func run<Data: LabeledImages>(
        network: Network, layer: PrunableLayer, requests: [SweepRequest], counts: [Int],
        evaluationData: Data, threads: Int, statistics provider: @escaping StatisticsProvider
    ) throws -> SweepResult {
        try PruningCounts.validate(counts, for: layer)
        let testActivations = requests.contains { $0.criterion.need == .activations && $0.calibration == .test }
        let evaluation = MaskedEvaluation(network: network, layer: layer, data: evaluationData, threads: threads,
                                          collectStatistics: testActivations)
        return try run(on: evaluation, requests: requests, counts: counts, statistics: provider)
    }

    /// Runs `requests` for `counts` on an evaluation already prepared (e.g. shared with a
    /// sensitivity analysis). Statistics on the test set come from `evaluation.statistics` when
    /// it gathered them, else from `statistics` with `.test`.
    public static func run(
        on evaluation: MaskedEvaluation, requests: [SweepRequest], counts: [Int], statistics provider: @escaping StatisticsProvider
    ) throws -> SweepResult {
        let network = evaluation.network, layer = evaluation.layer
        try PruningCounts.validate(counts, for: layer)
        // One calibration pass per data set, with gradients if any request on it needs them.
        var cache: [String: UnitStatistics] = [:]
        func statistics(for request: SweepRequest) throws -> UnitStatistics? {
            let need = request.criterion.need
            if need == .none { return nil }
            if need == .activations && request.calibration == .test, let gathered = evaluation.statistics { return gathered }
            let key = request.calibration.description
            if let cached = cache[key], need != .gradients || cached.gradientProductSum != nil { return cached }
            let gradients = requests.contains { $0.calibration == request.calibration && $0.criterion.need == .gradients }
            let gathered = try provider(network, request.calibration, gradients)
            cache[key] = gathered
            return gathered
        }

        var prepared: [(scores: [Double], ranking: [Int], sequence: MaskSequence)] = []
        for request in requests {
            let base = try statistics(for: request)
            let scores = try request.criterion.scores(for: layer, in: network, statistics: base)
            let ranking = request.criterion.ranking(of: scores)
            switch request.method {
            case .rankOnce(let keepBias):
                prepared.append((scores, ranking, .nested(ranking: ranking, counts: counts, keepBias: keepBias)))
            case .exerciseLoop:
                let loop = try ExerciseLoop.run(network: network, layer: layer, criterion: request.criterion, counts: counts,
                                                statistics: base) { model in try provider(model, .test, true) }
                prepared.append((scores, ranking, MaskSequence(masks: loop.masks, keepBias: true)))
            }
        }
        let correct = evaluation.correctCounts(prepared.map(\.sequence) + [MaskSequence(masks: [[]])])
        let sweeps = requests.indices.map { r in
            let points = counts.indices.map { i in
                SweepPoint(k: counts[i], masked: prepared[r].sequence.masks[i].sorted(), correct: correct[r][i], total: evaluation.sampleCount)
            }
            return CriterionSweep(request: requests[r], scores: prepared[r].scores, ranking: prepared[r].ranking, points: points)
        }
        let baseline = SweepPoint(k: 0, masked: [], correct: correct[requests.count][0], total: evaluation.sampleCount)
        return SweepResult(baseline: baseline, sweeps: sweeps)
    }

    /// Runs `requests` on the channel group `group` of `network` for `counts` (each in
    /// 0…units), evaluating on `evaluationData`. Each request ranks once on the trained model
    /// and masks the group's channels whole (filters, biases, BatchNorms); its calibration set
    /// is the one `statistics` were gathered on.
    /// - Parameters:
    ///   - network: the unpruned network.
    ///   - group: the channel group to mask.
    ///   - requests: one sweep per request.
    ///   - counts: the K values.
    ///   - evaluationData: the images the accuracy is measured on.
    ///   - threads: evaluation workers.
    ///   - statistics: the group's calibration statistics, for data-driven criteria.
    /// - Throws: `PruningError.countOutOfRange` for a K outside 0…units,
    ///   `PruningError.notPrunable` for a request with another method than ranking once with
    ///   biases zeroed (the exercise's loop and kept biases belong to a SimpleCNN layer's
    ///   study), or the criterion's error.
    public static func run<Data: LabeledImages>(
        network: Network, group: ChannelGroup, requests: [SweepRequest], counts: [Int], evaluationData: Data,
        threads: Int, statistics: GroupStatistics? = nil
    ) throws -> SweepResult {
        for k in counts where !(0...group.units).contains(k) {
            throw PruningError.countOutOfRange(k, layer: group.name, units: group.units, unitName: group.unitName)
        }
        if let request = requests.first(where: { $0.method != .rankOnce(keepBias: false) }) {
            throw PruningError.notPrunable(group.name, reason: "a channel group is masked whole; \(request.label) asks for the SimpleCNN layer study's masking")
        }
        let evaluation = try GroupMaskedEvaluation(network: network, group: group, threads: threads)
        var prepared: [(scores: [Double], ranking: [Int])] = []
        var unitSets: [[Int]] = [[]]
        for request in requests {
            let scores = try request.criterion.scores(for: group, in: network, statistics: statistics)
            let ranking = request.criterion.ranking(of: scores)
            prepared.append((scores, ranking))
            for k in counts { unitSets.append(Array(ranking.prefix(k))) }
        }
        let correct = try evaluation.correctCounts(masking: unitSets, on: evaluationData)
        let total = evaluationData.count
        let sweeps = requests.indices.map { r in
            CriterionSweep(request: requests[r], scores: prepared[r].scores, ranking: prepared[r].ranking, points: counts.indices.map { i in
                SweepPoint(k: counts[i], masked: prepared[r].ranking.prefix(counts[i]).sorted(), correct: correct[1 + r * counts.count + i], total: total)
            })
        }
        return SweepResult(baseline: SweepPoint(k: 0, masked: [], correct: correct[0], total: total), sweeps: sweeps)
    }
}
