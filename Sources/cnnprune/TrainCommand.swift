import ArgumentParser
import CNNDatasets
import CNNEngine
import Foundation

/// `cnnprune train`: the exercise's training recipe (Adam, cross-entropy, batch 64).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the SimpleCNN on CIFAR-10 and save it as safetensors.",
        discussion: "Prints mean training loss, test accuracy, seconds and images/s per epoch. Pass --model to continue training (fine-tune) an existing checkpoint of any widths."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var recipe: TrainingRecipe

    @Option(help: "Checkpoint to start from instead of a fresh initialisation.")
    var model: String?

    @Option(help: "Where to save the trained model.")
    var output: String = "model.safetensors"

    @Flag(help: "Print one JSON object with every epoch's figures at the end.")
    var json = false

    func run() throws {
        let train = try data.load(.train)
        let test = try data.load(.test)
        let start: (network: Network, model: SimpleCNN)
        if let model {
            let loaded = try loadModel(model)
            start = (loaded.network, loaded.model)
        } else {
            let model = SimpleCNN()
            var generator = SeededGenerator(seed: recipe.seed)
            start = (Network(architecture: try model.architecture(), generator: &generator), model)
        }
        let result = try recipe.train(start.network, on: train, test: test, threads: threading.threads, echo: !json)
        try Checkpoint.save(result.network, model: start.model, to: URL(fileURLWithPath: output))
        if json {
            try printJSON(TrainingReport(epochs: result.epochs, testAccuracy: rounded(result.epochs.last?.testAccuracy ?? 0)))
        } else {
            print(String(format: "test accuracy %.2f%%, model saved to %@", result.epochs.last?.testAccuracy ?? 0, output))
        }
    }
}

/// The exercise's training flags, shared by `train`, `experiment` and fine-tuning.
struct TrainingRecipe: ParsableArguments {
    @Option(help: "Training epochs.")
    var epochs: Int = 10

    @Option(help: "Images per training step.")
    var batchSize: Int = 64

    @Option(help: "Adam learning rate.")
    var lr: Float = 0.001

    @Option(help: "Seed for initialisation and shuffling.")
    var seed: UInt64 = 0

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a positive finite number, got \(lr)") }
    }

    /// Trains `network` for `epochs`, evaluating on `test` after each; prints a line per epoch
    /// (to stdout when `echo`, else stderr) and a live progress bar on a terminal.
    func train(_ network: Network, on train: CIFAR10, test: CIFAR10, threads: Int, echo: Bool, epochs: Int? = nil) throws -> (network: Network, epochs: [EpochRecord]) {
        let epochCount = epochs ?? self.epochs
        let trainer = Trainer(network: network, optimizer: Adam(parameterCount: network.parameters.count, learningRate: lr),
                              batchSize: batchSize, threads: threads)
        let evaluator = Evaluator(threads: threads)
        var shuffle = SeededGenerator(seed: seed &+ 0x5EED_5EED)
        var progress = ProgressLine()
        var records: [EpochRecord] = []
        for epoch in 1...epochCount {
            let summary: EpochSummary
            do {
                summary = try trainer.trainEpoch(on: train, generator: &shuffle) { p in
                    progress.update(String(format: "epoch %d/%d %@ batch %d/%d loss %.4f %.0f img/s ETA %@",
                                           epoch, epochCount, ProgressLine.bar(Double(p.batch) / Double(p.batchCount)),
                                           p.batch, p.batchCount, p.meanLoss, p.imagesPerSecond, ProgressLine.duration(p.remaining)),
                                    force: p.batch == p.batchCount)
                }
            } catch let error as NonFiniteLossError {
                progress.clear()
                throw CLIError(error.description)
            }
            progress.clear()
            let evalStart = DispatchTime.now().uptimeNanoseconds
            let evaluation = evaluator.evaluate(trainer.network, on: test)
            let evalSeconds = Double(DispatchTime.now().uptimeNanoseconds - evalStart) / 1e9
            let record = EpochRecord(epoch: epoch, trainLoss: summary.trainLoss, seconds: summary.seconds,
                                     imagesPerSecond: summary.imagesPerSecond, testAccuracy: evaluation.accuracy, evalSeconds: evalSeconds)
            records.append(record)
            let line = String(format: "epoch %d/%d  loss %.4f  test %.2f%%  train %.1fs (%.0f img/s)  eval %.2fs",
                              epoch, epochCount, record.trainLoss, record.testAccuracy, record.seconds, record.imagesPerSecond, evalSeconds)
            if echo { print(line); fflush(nil) } else { printError(line) }
        }
        return (trainer.network, records)
    }
}

/// One epoch in `train --json`.
struct EpochRecord: Codable {
    var epoch: Int
    var trainLoss: Double
    /// Training loop seconds (no evaluation).
    var seconds: Double
    var imagesPerSecond: Double
    var testAccuracy: Double
    var evalSeconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, seconds
        case trainLoss = "train_loss"
        case imagesPerSecond = "images_per_second"
        case testAccuracy = "test_accuracy"
        case evalSeconds = "eval_seconds"
    }
}

/// `train --json` output.
struct TrainingReport: Codable {
    var epochs: [EpochRecord]
    var testAccuracy: Double
    enum CodingKeys: String, CodingKey {
        case epochs
        case testAccuracy = "test_accuracy"
    }
}
