import CNNEngine

/// How many channels a pruning run removes, and from which groups.
public enum PruningTarget: Sendable, Equatable {
    /// K channels of one group.
    case count(Int, group: String)
    /// The same fraction of every prunable group.
    case uniformRatio(Double)
    /// A fraction of all prunable channels, ranked across groups on normalised scores.
    case globalRatio(Double)
    /// Prune until the multiply-accumulates are at most this fraction (shared among the groups
    /// as `GroupPruner.allocation` says).
    case multiplyAccumulates(Double)
    /// Prune until the parameters are at most this fraction (shared among the groups as
    /// `GroupPruner.allocation` says).
    case parameters(Double)
}

/// How a MAC or parameter budget (`PruningTarget.multiplyAccumulates`, `.parameters`) is shared
/// among the channel groups.
public enum BudgetAllocation: String, Sendable, CaseIterable {
    /// Channels ranked across all groups on scores normalised per group, removed in steps of 5 %
    /// of those left, at most `GroupPruner.maximumGroupRatio` of any group: where the scores are
    /// lowest. A group whose scores spread widely can lose most of its channels.
    case global
    /// The same fraction of every prunable group (of its original channels), the smallest one
    /// in steps of 1 % that meets the budget, at most `GroupPruner.maximumGroupRatio`: the
    /// criterion only chooses which channels within each group. Torch-Pruning's default
    /// (`global_pruning=False`); no layer is thinned more than the others.
    case uniform
}

extension PruningTarget {
    /// The fraction a ratio or budget target asks for (nil for a count).
    public var fraction: Double? {
        switch self {
        case .count: nil
        case .uniformRatio(let value), .globalRatio(let value), .multiplyAccumulates(let value), .parameters(let value): value
        }
    }

    /// What a budget target measures: `multiply-accumulates` or `parameters` (nil for other targets).
    public var measureName: String? {
        switch self {
        case .multiplyAccumulates: "multiply-accumulates"
        case .parameters: "parameters"
        default: nil
        }
    }
}

/// Why a pruning target cannot be met, in the pruner's terms: what was asked, and the limit that
/// stops it. Each case carries the values, so that a caller (the command line) can word it its own way.
public enum PruningTargetError: Error, CustomStringConvertible, Equatable {
    /// The criterion ranks on calibration statistics, and the pruner has no ``GroupPruner/statistics`` provider.
    case calibrationNeeded(criterion: String)
    /// `steps` equal steps towards `count` channels of `group` would leave steps that remove
    /// nothing (`steps` must be 1…`count`).
    case tooManySteps(Int, count: Int, group: String)
    /// A ratio or budget target whose fraction is not strictly between 0 and 1.
    case fractionOutOfRange(PruningTarget)
    /// A budget the global allocation cannot reach: every prunable group is down to the channels
    /// `maximumGroupRatio` leaves, and the network still measures `reached` of the original.
    case budgetUnreachable(PruningTarget, maximumGroupRatio: Double, reached: Double)
    /// A budget the uniform allocation cannot reach: removing `percent` % of every group (the most
    /// `maximumGroupRatio` allows) leaves `reached` of the original.
    case uniformBudgetUnreachable(PruningTarget, maximumGroupRatio: Double, percent: Int, reached: Double)
    /// The network has no prunable channel group (`allowResidual`: whether groups coupled through
    /// residual sums were allowed).
    case noPrunableGroup(allowResidual: Bool)

    /// A fraction as the messages print it, in whole percent: `0.4567` → `45 %`.
    public static func percent(_ fraction: Double) -> String { "\(Int((fraction * 1000).rounded()) / 10) %" }

