/// What is wrong with a pruning request, as one line a person can act on.
public enum PruningError: Error, CustomStringConvertible, Equatable {
    /// No layer of that name can be pruned; `valid` lists those that can.
    case unknownLayer(String, valid: [String])
    /// The layer exists but its units cannot be masked (e.g. the output layer).
    case notPrunable(String, reason: String)
    /// No criterion of that name; `valid` lists the known ones.
    case unknownCriterion(String, valid: [String])
    /// A criterion listed twice.
    case duplicateCriterion(String)
    /// A list of K values that does not parse: the text given, and why.
    case invalidCounts(String, reason: String)
    /// K larger than the layer's number of units.
    case countOutOfRange(Int, layer: String, units: Int, unitName: String)
    /// A calibration set (`--calibration`) that does not parse.
    case invalidCalibration(String)

    /// How to write a list of counts, as the messages say it.
    public static let countsSyntax = "write START:STOP:STEP (STOP excluded, like Python's range) or a comma list such as 0,2,4"

    /// One line saying what is wrong.
    public var description: String {
        switch self {
        case .unknownLayer(let name, let valid):
            return "unknown layer '\(name)'; the prunable layers are \(valid.joined(separator: ", "))"
        case .notPrunable(let name, let reason):
            return "layer '\(name)' cannot be pruned: \(reason)"
        case .unknownCriterion(let name, let valid):
            return "unknown criterion '\(name)'; the criteria are \(valid.joined(separator: ", "))"
        case .duplicateCriterion(let name):
            return "criterion '\(name)' is listed twice"
        case .invalidCounts(let text, let reason):
            return "invalid counts '\(text)': \(reason); \(Self.countsSyntax)"
        case .countOutOfRange(let k, let layer, let units, let unitName):
            return "K = \(k) is out of range: \(layer) has \(units) \(unitName)s, so K must be 0…\(units)"
        case .invalidCalibration(let text):
            return "invalid calibration set '\(text)'; use train:N (N seeded training images), train (all of them) or test (the evaluation data)"
        }
    }
}
