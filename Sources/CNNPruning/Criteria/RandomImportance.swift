import CNNEngine

/// A seeded random score per unit, uniform in [0, 1): the baseline every real criterion must
/// beat. The same seed gives the same scores for a layer, on any machine.
public struct RandomImportance: ImportanceCriterion {
    /// Seeds the scores: the same seed gives the same scores for a layer.
    public var seed: UInt64
    /// Random scores drawn from `seed`.
    public init(seed: UInt64 = 0) { self.seed = seed }
    public var name: String { "random" }
    public var summary: String { "seeded random scores, the baseline every criterion must beat" }
    public var need: CalibrationNeed { .none }
    public var leastImportant: ScoreOrder { .lowestFirst }

    /// Scores drawn from the seed alone (the SimpleCNN study's layers).
    public func scores(of producer: ProducerChannels, in network: Network, statistics: UnitStatistics?) throws -> [Double] {
        draw(producer.units, seed: seed)
    }

    /// Seeded random scores, drawn from the seed mixed with the group's name (so that groups of
    /// one model differ, and runs repeat).
    public func scores(for group: ChannelGroup, in network: Network, statistics: GroupStatistics?) throws -> [Double] {
        var key: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in group.name.utf8 { key = (key ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return draw(group.units, seed: seed ^ key)
    }

    private func draw(_ count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Double(generator.next() >> 11) / Double(1 << 53) }
    }
}
