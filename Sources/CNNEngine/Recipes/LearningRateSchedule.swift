import Foundation

/// The learning rate at every step of a run: constant, step (PyTorch's `MultiStepLR`) or cosine
/// (`CosineAnnealingLR` to 0), each optionally after a linear warm-up.
///
/// A pure value: the rate depends only on the step index, so a resumed run gets the same rates
/// from its epoch count alone. The `Trainer` sets `optimizer.learningRate` from it before every step.
///
/// - **Warm-up** (`warmupEpochs` W > 0): over the first `W·stepsPerEpoch` steps the rate rises
///   linearly per step, `base·(s + 1)/(W·stepsPerEpoch)` at step s, reaching `base` on the last
///   warm-up step (PyTorch's `LinearLR(start_factor = 1/n, total_iters = n − 1)` with n warm-up
///   steps). The shape below takes over afterwards.
/// - **constant**: `base`.
/// - **step**: per epoch, `base·γᵏ` where k counts the milestones ≤ the 0-based epoch — PyTorch's
///   `MultiStepLR(milestones, gamma)` stepped once per epoch. Milestones are epochs of the whole
///   run (warm-up included): `[100, 150]` lowers the rate for the 101st and the 151st epoch.
/// - **cosine**: per step, `base·(1 + cos(π·t/T))/2` with t the steps since warm-up and T the
///   run's steps after warm-up — PyTorch's `CosineAnnealingLR(T_max = T, eta_min = 0)` stepped
///   after every batch. It starts at `base` and would reach 0 after the run's last step.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    /// How the rate evolves after warm-up.
    public enum Shape: String, Codable, CaseIterable, Sendable {
        /// `base` throughout.
        case constant
        /// `base·γᵏ` after k milestones (PyTorch's `MultiStepLR`).
        case step
        /// Cosine annealing to 0 over the run (PyTorch's `CosineAnnealingLR`).
        case cosine
    }

    /// How the rate evolves after warm-up.
    public var shape: Shape
    /// The peak rate (PyTorch's `lr`).
    public var baseLearningRate: Float
    /// Epochs of the whole run (cosine anneals over them).
    public var epochs: Int
    /// Epochs at which `step` multiplies the rate by `gamma`, ascending.
    public var milestones: [Int]
    /// The factor `step` multiplies the rate by at each milestone.
    public var gamma: Float
    /// Epochs of linear warm-up before the shape takes over (0: none).
    public var warmupEpochs: Int

    /// - Parameters:
    ///   - shape: constant, step or cosine.
    ///   - baseLearningRate: the peak rate.
    ///   - epochs: the run's length in epochs (used by cosine).
    ///   - milestones: for `step`, the epochs at which the rate is multiplied by `gamma`.
    ///   - gamma: the factor at each milestone.
    ///   - warmupEpochs: epochs of linear warm-up (0: none).
    public init(shape: Shape, baseLearningRate: Float, epochs: Int, milestones: [Int] = [], gamma: Float = 0.1, warmupEpochs: Int = 0) {
        precondition(epochs > 0 && warmupEpochs >= 0)
        self.shape = shape
        self.baseLearningRate = baseLearningRate
        self.epochs = epochs
        self.milestones = milestones.sorted()
        self.gamma = gamma
        self.warmupEpochs = warmupEpochs
    }

    /// A constant rate, the exercise's recipe.
    public static func constant(_ learningRate: Float, epochs: Int = 1) -> LearningRateSchedule {
        LearningRateSchedule(shape: .constant, baseLearningRate: learningRate, epochs: epochs)
    }

    /// The rate for step `step` (0-based over the whole run) when an epoch has `stepsPerEpoch` steps.
    public func learningRate(step: Int, stepsPerEpoch: Int) -> Float {
        precondition(step >= 0 && stepsPerEpoch > 0)
        let base = Double(baseLearningRate)
        let warmupSteps = warmupEpochs * stepsPerEpoch
        if step < warmupSteps { return Float(base * Double(step + 1) / Double(warmupSteps)) }
        switch shape {
        case .constant:
            return baseLearningRate
        case .step:
            let epoch = step / stepsPerEpoch
            let passed = milestones.reduce(0) { $1 <= epoch ? $0 + 1 : $0 }
            return passed == 0 ? baseLearningRate : Float(base * pow(Double(gamma), Double(passed)))
        case .cosine:
            let span = (epochs - warmupEpochs) * stepsPerEpoch
            guard span > 0 else { return baseLearningRate }
            let t = Double(min(step - warmupSteps, span))
            return Float(base * (1 + cos(Double.pi * t / Double(span))) / 2)
        }
    }

    /// Checks a schedule read from a file (which bypasses `init`).
    /// - Throws: `TrainingCheckpointError` naming the bad value.
    public func validate() throws {
        guard baseLearningRate.isFinite, baseLearningRate > 0 else { throw TrainingCheckpointError(description: "invalid learning rate \(baseLearningRate)") }
        guard epochs > 0, warmupEpochs >= 0, epochs <= TrainingLimits.maximumEpochs, warmupEpochs <= TrainingLimits.maximumEpochs else { throw TrainingCheckpointError(description: "invalid schedule length: \(epochs) epochs, \(warmupEpochs) of warm-up") }
        guard gamma.isFinite, gamma > 0, milestones.allSatisfy({ $0 >= 0 && $0 <= TrainingLimits.maximumEpochs }) else { throw TrainingCheckpointError(description: "invalid step schedule: milestones \(milestones), gamma \(gamma)") }
    }

    enum CodingKeys: String, CodingKey {
        case shape, epochs, milestones, gamma
        case baseLearningRate = "base_learning_rate"
        case warmupEpochs = "warmup_epochs"
    }
}
