import Foundation
import CNNEngine

/// What a criterion needs besides the network's weights.
public enum CalibrationNeed: Sendable, Equatable, Comparable {
    /// Weights only (or nothing at all).
    case none
    /// The layer's outputs on calibration images (a forward pass).
    case activations
    /// The layer's outputs and the loss gradients with respect to them (forward and backward).
    case gradients
}

/// Which end of a criterion's scores marks the least important units.
public enum ScoreOrder: Sendable, Equatable {
    /// Low scores are pruned first (mean activation, norms, Taylor).
    case lowestFirst
    /// High scores are pruned first (APoZ: mostly-zero units).
    case highestFirst

    /// Unit indices ordered least important first — the one ranking function of every study.
    ///
    /// Ties are broken by the lower unit index first (a stable sort), so every run gives the
    /// same order; a NaN score counts as least important. For distinct scores this is exactly
    /// `torch.argsort(scores)` (or `argsort(-scores)` for `highestFirst`).
    public func ranking(of scores: [Double]) -> [Int] {
        let keys = scores.map(sortKey)
        return keys.indices.sorted { a, b in keys[a] != keys[b] ? keys[a] < keys[b] : a < b }
    }

    /// The key that orders `score` least important first (NaN first of all), for rankings
    /// across groups.
    public func sortKey(_ score: Double) -> Double {
        if score.isNaN { return -.infinity }
        return self == .lowestFirst ? score : -score
    }
}

/// The channels (or features) one layer produces, as a criterion scores them: a convolution's
/// output channels or a `Linear`'s output features, with the BatchNorm that follows it, if any.
public struct ProducerChannels: Sendable, Equatable {
    /// The producing layer's full name, e.g. `conv2` or `layer1.0.conv1`.
    public var name: String
    /// Channels (or features).
    public var units: Int
    /// The layer's weight, `[units, …]`: unit `u`'s filter is its `u`-th slice.
    public var weight: ParameterEntry
    /// The BatchNorm right after the layer, which reads its channels, if any.
    public var normalization: String?

    /// The channels of layer `name` (weight `weight`, `units` rows), normalised by `normalization`.
    public init(name: String, units: Int, weight: ParameterEntry, normalization: String? = nil) {
        self.name = name
        self.units = units
        self.weight = weight
        self.normalization = normalization
    }

    /// The weights of `unit` (its filter or weight row), in storage order.
    public func filter(_ unit: Int, in network: Network) -> ArraySlice<Float> {
        let size = weight.count / units
        let start = weight.offset + unit * size
        return network.parameters[start..<(start + size)]
    }

    /// Every unit's filter.
    public func filters(in network: Network) -> [ArraySlice<Float>] {
        (0..<units).map { filter($0, in: network) }
    }
}

/// A way of scoring output units by importance — channels of a convolution, neurons of a
/// `Linear`, the coupled channels of a channel group — as in Torch-Pruning's `Importance`: one
/// type per criterion, each returning one score per unit. The one criterion type of every
/// study: the SimpleCNN study scores one layer's channels (`scores(of:in:statistics:)`), the
/// channel-group studies a group's (`scores(for:in:statistics:)`).
///
/// Scores keep their natural meaning and units (an APoZ is a fraction of zeros, an L1 norm a
/// norm); `leastImportant` says which end is pruned first, and `ranking(of:)` turns scores into
/// the order in which units are pruned.
public protocol ImportanceCriterion: Sendable {
    /// The name used on the command line and in reports, e.g. `mean-activation`.
    var name: String { get }
    /// One line saying what the score is, for help texts and reports.
    var summary: String { get }
    /// What the criterion needs from calibration data.
    var need: CalibrationNeed { get }
    /// Which end of the scores is pruned first.
    var leastImportant: ScoreOrder { get }

    /// One score per channel of one producing layer.
    /// - Parameters:
    ///   - producer: the layer whose channels are scored.
    ///   - network: the network holding its weights.
    ///   - statistics: sums over calibration images of the channels where they are read (after
    ///     the producer's BatchNorm, else its own output), with gradient products when
    ///     `need == .gradients`; ignored by criteria that need no data.
    /// - Throws: `PruningError.notPrunable` when the criterion does not apply (`bn-scale`
    ///   without a BatchNorm) or lacks the statistics it needs.
    func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double]

    /// One score per unit of a channel group, for all its coupled layers at once.
    ///
    /// By default each producer's scores divided by their mean magnitude (so that layers of
    /// different scale weigh alike), then averaged over the producers; so a score of 1 is an
    /// average channel in every group, which also makes scores of different groups comparable
    /// for global pruning.
    /// - Parameters:
    ///   - group: the coupled channels to score.
    ///   - network: the network holding their weights.
    ///   - statistics: the group's statistics on calibration images, when `need` is not `.none`.
    /// - Throws: as `scores(of:in:statistics:)`.
    func scores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double]
}

