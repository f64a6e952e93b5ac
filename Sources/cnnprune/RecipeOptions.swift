import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

extension OptimizerSettings.Kind: ExpressibleByArgument {}
extension LearningRateSchedule.Shape: ExpressibleByArgument {}

/// The training-recipe flags beyond the exercise's (`--optimizer`, momentum, weight decay, the
/// learning-rate schedule, warm-up, augmentation), shared by every command that trains. The
/// defaults are the exercise's recipe: Adam, constant rate, no augmentation.
struct RecipeOptions: ParsableArguments {
    @Option(help: "Optimizer: adam (torch.optim.Adam), adamw (torch.optim.AdamW) or sgd (torch.optim.SGD).")
    var optimizer: OptimizerSettings.Kind = .adam
    @Option(parsing: .unconditional, help: "SGD momentum μ in [0, 1) (sgd only; default 0).")
    var momentum: Float?
    @Flag(help: "Nesterov momentum (sgd with --momentum > 0).")
    var nesterov = false
    @Option(parsing: .unconditional, help: "Weight decay (adam: L2 added to the gradient; adamw: decoupled, default 0.01; sgd: L2; default 0).")
    var weightDecay: Float?
    @Option(help: "Learning-rate schedule: constant, step (×--lr-gamma at each --lr-step-epochs epoch) or cosine (to 0 over the run, per step).")
    var lrSchedule: LearningRateSchedule.Shape = .constant
    @Option(help: "Epochs (of the whole run, comma-separated, ascending) at which the step schedule multiplies the rate by --lr-gamma, e.g. 100,150.")
    var lrStepEpochs: String?
    @Option(parsing: .unconditional, help: "The step schedule's factor at each milestone.")
    var lrGamma: Float = 0.1
    @Option(parsing: .unconditional, help: "Epochs of linear per-step warm-up to --lr before the schedule.")
    var warmupEpochs: Int = 0
    @Flag(help: "Augment training images: random crop with 4 pixels of zero padding and horizontal flip (torchvision RandomCrop(32, padding=4) + RandomHorizontalFlip), seeded by --seed.")
    var augment = false

    func validate() throws {
        if momentum != nil, optimizer != .sgd { throw ValidationError("--momentum applies to --optimizer sgd only") }
        if nesterov {
            guard optimizer == .sgd else { throw ValidationError("--nesterov applies to --optimizer sgd only") }
            // A negative or non-finite momentum is the recipe's check's to report, as before this one.
            guard let momentum, momentum != 0 else { throw ValidationError("--nesterov needs --momentum above 0") }
        }
        try usage { try applied(to: TrainingRecipe()).checkOptimizerAndSchedule() }
        switch (lrSchedule, lrStepEpochs) {
        case (.step, nil): throw ValidationError("--lr-schedule step needs --lr-step-epochs, e.g. 100,150")
        case (.step, let list?): _ = try milestones(list)
        case (_, _?): throw ValidationError("--lr-step-epochs applies to --lr-schedule step only")
        default: break
        }
    }

    /// The milestones of `--lr-step-epochs` (`LearningRateSchedule.milestones(parsing:)`).
    private func milestones(_ list: String) throws -> [Int] {
        do { return try LearningRateSchedule.milestones(parsing: list) } catch let error as MilestonesError {
            throw ValidationError("--lr-step-epochs" + error.description.dropFirst("milestones".count))
        }
    }

    /// `base` with these flags' optimizer, schedule (shape, milestones, gamma, warm-up) and
    /// augmentation; its epochs, batch size, learning rate and seed stay.
    func applied(to base: TrainingRecipe) -> TrainingRecipe {
        var recipe = base
        recipe.optimizer = OptimizerSettings(kind: optimizer, momentum: momentum ?? 0, nesterov: nesterov, weightDecay: weightDecay)
        recipe.scheduleShape = lrSchedule
        recipe.milestones = lrStepEpochs.flatMap { try? milestones($0) } ?? []
        recipe.gamma = lrGamma
        recipe.warmupEpochs = warmupEpochs
        recipe.augmentation = augment ? CIFAR10.standardAugmentation(seed: base.seed) : nil
        return recipe
    }

    /// `fineTuning` with these options' optimizer, schedule and augmentation (seeded by its seed).
    func applied(to fineTuning: FineTuning) -> FineTuning {
        FineTuning(applied(to: TrainingRecipe(epochs: fineTuning.epochs, batchSize: fineTuning.batchSize,
                                               learningRate: fineTuning.learningRate, seed: fineTuning.seed)))
    }
}

/// The exercise's training flags (`--epochs`, `--batch-size`, `--lr`, `--seed`) and the recipe
/// flags (`RecipeOptions`), shared by `train` and `experiment`: parsed and checked here, run as
/// CNNEngine's `TrainingRecipe` (`recipe`).
struct TrainingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Training epochs.")
    var epochs: Int = 10
    @Option(parsing: .unconditional, help: "Images per training step.")
    var batchSize: Int = 64
    @Option(parsing: .unconditional, help: "Learning rate (the peak rate under a schedule).")
    var lr: Float = 0.001
    @Option(parsing: .unconditional, help: "Seed for initialisation and shuffling.")
    var seed: UInt64 = 0

    /// Optimizer, schedule and augmentation flags (`RecipeOptions.swift`).
    @OptionGroup(title: "Training recipe") var options: RecipeOptions

    func validate() throws {
        try usage { try recipe.checkLengthBatchAndRate() }
    }

    /// The recipe these flags describe.
    var recipe: TrainingRecipe {
        options.applied(to: TrainingRecipe(epochs: epochs, batchSize: batchSize, learningRate: lr, seed: seed))
    }
}
