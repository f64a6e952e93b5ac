/// One class's test accuracy, as `evaluate --json` and `experiment.json` (`per_class`) list it.
public struct ClassAccuracy: Codable, Sendable, Equatable {
    /// The class name.
    public var `class`: String
    /// Test accuracy (%) on the images of this class.
    public var accuracy: Double

    /// A class's accuracy.
    public init(class name: String, accuracy: Double) {
        self.class = name
        self.accuracy = accuracy
    }
}
