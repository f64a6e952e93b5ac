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
        precondition(data.sampleShape == network.architecture.inputShape, "data shape does not match the network")
        let architecture = network.architecture
        let layerCount = architecture.layers.count
        let last = gradients ? layerCount : (layers.map(\.outputActivation).max() ?? 0)
        let classes = architecture.outputShape.reduce(1, *)
        let parts = max(1, min(threads, data.count))
        let empty = layers.map { UnitStatistics(units: $0.unitCount, positionsPerUnit: $0.positionsPerUnit, withGradients: gradients) }
        var results = [[UnitStatistics]](repeating: empty, count: parts)
        results.withUnsafeMutableBufferPointer { buffer in
            let results = Unchecked(buffer)
            Workers.run(parts) { part in
                let share = Workers.share(data.count, part: part, of: parts)
                let workspace = Workspace(architecture: architecture, batchCapacity: batchSize, training: gradients)
                var indices = [Int32](repeating: 0, count: batchSize)
                var mine = empty
                for start in stride(from: share.lowerBound, to: share.upperBound, by: batchSize) {
                    let batch = min(batchSize, share.upperBound - start)
                    for i in 0..<batch { indices[i] = Int32(start + i) }
                    indices.withUnsafeBufferPointer {
                        data.fillInputs(indices: UnsafeBufferPointer(rebasing: $0[0..<batch]), into: workspace.activation(0))
                    }
                    network.forward(workspace, batch: batch, layers: 0..<last)
                    if gradients {
                        for i in 0..<batch { workspace.labels[i] = Int32(data.label(at: start + i)) }
                        _ = SoftmaxCrossEntropy.loss(logits: workspace.output, labels: workspace.labels, batch: batch,
                                                     classes: classes, gradientScale: 1,
                                                     gradient: workspace.activationGradient(layerCount))
                        network.backward(workspace, batch: batch)
                    }
                    for (j, layer) in layers.enumerated() {
                        mine[j].add(batch: batch, preActivations: workspace.activation(layer.outputActivation),
                                    gradients: gradients ? UnsafePointer(workspace.activationGradient(layer.outputActivation)) : nil)
                    }
                }
                results.value[part] = mine
            }
        }
        var total = results[0]
        for part in results.dropFirst() {
            for j in total.indices { total[j].merge(part[j]) }
        }
        return total
    }
}