    /// One line saying what is wrong, in the library's terms.
    public var description: String {
        switch self {
        case .calibrationNeeded(let criterion):
            return "criterion \(criterion) needs calibration data, and none was given"
        case .tooManySteps(let steps, let count, let group):
            return "\(steps) steps would leave steps that remove nothing from \(group): K is \(count); give 1…\(count) steps"
        case .fractionOutOfRange(let target):
            let what = switch target {
            case .count: "the count"
            case .uniformRatio: "the ratio per group"
            case .globalRatio: "the global ratio"
            case .multiplyAccumulates: "the multiply-accumulate fraction"
            case .parameters: "the parameter fraction"
            }
            return "\(what) must be strictly between 0 and 1, got \(target.fraction ?? 0)"
        case .budgetUnreachable(let target, let maximumGroupRatio, let reached):
            return "cannot reach \(target.fraction ?? 0) of the original \(target.measureName ?? "size"): every prunable group is down to \(Int(((1 - maximumGroupRatio) * 100).rounded())) % of its channels (maximum group ratio \(maximumGroupRatio)) at \(Self.percent(reached))"
        case .uniformBudgetUnreachable(let target, let maximumGroupRatio, let percent, let reached):
            return "cannot reach \(target.fraction ?? 0) of the original \(target.measureName ?? "size") with the same fraction of every group: removing \(percent) % of each (maximum group ratio \(maximumGroupRatio)) leaves \(Self.percent(reached))"
        case .noPrunableGroup(let allowResidual):
            return "the network has no prunable channel group\(allowResidual ? "" : " (groups coupled through residual sums are not allowed)")"
        }
    }
}

/// Chooses the channels to remove for a target, ranks them with a group criterion, and removes
/// them group by group — the result a smaller network of the same architecture family.
public struct GroupPruner: Sendable {
    /// Ranks the channels of each group.
    public var criterion: any ImportanceCriterion
    /// Allow pruning groups coupled through residual sums.
    public var allowResidual: Bool
    /// The largest fraction of any group that global pruning may remove (so no group vanishes).
    public var maximumGroupRatio: Double
    /// How a MAC or parameter budget is shared among the groups.
    public var allocation: BudgetAllocation

    /// Gathers the statistics of a network's groups on calibration data, for a data-driven
    /// criterion (`GroupCalibration.statistics`); called once per ranking, so iterative targets
    /// rank each intermediate network on its own statistics.
    public typealias StatisticsProvider = @Sendable (Network, [ChannelGroup]) throws -> [String: GroupStatistics]
    /// Where a data-driven criterion's statistics come from (`nil` for weight criteria).
    public var statistics: StatisticsProvider?
    /// How the criterion scores a group: as a group (normalised, comparable across groups), or
    /// as its one producer (a SimpleCNN layer's scores, as the exercise's study ranks them).
    public var scoring: GroupScoring

    /// A pruner that ranks with `criterion` (see the properties for the rest).
    /// - Parameters:
    ///   - criterion: ranks the channels of each group.
    ///   - allowResidual: allow pruning groups coupled through residual sums.
    ///   - maximumGroupRatio: the largest fraction of any group that global pruning may remove.
    ///   - allocation: how a MAC or parameter budget is shared among the groups.
    ///   - statistics: where a data-driven criterion's statistics come from.
    ///   - scoring: how the criterion scores a group.
    public init(criterion: any ImportanceCriterion, allowResidual: Bool = false, maximumGroupRatio: Double = 0.9,
                allocation: BudgetAllocation = .global, statistics: StatisticsProvider? = nil, scoring: GroupScoring = .group) {
        self.criterion = criterion
        self.allowResidual = allowResidual
        self.maximumGroupRatio = maximumGroupRatio
        self.allocation = allocation
        self.statistics = statistics
        self.scoring = scoring
    }

    /// The criterion's scores of every group in `groups`, with one calibration pass for all.
    func scores(of groups: [ChannelGroup], in network: Network) throws -> [[Double]] {
        var gathered: [String: GroupStatistics] = [:]
        if criterion.need != .none {
            guard let statistics else {
                throw PruningTargetError.calibrationNeeded(criterion: criterion.name)
            }
            gathered = try statistics(network, groups)
        }
        return try groups.map { try scoring.scores(of: $0, by: criterion, in: network, statistics: gathered[$0.name]) }
    }

    /// The result of one pruning run.
    public struct Outcome: Sendable {
        /// The pruned network.
        public var network: Network
        /// Removed channels per group name (indices of the input network's group).
        public var removed: [String: [Int]]
    }

