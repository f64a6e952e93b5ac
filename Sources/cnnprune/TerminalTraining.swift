import CNNDatasets
import CNNEngine
import Foundation

/// Runs a `TrainingRecipe` for a command: a live progress bar on stderr (on a terminal only), a
/// line per epoch (to stdout when `echo`, else to stderr), and the library's errors as one-line
/// CLI errors that name the flag to change.
struct TerminalTraining {
    /// The recipe to run.
    let recipe: TrainingRecipe
    /// Training and evaluation workers.
    let threads: Int
    /// Whether the epoch lines go to stdout (else stderr, e.g. under `--json`).
    let echo: Bool

    /// A fresh run of the recipe from `network`.
    func makeRun(from network: Network) throws -> TrainingRun {
        do {
            return try recipe.makeRun(network: network, threads: threads)
        } catch let error as MemoryBudgetError {
            throw CLIError("--batch-size \(recipe.batchSize) does not fit: \(error.description); use a smaller --batch-size or fewer --threads")
        } catch let error as TrainingRecipeError {
            throw CLIError(error.description)
        }
    }

    /// Trains `run` up to the recipe's epochs, calling `afterEpoch` after each; returns the epochs' figures.
    @discardableResult
    func train(_ run: TrainingRun, on train: ByteImages, test: ByteImages, afterEpoch: (TrainingRun) throws -> Void = { _ in }) throws -> [EpochRecord] {
        var progress = ProgressLine()
        do {
            return try recipe.train(run, on: train, evaluatingOn: test, threads: threads, progress: { event in
                switch event {
                case .batch(let p, let epochs):
                    progress.update(String(format: "epoch %d/%d %@ batch %d/%d loss %.4f %.0f img/s ETA %@",
                                           p.epoch, epochs, ProgressLine.bar(Double(p.batch) / Double(p.batchCount)),
                                           p.batch, p.batchCount, p.meanLoss, p.imagesPerSecond, ProgressLine.duration(p.remaining)),
                                    force: p.batch == p.batchCount)
                case .epoch(let record, let epochs):
                    progress.clear()
                    let line = String(format: "epoch %d/%d  loss %.4f  test %.2f%%  train %.1fs (%.0f img/s)  eval %.2fs",
                                      record.epoch, epochs, record.trainLoss, record.testAccuracy, record.seconds, record.imagesPerSecond, record.evalSeconds)
                    if echo { print(line); fflush(nil) } else { printError(line) }
                }
            }, afterEpoch: afterEpoch)
        } catch let error as NonFiniteLossError {
            progress.clear()
            throw CLIError(error.commandLineDescription)
        }
    }

    /// Trains `network` with a fresh run of the recipe; returns the trained network and the epochs' figures.
    func train(_ network: Network, on train: ByteImages, test: ByteImages) throws -> (network: Network, epochs: [EpochRecord]) {
        let run = try makeRun(from: network)
        let epochs = try self.train(run, on: train, test: test)
        return (run.network, epochs)
    }
}

extension TrainingRecipe {
    /// This recipe for the fine-tuning after pruning step `step` (1-based) of an iterative
    /// pruning: seeded `seed + step − 1`, so that each step sees other batches and crops.
    func forPruningStep(_ step: Int) -> TrainingRecipe {
        var recipe = self
        recipe.seed &+= UInt64(step - 1)
        return recipe
    }
}
