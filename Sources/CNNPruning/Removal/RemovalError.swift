/// Why units cannot be removed, as one line a person can act on.
public enum RemovalError: Error, CustomStringConvertible, Equatable {
    /// A unit index outside the layer.
    case unitOutOfRange(Int, layer: String, units: Int, unitName: String)
    /// Removing every unit of the layer: the network would be cut in two.
    case noUnitsLeft(layer: String, units: Int, unitName: String)
    /// The network and the widths given with it do not agree.
    case widthsMismatch(String)
    /// A removal count that is negative or leaves no unit.
    case countOutOfRange(Int, layer: String, units: Int, unitName: String)
    /// An iterative schedule that cannot reach K in that many steps.
    case invalidSteps(Int, count: Int)
    /// A data-driven criterion asked to rank without calibration images.
    case calibrationNeeded(criterion: String)

    public var description: String {
        switch self {
        case .unitOutOfRange(let unit, let layer, let units, let unitName):
            return "\(unitName) \(unit) does not exist: \(layer) has \(units) \(unitName)s, numbered 0…\(units - 1)"
        case .noUnitsLeft(let layer, let units, let unitName):
            return "removing all \(units) \(unitName)s of \(layer) would leave none; at least one must stay (remove at most \(units - 1))"
        case .widthsMismatch(let why):
            return why
        case .countOutOfRange(let k, let layer, let units, let unitName):
            return "cannot remove K = \(k) \(unitName)s: \(layer) has \(units), so K must be 1…\(units - 1) (at least one must stay)"
        case .invalidSteps(let steps, let count):
            return "cannot remove K = \(count) in \(steps) steps: each step must remove at least one unit, so the steps must be 1…\(max(count, 1))"
        case .calibrationNeeded(let criterion):
            return "criterion '\(criterion)' ranks units by their activations and needs calibration images"
        }
    }
}