    /// Prunes `network` to `target`.
    /// - Throws: `PruningTargetError`, `PruningError` (unknown or unprunable group) or
    ///   `RemovalError` — before anything is removed.
    public func prune(_ network: Network, to target: PruningTarget) throws -> Outcome {
        switch target {
        case .multiplyAccumulates(let fraction), .parameters(let fraction):
            let original = Dictionary(uniqueKeysWithValues: try ChannelGroups(network.architecture).groups.map { ($0.name, $0.units) })
            var removed: [String: [Int]] = [:]
            let result = try pruneToFraction(network, target: target, fraction: fraction, stepFraction: fraction, reference: network,
                                             originalUnits: original, record: &removed)
            return Outcome(network: result, removed: removed)
        default:
            let selection = try plan(network, target: target)
            var removed: [String: [Int]] = [:]
            let result = try apply(selection, to: network, record: &removed)
            return Outcome(network: result, removed: removed)
        }
    }

    /// Prunes `network` to `target` in `steps` steps, as Torch-Pruning's `iterative_steps`:
    /// after step `i` of `S` the network holds what the target asks for scaled by `i/S` (⌊K·i/S⌋
    /// channels for a count, `ratio·i/S` of each group or of all channels, a fraction
    /// `1 − (1 − F)·i/S` of the MACs or parameters), each step ranked afresh on the current
    /// network. `between` runs after every step but the last (fine-tuning) and returns the
    /// network to go on from.
    /// - Throws: as `prune(_:to:)`; checked before any removal where the target allows.
    public func prune(_ network: Network, to target: PruningTarget, steps: Int,
                      between: (_ step: Int, _ network: Network) throws -> Network) throws -> Outcome {
        guard steps > 1 else { return try prune(network, to: target) }
        let groups = try ChannelGroups(network.architecture)
        let original = Dictionary(uniqueKeysWithValues: groups.groups.map { ($0.name, $0.units) })
        var current = network
        var removed: [String: [Int]] = [:]
        func removedCount(_ name: String) -> Int { removed[name]?.count ?? 0 }
        for step in 1...steps {
            let share = Double(step) / Double(steps)
            switch target {
            case .count(let k, let name):
                if step == 1 {
                    let group = try prunableGroup(name, in: groups)
                    guard (1..<group.units).contains(k) else {
                        throw RemovalError.countOutOfRange(k, layer: group.name, units: group.units, unitName: group.unitName)
                    }
                    guard steps <= k else {
                        throw PruningTargetError.tooManySteps(steps, count: k, group: name)
                    }
                }
                let wanted = k * step / steps - removedCount(name)
                if wanted > 0 { current = try apply(try plan(current, target: .count(wanted, group: name)), to: current, record: &removed) }
            case .uniformRatio(let ratio):
                try checkFraction(target)
                let prunable = try ChannelGroups(current.architecture).prunable(allowResidual: allowResidual)
                let scored = try scores(of: prunable, in: current)
                var selection: [String: [Int]] = [:]
                for (group, groupScores) in zip(prunable, scored) {
                    let units = original[group.name] ?? group.units
                    let cumulative = min(Int((Double(units) * ratio * share).rounded(.down)), units - 1)
                    let wanted = min(cumulative - removedCount(group.name), group.units - 1)
                    guard wanted > 0 else { continue }
                    selection[group.name] = Array(criterion.ranking(of: groupScores).prefix(wanted))
                }
                current = try apply(selection, to: current, record: &removed)
            case .globalRatio(let ratio):
                try checkFraction(target)
                let total = groups.prunable(allowResidual: allowResidual).reduce(0) { $0 + $1.units }
                let wanted = Int((Double(total) * ratio * share).rounded(.down)) - removed.values.reduce(0) { $0 + $1.count }
                guard wanted > 0 else { break }
                let selection = try globalSelection(current, ratio: 0, minimum: wanted, originalUnits: original)
                current = try apply(selection, to: current, record: &removed)
            case .multiplyAccumulates(let fraction), .parameters(let fraction):
                let stepFraction = 1 - (1 - fraction) * share
                let outcome = try pruneToFraction(current, target: target, fraction: fraction, stepFraction: stepFraction,
                                                  reference: network, originalUnits: original, record: &removed)
                current = outcome
            }
            if step < steps { current = try between(step, current) }
        }
        return Outcome(network: current, removed: removed)
    }

