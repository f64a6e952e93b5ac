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
        let network = try ModelFile.load(model).network
        let test = try data.load(.test), train = try data.load(.train)
        let probe = InteropProbe(count: count, batchSize: batchSize, start: start, steps: steps, learningRate: lr)
        guard probe.fits(test: test, train: train) else { throw CLIError("probe: --count, --batch-size and --steps do not fit the data") }
        let tensors = try probe.tensors(of: network, test: test, train: train, threads: threading.threads)
        try SafeTensors(tensors: tensors).write(to: URL(fileURLWithPath: output))
    }
}