extension ImportanceCriterion {
    public func scores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        let producers = try group.producerChannels(in: network.architecture)
        var perProducer: [UnitStatistics?] = producers.map { _ in nil }
        if need != .none {
            guard let statistics, statistics.producers.count == producers.count,
                  statistics.producers.allSatisfy({ $0.unitCount == group.units }) else {
                throw PruningError.notPrunable(group.name, reason: "criterion \(name) needs calibration statistics of the group's channels")
            }
            perProducer = statistics.producers
        }
        return ImportanceScores.normalisedMean(try producers.indices.map {
            try scores(of: producers[$0], in: network, statistics: perProducer[$0])
        })
    }

    /// Scores of a criterion that needs no data.
    public func scores(for group: ChannelGroup, in network: Network) throws -> [Double] {
        try scores(for: group, in: network, statistics: nil)
    }

    /// Unit indices ordered least important first (`ScoreOrder.ranking(of:)`).
    public func ranking(of scores: [Double]) -> [Int] { leastImportant.ranking(of: scores) }

    /// The statistics, checked to be present and to fit the producer when the criterion needs them.
    func required(_ statistics: UnitStatistics?, for producer: ProducerChannels) throws -> UnitStatistics {
        guard let statistics, statistics.unitCount == producer.units else {
            throw PruningError.notPrunable(producer.name, reason: "criterion \(name) needs calibration statistics of its channels")
        }
        if need == .gradients && statistics.gradientProductSum == nil {
            throw PruningError.notPrunable(producer.name, reason: "criterion \(name) needs gradient statistics of its channels")
        }
        return statistics
    }
}

/// How the criteria combine per-layer scores.
enum ImportanceScores {
    /// Per-layer scores divided by their mean magnitude (the mean, for scores that are never
    /// negative), then averaged over the layers.
    static func normalisedMean(_ perLayer: [[Double]]) -> [Double] {
        guard let first = perLayer.first else { return [] }
        var total = [Double](repeating: 0, count: first.count)
        for scores in perLayer {
            let mean = scores.reduce(0) { $0 + abs($1) } / Double(max(scores.count, 1))
            for (i, s) in scores.enumerated() { total[i] += mean > 0 ? s / mean : s }
        }
        return total.map { $0 / Double(perLayer.count) }
    }
}

/// The criteria by name: the one registry of every study.
public enum ImportanceCriteria {
    /// Every criterion's name: weight criteria, data-driven ones, then the random baseline —
    /// the order the channel-group experiment reports them in.
    public static let names = ["l1", "l2", "bn-scale", "fpgm", "mean-activation", "mean-activation-relu", "apoz", "taylor", "random"]

    /// The criteria the SimpleCNN study compares, in the order its reports list them (the
    /// exercise's criterion first): all but `bn-scale`, which needs a BatchNorm the SimpleCNN
    /// lacks, and `fpgm`, which came with channel groups. A SimpleCNN asked for those is studied
    /// through its channel groups, as any other network is.
    public static let layerStudyNames = ["mean-activation", "mean-activation-relu", "apoz", "l1", "l2", "taylor", "random"]

    /// The criterion called `name`; `seed` drives `random`.
    /// - Throws: `PruningError.unknownCriterion`, listing the valid names.
    public static func named(_ name: String, seed: UInt64 = 0) throws -> any ImportanceCriterion {
        switch name {
        case "mean-activation": return MeanActivation()
        case "mean-activation-relu": return MeanActivationReLU()
        case "apoz": return APoZ()
        case "l1": return L1Norm()
        case "l2": return L2Norm()
        case "taylor": return Taylor()
        case "random": return RandomImportance(seed: seed)
        case "bn-scale": return BNScale()
        case "fpgm": return FPGM()
        default: throw PruningError.unknownCriterion(name, valid: names)
        }
    }

    /// A comma-separated list such as `mean-activation,l1`, in the order given.
    /// - Throws: `PruningError.unknownCriterion` for the first unknown (or empty) name,
    ///   `PruningError.duplicateCriterion` for a repeated one.
    public static func parseList(_ text: String, seed: UInt64 = 0) throws -> [any ImportanceCriterion] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var seen = Set<String>()
        return try parts.map { name in
            guard seen.insert(name).inserted else {
                throw PruningError.duplicateCriterion(name)
            }
            return try named(name, seed: seed)
        }
    }
}
