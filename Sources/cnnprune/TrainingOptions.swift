import ArgumentParser
import CNNEngine

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
        try validateEpochs(epochs, flag: "--epochs", minimum: 1)
        guard options.warmupEpochs < epochs || options.warmupEpochs == 0 else {
            throw ValidationError("--warmup-epochs (\(options.warmupEpochs)) must be below --epochs (\(epochs))")
        }
        try validateBatchSize(batchSize)
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a positive finite number, got \(lr)") }
    }

    /// The recipe these flags describe.
    var recipe: TrainingRecipe {
        options.applied(to: TrainingRecipe(epochs: epochs, batchSize: batchSize, learningRate: lr, seed: seed))
    }
}
