import Foundation
import CNNEngine

/// Which images rank the units: `train:N` (a fixed seeded subset of N training images, the
/// default with N = 5,000), `train` (all training images) or `test` (the evaluation data itself,
/// the exercise's choice — the ranking then has seen the images it is scored on).
public enum CalibrationSet: Sendable, Equatable, CustomStringConvertible {
    /// The first N training images.
    case trainingSubset(Int)
    /// All the training images.
    case training
    /// The evaluation images themselves (the exercise's choice).
    case test

    /// `train:5000`.
    public static let `default` = CalibrationSet.trainingSubset(5000)

    /// Parses `train:N`, `train` or `test`.
    /// - Throws: `PruningError.invalidCalibration`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch trimmed {
        case "train": self = .training
        case "test": self = .test
        default:
            guard trimmed.hasPrefix("train:"), let n = Int(trimmed.dropFirst("train:".count)), n > 0 else {
                throw PruningError.invalidCalibration(text)
            }
            self = .trainingSubset(n)
        }
    }

    /// The canonical spelling, as parsed: `train:5000`, `train`, `test`.
    public var description: String {
        switch self {
        case .trainingSubset(let n): return "train:\(n)"
        case .training: return "train"
        case .test: return "test"
        }
    }

    /// Whether the ranking uses the same images the accuracy is measured on.
    public var isEvaluationData: Bool { self == .test }

    /// A phrase for tables and reports, e.g. `5,000 training images (seeded subset)`.
    public var label: String {
        switch self {
        case .trainingSubset(let n): return "\(grouped(n)) training images (seeded subset)"
        case .training: return "all training images"
        case .test: return "the test set — ranking on the evaluation data"
        }
    }
}
