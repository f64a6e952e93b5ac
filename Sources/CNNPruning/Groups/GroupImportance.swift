import Foundation
import CNNEngine

/// A criterion that scores the units of a channel group (see `ChannelGroup`): every unit gets
/// one score for all the coupled layers at once.
///
/// Weight criteria score each producer's filters, divide each producer's scores by their mean
/// (so that layers of different scale weigh alike) and average over the producers; so a
/// score of 1 is an average channel in every group, which also makes scores of different groups
/// comparable for global pruning. Data-driven criteria do the same with the statistics of
/// each producer's channels (`GroupStatistics`).
public protocol GroupImportanceCriterion: Sendable {
    /// The name used on the command line and in reports.
    var name: String { get }
    /// Which end of the scores is pruned first.
    var leastImportant: ScoreOrder { get }
    /// What the criterion needs from calibration data (`GroupCalibration`).
    var need: CalibrationNeed { get }
    /// One score per unit of `group` in `network`.
    /// - Parameters:
    ///   - group: the coupled channels to score.
    ///   - network: the network holding their weights.
    ///   - statistics: the group's statistics on calibration images, when `need` is
    ///     not `.none`.
    /// - Throws: `PruningError.notPrunable` when the criterion does not apply to the group
    ///   (`bn-scale` on a group without a BatchNorm) or lacks the statistics it needs.
    func groupScores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double]
}

extension GroupImportanceCriterion {
    /// Scores of a criterion that needs no data.
    public func groupScores(for group: ChannelGroup, in network: Network) throws -> [Double] {
        try groupScores(for: group, in: network, statistics: nil)
    }

    /// The statistics, checked to be present and to fit the group.
    func required(_ statistics: GroupStatistics?, for group: ChannelGroup) throws -> GroupStatistics {
        guard let statistics, statistics.producers.count == group.producers.count,
              statistics.producers.allSatisfy({ $0.unitCount == group.units }) else {
            throw PruningError.notPrunable(group.name, reason: "criterion \(name) needs calibration statistics of the group's channels")
        }
        if need == .gradients && statistics.producers.contains(where: { $0.gradientProductSum == nil }) {
            throw PruningError.notPrunable(group.name, reason: "criterion \(name) needs gradient statistics of the group's channels")
        }
        return statistics
    }

    /// Unit indices ordered least important first; ties to the lower index.
    public func groupRanking(of scores: [Double]) -> [Int] {
        let keys = scores.map { score -> Double in
            if score.isNaN { return -.infinity }
            return leastImportant == .lowestFirst ? score : -score
        }
        return keys.indices.sorted { a, b in keys[a] != keys[b] ? keys[a] < keys[b] : a < b }
    }
}

/// Helpers the group criteria share.
enum GroupScores {
    /// Each producer weight's filters (`[units, …]` rows), for every producer of `group`.
    static func producerFilters(of group: ChannelGroup, in network: Network) throws -> [[ArraySlice<Float>]] {
        try group.producers.map { producer in
            let entry = try network.entry(named: "\(producer).weight")
            let size = entry.count / group.units
            return (0..<group.units).map { unit in network.parameters[(entry.offset + unit * size)..<(entry.offset + (unit + 1) * size)] }
        }
    }

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

/// The criteria that score channel groups, by name.
public enum GroupImportanceCriteria {
    /// Every group criterion's name.
    public static let names = ["l1", "l2", "bn-scale", "fpgm", "mean-activation", "mean-activation-relu", "apoz", "taylor", "random"]

    /// A comma-separated list such as `l1,fpgm`, in the order given.
    /// - Throws: `PruningError.unknownCriterion` for the first unknown (or empty) name,
    ///   `PruningError.duplicateCriterion` for a repeated one.
    public static func parseList(_ text: String, seed: UInt64 = 0) throws -> [any GroupImportanceCriterion] {
        var seen = Set<String>()
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard seen.insert(name).inserted else { throw PruningError.duplicateCriterion(name) }
            return try named(name, seed: seed)
        }
    }

    /// The criterion called `name`; `seed` drives `random`.
    /// - Throws: `PruningError.unknownCriterion`, listing the valid names.
    public static func named(_ name: String, seed: UInt64 = 0) throws -> any GroupImportanceCriterion {
        switch name {
        case "l1": return L1Norm()
        case "l2": return L2Norm()
        case "bn-scale": return BNScale()
        case "fpgm": return FPGM()
        case "mean-activation": return MeanActivation()
        case "mean-activation-relu": return MeanActivationReLU()
        case "apoz": return APoZ()
        case "taylor": return Taylor()
        case "random": return RandomImportance(seed: seed)
        default: throw PruningError.unknownCriterion(name, valid: names)
        }
    }
}
