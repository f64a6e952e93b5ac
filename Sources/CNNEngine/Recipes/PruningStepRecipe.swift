import Foundation

extension TrainingRecipe {
    /// This recipe for the fine-tuning after pruning step `step` (1-based) of an iterative
    /// pruning: seeded `seed + step − 1`, so that each step sees other batches and crops.
    /// - Parameter step: the pruning step, from 1.
    /// - Returns: the recipe with the step's seed.
    public func forPruningStep(_ step: Int) -> TrainingRecipe {
        var recipe = self
        recipe.seed &+= UInt64(step - 1)
        return recipe
    }

    /// This recipe with another seed (e.g. model `i` of a multi-seed study: `seed + i`).
    /// - Parameter seed: the new seed.
    /// - Returns: the recipe seeded `seed`.
    public func seeded(_ seed: UInt64) -> TrainingRecipe {
        var recipe = self
        recipe.seed = seed
        return recipe
    }
}
