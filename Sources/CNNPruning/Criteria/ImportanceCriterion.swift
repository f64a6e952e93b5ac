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
}

/// A way of scoring the output units of a layer (channels of a convolution, neurons of a
/// `Linear`) by importance, as in Torch-Pruning's `Importance`: one type per criterion, each
/// returning one score per unit.
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

    /// One score per unit of `layer` in `network`.
    /// - Parameters:
    ///   - layer: the layer whose units are scored.
    ///   - network: the network holding its weights.
    ///   - statistics: sums over calibration images for `layer`, with gradient products
    ///     when `need == .gradients`; ignored by criteria that need no data.
    func scores(for layer: PrunableLayer, in network: Network, statistics: UnitStatistics?) -> [Double]
}

extension ImportanceCriterion {
    /// Unit indices ordered least important first.
    ///
    /// Ties are broken by the lower unit index first (a stable sort), so every run gives the
    /// same order; a NaN score counts as least important. For distinct scores this is exactly
    /// `torch.argsort(scores)` (or `argsort(-scores)` for `highestFirst`).
    public func ranking(of scores: [Double]) -> [Int] {
        let keys = scores.map { score -> Double in
            if score.isNaN { return -.infinity }
            return leastImportant == .lowestFirst ? score : -score
        }
        return keys.indices.sorted { a, b in keys[a] != keys[b] ? keys[a] < keys[b] : a < b }
    }

    /// The statistics, checked to be present when the criterion needs them.
    func required(_ statistics: UnitStatistics?, for layer: PrunableLayer) -> UnitStatistics {
        guard let statistics else {
            preconditionFailure("criterion \(name) needs calibration statistics for \(layer.name)")
        }
        precondition(statistics.unitCount == layer.unitCount, "statistics for \(statistics.unitCount) units, \(layer.name) has \(layer.unitCount)")
        precondition(need != .gradients || statistics.gradientProductSum != nil, "criterion \(name) needs gradient statistics")
        return statistics
    }
}

/// The criteria by name.
public enum ImportanceCriteria {
    /// Every criterion's name, in the order reports list them.
    public static let names = ["mean-activation", "mean-activation-relu", "apoz", "l1", "l2", "taylor", "random"]

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