    /// Prunes until the measure is at most `stepFraction` of `reference`'s: in 5 % steps of the
    /// prunable channels ranked globally, or with the smallest uniform fraction that fits
    /// (`allocation`).
    func pruneToFraction(_ network: Network, target: PruningTarget, fraction: Double, stepFraction: Double, reference: Network,
                         originalUnits: [String: Int], record: inout [String: [Int]]) throws -> Network {
        try checkFraction(target)
        let measure: (Sequential) -> Int = { architecture in
            if case .parameters = target { return architecture.parameterCount }
            return ArchitectureCost(architecture).multiplyAccumulates
        }
        let full = Double(measure(reference.architecture))
        let goal = full * stepFraction
        if allocation == .uniform {
            return try uniformToFraction(network, goal: goal, full: full, measure: measure, target: target, fraction: fraction,
                                         originalUnits: originalUnits, record: &record)
        }
        var current = network
        while Double(measure(current.architecture)) > goal {
            let selection = try globalSelection(current, ratio: 0.05, minimum: 1, originalUnits: originalUnits)
            guard !selection.isEmpty else {
                throw PruningTargetError.budgetUnreachable(target, maximumGroupRatio: maximumGroupRatio, reached: Double(measure(current.architecture)) / full)
            }
            current = try apply(selection, to: current, record: &record)
        }
        return current
    }

    /// Removes the same fraction of every prunable group's original channels — the smallest
    /// multiple of 1 % (up to `maximumGroupRatio`) whose network measures at most `goal` — each
    /// group's channels chosen by the criterion on `network`. Channels already removed from a
    /// group (`record`, earlier iterative steps) count towards its share.
    func uniformToFraction(_ network: Network, goal: Double, full: Double, measure: (Sequential) -> Int, target: PruningTarget,
                           fraction: Double, originalUnits: [String: Int], record: inout [String: [Int]]) throws -> Network {
        guard Double(measure(network.architecture)) > goal else { return network }
        let groups = try ChannelGroups(network.architecture).prunable(allowResidual: allowResidual)
        guard !groups.isEmpty else {
            throw PruningTargetError.noPrunableGroup(allowResidual: allowResidual)
        }
        let rankings = try scores(of: groups, in: network).map { criterion.ranking(of: $0) }
        let alreadyRemoved = record
        func selection(percent: Int) -> [String: [Int]] {
            var selection: [String: [Int]] = [:]
            for (group, ranking) in zip(groups, rankings) {
                let original = originalUnits[group.name] ?? group.units
                let share = min(original * percent / 100, original - 1)
                let wanted = min(share - (alreadyRemoved[group.name]?.count ?? 0), group.units - 1)
                if wanted > 0 { selection[group.name] = Array(ranking.prefix(wanted)) }
            }
            return selection
        }
        func result(percent: Int) throws -> Network {
            var scratch: [String: [Int]] = [:]
            return try apply(selection(percent: percent), to: network, record: &scratch)
        }
        // The measure falls as the fraction grows: the smallest fraction that fits, by bisection.
        var low = 0, high = Int((maximumGroupRatio * 100).rounded(.down))
        let least = Double(measure(try result(percent: high).architecture))
        guard high > 0, least <= goal else {
            throw PruningTargetError.uniformBudgetUnreachable(target, maximumGroupRatio: maximumGroupRatio, percent: high, reached: least / full)
        }
        while high - low > 1 {
            let middle = (low + high) / 2
            if Double(measure(try result(percent: middle).architecture)) <= goal { high = middle } else { low = middle }
        }
        return try apply(selection(percent: high), to: network, record: &record)
    }

