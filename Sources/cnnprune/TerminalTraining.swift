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

    /// Runs `body` with a progress display for its training events; maps the training errors.
    func run<T>(_ body: (_ progress: (TrainingRecipe.Event) -> Void) throws -> T) throws -> T {
        var progress = ProgressLine()
        do {
            return try body { event in
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
            }
        } catch let error as NonFiniteLossError {
            progress.clear()
            throw CLIError(error.commandLineDescription)
        } catch let error as MemoryBudgetError {
            throw CLIError("--batch-size \(recipe.batchSize) does not fit: \(error.description); use a smaller --batch-size or fewer --threads")
        } catch let error as TrainingRecipeError {
            throw CLIError(error.description)
        }
    }

    /// Trains `network` with a fresh run of the recipe; returns the trained network and the epochs' figures.
    func train(_ network: Network, on train: ByteImages, test: ByteImages) throws -> (network: Network, epochs: [EpochRecord]) {
        try run { try recipe.train(network, on: train, evaluatingOn: test, threads: threads, progress: $0) }
    }
}
