import CNNEngine
import CNNPruning

extension FineTuning {
    /// The fine-tuning that follows `recipe`: its epochs, batch size, learning rate, seed,
    /// optimizer, schedule and augmentation (seeded by the recipe's seed), so that a sweep's or a
    /// study's fine-tuning trains exactly as a run of the recipe from the pruned weights does.
    ///
    /// A constant rate without warm-up is recorded as no schedule (`schedule` nil), as the
    /// exercise's recipe is.
    /// - Parameter recipe: the recipe, usually a copy of the training recipe with fewer epochs.
    public init(_ recipe: TrainingRecipe) {
        self.init(epochs: recipe.epochs, learningRate: recipe.learningRate, batchSize: recipe.batchSize, seed: recipe.seed)
        optimizer = recipe.optimizer
        schedule = recipe.scheduleShape == .constant && recipe.warmupEpochs == 0 ? nil : recipe.schedule
        augmentation = recipe.seededAugmentation
    }
}
