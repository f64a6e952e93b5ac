import ArgumentParser
import CNNDatasets
import CNNEngine
import Foundation

/// `cnnprune probe` (hidden): what an independent implementation needs to check cnnprune's
/// numbers on the same weights — inference logits, one training batch's gradients, and the
/// parameters and running statistics after a few plain SGD steps — in one safetensors file.
/// `scripts/torch_interop.py` compares them with PyTorch's.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Write logits, gradients and a few SGD steps of a model for interop checks.",
        discussion: """
        Writes OUTPUT (safetensors): `logits` [COUNT, classes] of the first COUNT test images in inference mode; \
        `train_logits` [BATCH, classes]: training-mode logits of training images START..<START+BATCH; `loss` [1] and \
        `grad.NAME` for every parameter: the gradient of their mean cross-entropy in training mode; `after.NAME` for \
        every parameter and state tensor after STEPS plain SGD steps (learning rate LR), each on that same batch.
        """,
        shouldDisplay: false
    )

    @Option(help: "The model.") var model: String
    @OptionGroup var data: DataOptions
    @OptionGroup var threading: ThreadOptions
    @Option(parsing: .unconditional, help: "Test images whose logits are written.") var count = 64
    @Option(parsing: .unconditional, help: "Training images per step.") var batchSize = 32
    @Option(parsing: .unconditional, help: "Index of the first training image of the batch.") var start = 0
    @Option(parsing: .unconditional, help: "SGD steps.") var steps = 3
    @Option(parsing: .unconditional, help: "SGD learning rate.") var lr: Float = 0.01
    @Option(help: "Where to write the tensors.") var output: String

    func run() throws {
        let loaded = try loadAnyModel(model)
        let network = loaded.network
        let test = try data.load(.test), train = try data.load(.train)
        guard count > 0, count <= test.count, batchSize > 0, steps >= 0, start >= 0, start + batchSize <= train.count else {
            throw CLIError("probe: --count, --batch-size and --steps do not fit the data")
        }
        var tensors: [String: Tensor] = [:]
        let classes = network.architecture.outputShape.reduce(1, *)
        let sample = network.architecture.inputShape.reduce(1, *)
        var inputs = [Float](repeating: 0, count: count * sample)
        let indices = (0..<Int32(count)).map { $0 }
        indices.withUnsafeBufferPointer { i in inputs.withUnsafeMutableBufferPointer { test.fillInputs(indices: i, into: $0.baseAddress!) } }
        tensors["logits"] = Tensor(shape: [count, classes], scalars: network(Tensor(shape: [count] + network.architecture.inputShape, scalars: inputs)).scalars)

        var trainInputs = [Float](repeating: 0, count: batchSize * sample)
        let head = (Int32(start)..<Int32(start + batchSize)).map { $0 }
        head.withUnsafeBufferPointer { i in trainInputs.withUnsafeMutableBufferPointer { train.fillInputs(indices: i, into: $0.baseAddress!) } }
        tensors["train_logits"] = Tensor(shape: [batchSize, classes], scalars: network(Tensor(shape: [batchSize] + network.architecture.inputShape, scalars: trainInputs), training: true).scalars)
        let trainer = Trainer(network: network, optimizer: SGD(parameterCount: network.parameters.count, learningRate: lr),
                              batchSize: batchSize, threads: threading.threads)
        let (loss, gradient) = head.withUnsafeBufferPointer { trainer.lossAndGradient(data: train, indices: $0) }
        tensors["loss"] = Tensor(shape: [1], scalars: [Float(loss)])
        for entry in network.architecture.parameterEntries {
            tensors["grad.\(entry.name)"] = Tensor(shape: entry.shape, scalars: Array(gradient[entry.offset..<(entry.offset + entry.count)]))
        }
        for _ in 0..<steps {
            _ = head.withUnsafeBufferPointer { trainer.step(data: train, indices: $0) }
        }
        for (name, tensor) in trainer.network.namedTensors { tensors["after.\(name)"] = tensor }
        try SafeTensors(tensors: tensors).write(to: URL(fileURLWithPath: output))
    }
}
