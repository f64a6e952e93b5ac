import CNNEngine

/// One trained SimpleCNN given to ``ExperimentStudy``: the network, its layer widths, and where
/// it came from (the report names the file and, for a model trained for the study, its epochs).
public struct StudyModel: Sendable {
    /// The trained network.
    public var network: Network
    /// Its layer widths (the removal rebuilds smaller SimpleCNNs from them).
    public var widths: SimpleCNN
    /// The model file, and its training when trained for the study.
    public var origin: ExperimentReport.ModelOrigin
    /// Seconds its training took, when trained for the study (the report's timing line).
    public var trainingSeconds: Double?

    /// A model for the study.
    public init(network: Network, widths: SimpleCNN, origin: ExperimentReport.ModelOrigin, trainingSeconds: Double? = nil) {
        self.network = network
        self.widths = widths
        self.origin = origin
        self.trainingSeconds = trainingSeconds
    }
}
