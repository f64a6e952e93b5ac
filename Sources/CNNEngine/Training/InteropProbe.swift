import Foundation

/// What an independent implementation needs to check the engine's numbers on the same weights:
/// inference logits, one training batch's logits, loss and gradients, and the parameters and
/// running statistics after a few plain SGD steps on that batch (`scripts/torch_interop.py`
/// compares them with PyTorch's).
///
/// The tensors: `logits` [COUNT, classes] of the first `count` test images in inference mode;
/// `train_logits` [BATCH, classes], the training-mode logits of training images
/// `start..<start + batchSize`; `loss` [1] and `grad.NAME` for every parameter, the gradient of
/// their mean cross-entropy in training mode; `after.NAME` for every parameter and state tensor
/// after `steps` SGD steps at `learningRate`, each on that same batch.
public struct InteropProbe: Equatable, Sendable {
    /// Test images whose logits are written.
    public var count: Int
    /// Training images per step.
    public var batchSize: Int
    /// Index of the first training image of the batch.
    public var start: Int
    /// SGD steps.
    public var steps: Int
    /// The SGD learning rate.
    public var learningRate: Float

    /// A probe.
    /// - Parameters:
    ///   - count: test images whose logits are written.
    ///   - batchSize: training images per step.
    ///   - start: index of the first training image of the batch.
    ///   - steps: SGD steps.
    ///   - learningRate: the SGD learning rate.
    public init(count: Int, batchSize: Int, start: Int, steps: Int, learningRate: Float) {
        self.count = count
        self.batchSize = batchSize
        self.start = start
        self.steps = steps
        self.learningRate = learningRate
    }

    /// Whether the probe fits the data: at least one test image and at most `test.count`, a
    /// positive batch within `train`, no negative step count.
    /// - Parameters:
    ///   - test: the images whose logits are written.
    ///   - train: the images of the training batch.
    /// - Returns: true when ``tensors(of:test:train:threads:)`` can run.
    public func fits(test: some LabeledImages, train: some LabeledImages) -> Bool {
        count > 0 && count <= test.count && batchSize > 0 && steps >= 0 && start >= 0 && start + batchSize <= train.count
    }

    /// The probe's tensors for `network` (which it leaves untouched only if `steps` is 0: the
    /// SGD steps train it in place).
    /// - Parameters:
    ///   - network: the model.
    ///   - test: the images whose logits are written.
    ///   - train: the images of the training batch.
    ///   - threads: workers that split the batch.
    /// - Returns: the tensors by name.
    /// - Throws: ``InteropProbeError`` when the probe does not fit the data (``fits(test:train:)``).
    public func tensors(of network: Network, test: some LabeledImages, train: some LabeledImages, threads: Int) throws -> [String: Tensor] {
        guard fits(test: test, train: train) else { throw InteropProbeError() }
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
        tensors["train_logits"] = Tensor(shape: [batchSize, classes],
                                         scalars: network(Tensor(shape: [batchSize] + network.architecture.inputShape, scalars: trainInputs), training: true).scalars)
        let trainer = Trainer(network: network, optimizer: SGD(parameterCount: network.parameters.count, learningRate: learningRate),
                              batchSize: batchSize, threads: threads)
        let (loss, gradient) = head.withUnsafeBufferPointer { trainer.lossAndGradient(data: train, indices: $0) }
        tensors["loss"] = Tensor(shape: [1], scalars: [Float(loss)])
        for entry in network.architecture.parameterEntries {
            tensors["grad.\(entry.name)"] = Tensor(shape: entry.shape, scalars: Array(gradient[entry.offset..<(entry.offset + entry.count)]))
        }
        for _ in 0..<steps {
            _ = head.withUnsafeBufferPointer { trainer.step(data: train, indices: $0) }
        }
        for (name, tensor) in trainer.network.namedTensors { tensors["after.\(name)"] = tensor }
        return tensors
    }
}

/// Why an ``InteropProbe`` cannot run: its image count, batch or steps do not fit the data.
public struct InteropProbeError: Error, Equatable, CustomStringConvertible {
    /// One line saying what is wrong.
    public var description: String { "the probe's image count, batch and steps do not fit the data" }
}