    /// The channels `target` removes from each group (one step; no removal yet).
    public func plan(_ network: Network, target: PruningTarget) throws -> [String: [Int]] {
        let groups = try ChannelGroups(network.architecture)
        switch target {
        case .count(let k, let name):
            let group = try prunableGroup(name, in: groups)
            guard (1..<group.units).contains(k) else {
                throw RemovalError.countOutOfRange(k, layer: group.name, units: group.units, unitName: group.unitName)
            }
            let ranking = criterion.ranking(of: try scores(of: [group], in: network)[0])
            return [group.name: Array(ranking.prefix(k))]
        case .uniformRatio(let ratio):
            try checkFraction(target)
            var selection: [String: [Int]] = [:]
            let prunable = groups.prunable(allowResidual: allowResidual)
            let scored = try scores(of: prunable, in: network)
            for (group, groupScores) in zip(prunable, scored) {
                let k = min(Int((Double(group.units) * ratio).rounded(.down)), group.units - 1)
                guard k > 0 else { continue }
                selection[group.name] = Array(criterion.ranking(of: groupScores).prefix(k))
            }
            return selection
        case .globalRatio(let ratio):
            try checkFraction(target)
            return try globalSelection(network, ratio: ratio, minimum: 0)
        case .multiplyAccumulates, .parameters:
            // One step towards the budget, shared as `allocation` says.
            if allocation == .uniform { return try plan(network, target: .uniformRatio(0.05)) }
            return try globalSelection(network, ratio: 0.05, minimum: 1)
        }
    }

    /// The `ratio` least important of all prunable channels (at least `minimum`), ranked on
    /// scores normalised per group, none taking a group past `maximumGroupRatio` of its
    /// original channels (`originalUnits`, else its current size) or to no channel at all.
    func globalSelection(_ network: Network, ratio: Double, minimum: Int, originalUnits: [String: Int] = [:]) throws -> [String: [Int]] {
        let groups = try ChannelGroups(network.architecture).prunable(allowResidual: allowResidual)
        guard !groups.isEmpty else {
            throw PruningTargetError.noPrunableGroup(allowResidual: allowResidual)
        }
        var candidates: [(score: Double, group: Int, unit: Int)] = []
        let scored = try scores(of: groups, in: network)
        for (index, scores) in scored.enumerated() {
            for (unit, score) in scores.enumerated() { candidates.append((criterion.leastImportant.sortKey(score), index, unit)) }
        }
        candidates.sort { ($0.score, $0.group, $0.unit) < ($1.score, $1.group, $1.unit) }
        let total = candidates.count
        let wanted = max(minimum, Int((Double(total) * ratio).rounded(.down)))
        var taken = [Int](repeating: 0, count: groups.count)
        var selection: [String: [Int]] = [:]
        var count = 0
        for candidate in candidates where count < wanted {
            let group = groups[candidate.group]
            // Keep at least (1 − maximumGroupRatio) of the group's original channels, and always one.
            let original = originalUnits[group.name] ?? group.units
            let floor = max(1, original - Int((Double(original) * maximumGroupRatio).rounded(.down)))
            let cap = max(0, group.units - floor)
            guard taken[candidate.group] < cap else { continue }
            taken[candidate.group] += 1
            selection[group.name, default: []].append(candidate.unit)
            count += 1
        }
        return selection
    }

    func apply(_ selection: [String: [Int]], to network: Network, record: inout [String: [Int]]) throws -> Network {
        var current = network
        for name in selection.keys.sorted() {
            guard let units = selection[name], !units.isEmpty else { continue }
            let groups = try ChannelGroups(current.architecture)
            let group = try prunableGroup(name, in: groups)
            let removal = try GroupRemoval(removing: units, of: group, from: current)
            // Record indices of the input network's group: map through earlier removals of it.
            let original = record[name].map { previous in
                let kept = (0..<(group.units + previous.count)).filter { !Set(previous).contains($0) }
                return units.map { kept[$0] }
            } ?? units
            record[name, default: []] += original
            record[name]?.sort()
            current = removal.network
        }
        return current
    }

    func prunableGroup(_ name: String, in groups: ChannelGroups) throws -> ChannelGroup {
        guard let group = groups.group(named: name) else {
            throw PruningError.unknownLayer(name, valid: groups.prunable(allowResidual: allowResidual).map(\.name))
        }
        if let why = group.whyNotPrunable(allowResidual: allowResidual) { throw PruningError.notPrunable(name, reason: why) }
        return group
    }

    func checkFraction(_ target: PruningTarget) throws {
        guard let value = target.fraction, value > 0, value < 1, value.isFinite else {
            throw PruningTargetError.fractionOutOfRange(target)
        }
    }
}
