import CNNEngine

extension ChannelGroup {
    /// The channels of each producer, in `producers` order, as the criteria score them: its
    /// weight and the BatchNorm right after it, if any (`GroupCalibration.point(of:in:)`).
    /// - Throws: `EngineError.unknownParameter` for a producer without a weight in `architecture`.
    public func producerChannels(in architecture: Sequential) throws -> [ProducerChannels] {
        try producers.map { producer in
            guard let weight = architecture.parameterEntries.first(where: { $0.name == "\(producer).weight" }) else {
                throw EngineError.unknownParameter("\(producer).weight")
            }
            let point = GroupCalibration.point(of: producer, in: architecture)
            return ProducerChannels(name: producer, units: units, weight: weight, normalization: point == producer ? nil : point)
        }
    }
}
