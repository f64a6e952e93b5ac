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

/// One pass over calibration images that gathers `UnitStatistics` for one or more layers.
public enum Calibration {
    /// Runs `network` over `data` and sums each layer's pre-activations (and, with `gradients`,
    /// their products with the per-image loss gradient, for the Taylor criterion).
    /// - Parameters:
    ///   - layers: layers of `network` to gather for.
    ///   - network: the network to run.
    ///   - data: the calibration images.
    ///   - gradients: also run the backward pass (cross-entropy against the labels).
    ///   - threads: workers, each taking a contiguous share of the images.
    ///   - batchSize: images per forward pass of one worker.
    /// - Returns: statistics aligned with `layers`.
    public static func statistics<Data: LabeledImages>(
        of layers: [PrunableLayer], in network: Network, on data: Data,
        gradients: Bool = false, threads: Int, batchSize: Int = 64
    ) -> [UnitStatistics] {
        let layerCount = network.architecture.layers.count
        let last = gradients ? layerCount : (layers.map(\.outputActivation).max() ?? 0)
        let empty = layers.map { UnitStatistics(units: $0.unitCount, positionsPerUnit: $0.positionsPerUnit, withGradients: gradients) }
        // Gathered once per batch: after the forward pass, or after the backward pass when the
        // activation gradients are wanted too (the activations are still there).
        func gather(_ workspace: Workspace, _ batch: Int, _ statistics: inout [UnitStatistics]) {
            for (j, layer) in layers.enumerated() {
                statistics[j].add(batch: batch, preActivations: workspace.activation(layer.outputActivation),
                                  gradients: gradients ? UnsafePointer(workspace.activationGradient(layer.outputActivation)) : nil)
            }
        }
        return CalibrationPass.run(network, on: data, forwardLayers: last, gradients: gradients, threads: threads, batchSize: batchSize,
                                   empty: empty, afterForward: { workspace, batch, statistics in if !gradients { gather(workspace, batch, &statistics) } },
                                   afterBackward: gather)
    }
}
