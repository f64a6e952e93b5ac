import Foundation

/// What the trainer reports after every batch, for progress display.
public struct BatchProgress: Sendable {
    /// 1-based index of the epoch.
    public var epoch: Int
    /// 1-based index of the batch just finished.
    public var batch: Int
    /// Batches in the epoch.
    public var batchCount: Int
    /// Mean training loss over the epoch so far.
    public var meanLoss: Double
    /// Training speed over the epoch so far.
    public var imagesPerSecond: Double
    /// Seconds since the epoch started.
    public var elapsed: Double
    /// Estimated seconds until the epoch ends.
    public var remaining: Double { imagesPerSecond > 0 ? elapsed / Double(batch) * Double(batchCount - batch) : 0 }
}

/// One epoch's figures.
public struct EpochSummary: Codable, Sendable {
    /// 1-based index of the epoch.
    public var epoch: Int
    /// Mean cross-entropy over the epoch's training images.
    public var trainLoss: Double
    /// Seconds spent in the training loop (no evaluation).
    public var seconds: Double
    /// Training speed over the epoch.
    public var imagesPerSecond: Double
}

/// Raised when the loss stops being a finite number; the network is left as it was before the
/// failing step.
public struct NonFiniteLossError: Error, CustomStringConvertible {
    /// The 1-based epoch in which the loss diverged.
    public var epoch: Int
    /// The 1-based batch whose loss was not finite.
    public var batch: Int
    /// The epoch and batch in which the loss diverged.
    public var description: String {
        "training diverged: the loss became NaN or infinite in epoch \(epoch), batch \(batch)"
    }
}

/// Mini-batch training of a `Network` with softmax cross-entropy and any `Optimizer`.
///
/// Each batch is split across `threads` workers, each with its own `Workspace` (the BLAS runs
/// single-threaded meanwhile); their gradients are summed and the optimizer takes one step.
/// The same seed and thread count give the same run bit for bit.
public final class Trainer {
    /// The network as trained so far.
    public private(set) var network: Network
    /// Takes one step per batch; its learning rate may be set between steps (by `schedule`).
    public var optimizer: any Optimizer
    /// Images per step (the last batch of an epoch may be smaller).
    public let batchSize: Int
    /// Workers that split each batch.
    public let threads: Int
    /// Epochs completed so far.
    public private(set) var epochsCompleted = 0
    /// Optimisation steps taken so far (seeds the dropout masks of the next step).
    public var stepsTaken: UInt64 = 0
    /// When set, `trainEpoch` sets `optimizer.learningRate` from it before every step (the
    /// step index counts from the run's start, so it follows `epochsCompleted` on resume).
    public var schedule: LearningRateSchedule?
    /// Called by `trainEpoch` after every step that changed the parameters, with the indices of
    /// the samples of that batch (in the shuffled order the step used) and their summed loss;
    /// `network` and `stepsTaken` then already reflect the step. For traces that let another
    /// implementation replay the exact run (`cnnprune train --trace`); nil costs nothing.
    public var stepObserver: ((_ indices: UnsafeBufferPointer<Int32>, _ summedLoss: Double) -> Void)?

    private let workspaces: [Workspace]
    private var order: [Int32] = []
    /// Each worker's summed loss for the current step.
    private let losses: UnsafeMutablePointer<Double>
    /// The current step's arguments, read by the prebuilt worker closures (so that running a
    /// step allocates nothing).
    private var arguments = StepArguments()
    private var reduceWork: ((Int) -> Void)?
    /// Combines the workers' BatchNorm sums within a step.
    private let reducer: BatchReducer

    private struct StepArguments {
        var indices: UnsafePointer<Int32>?
        var batch = 0
        var parts = 1
        var step: UInt64 = 0
    }

    /// - Parameters:
    ///   - network: the starting point; training updates a copy held here.
    ///   - optimizer: takes one step per batch.
    ///   - batchSize: images per step (the last batch of an epoch may be smaller).
    ///   - threads: workers that split each batch.
    public init(network: Network, optimizer: any Optimizer, batchSize: Int, threads: Int) {
        precondition(batchSize > 0 && threads > 0)
        self.network = network
        self.optimizer = optimizer
        self.batchSize = batchSize
        self.threads = min(threads, batchSize)
        let perWorker = (batchSize + self.threads - 1) / self.threads
        workspaces = (0..<self.threads).map { _ in Workspace(architecture: network.architecture, batchCapacity: perWorker) }
        losses = .allocate(capacity: self.threads)
        losses.initialize(repeating: 0, count: self.threads)
        reducer = BatchReducer(capacity: network.architecture.reductionCapacity, workers: self.threads)
        BLAS.setThreadCount(1)
        // Sums the workers' gradients into the first workspace's, each thread a range of them.
        let gradients = UncheckedSendable(workspaces.map { $0.parameterGradients.baseAddress! })
        let count = network.parameters.count, threadCount = self.threads
        reduceWork = { [unowned self] part in
            let range = Parallel.slice(count, part: part, of: threadCount)
            let sum = gradients.value[0]
            for worker in 1..<self.arguments.parts {
                let source = gradients.value[worker]
                for i in range { sum[i] += source[i] }
            }
        }
    }

    deinit { losses.deallocate() }

    /// Trains one epoch over `data` in an order shuffled by `generator`, calling `progress`
    /// after each batch. Throws `NonFiniteLossError` if the loss diverges.
    public func trainEpoch<Data: LabeledImages>(
        on data: Data, generator: inout SeededGenerator, progress: ((BatchProgress) -> Void)? = nil
    ) throws -> EpochSummary {
        precondition(data.sampleShape == network.architecture.inputShape, "data shape does not match the network")
        if order.count != data.count { order = (0..<Int32(data.count)).map { $0 } }
        for i in order.indices { order[i] = Int32(i) }
        order.seededShuffle(using: &generator)
        let epoch = epochsCompleted + 1
        let batchCount = (data.count + batchSize - 1) / batchSize
        let start = DispatchTime.now().uptimeNanoseconds
        var lossSum = 0.0
        let work = stepWork(for: data)
        for batch in 0..<batchCount {
            let range = (batch * batchSize)..<min(data.count, (batch + 1) * batchSize)
            if let schedule {
                optimizer.learningRate = schedule.learningRate(step: (epoch - 1) * batchCount + batch, stepsPerEpoch: batchCount)
            }
            let loss = order.withUnsafeBufferPointer { all in
                runStep(work, indices: UnsafeBufferPointer(rebasing: all[range]))
            }
            guard loss.isFinite else { throw NonFiniteLossError(epoch: epoch, batch: batch + 1) }
            if let stepObserver { order.withUnsafeBufferPointer { stepObserver(UnsafeBufferPointer(rebasing: $0[range]), loss) } }
            lossSum += loss
            if let progress {
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                progress(BatchProgress(epoch: epoch, batch: batch + 1, batchCount: batchCount,
                                       meanLoss: lossSum / Double(range.upperBound),
                                       imagesPerSecond: Double(range.upperBound) / max(elapsed, 1e-9), elapsed: elapsed))
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        epochsCompleted += 1
        return EpochSummary(epoch: epoch, trainLoss: lossSum / Double(data.count), seconds: seconds,
                            imagesPerSecond: Double(data.count) / seconds)
    }

    /// One optimisation step on the samples at `indices`; returns their summed loss. When the
    /// loss is not finite the parameters are left unchanged.
    public func step<Data: LabeledImages>(data: Data, indices: UnsafeBufferPointer<Int32>) -> Double {
        runStep(stepWork(for: data), indices: indices)
    }

    /// What worker `w` does in a step on `data`: its slice of the batch, forward, loss, backward.
    /// Built once per epoch; the step's arguments come from `arguments`.
    private func stepWork<Data: LabeledImages>(for data: Data) -> (Int) -> Void {
        let classes = network.architecture.outputShape.reduce(1, *)
        let layerCount = network.architecture.layers.count
        let workspaces = self.workspaces, losses = UncheckedSendable(self.losses)
        let reducer = self.reducer
        return { [unowned self] worker in
            let arguments = self.arguments
            let network = self.network
            let workspace = workspaces[worker]
            let range = Parallel.slice(arguments.batch, part: worker, of: arguments.parts)
            let slice = UnsafeBufferPointer(start: arguments.indices! + range.lowerBound, count: range.count)
            data.fillInputs(indices: slice, into: workspace.activation(0))
            for (i, index) in slice.enumerated() { workspace.labels[i] = Int32(data.label(at: Int(index))) }
            let context = PassContext(training: true, worker: worker, reducer: arguments.parts > 1 ? reducer : nil,
                                      batchTotal: arguments.batch, sampleOffset: range.lowerBound, step: arguments.step)
            network.forward(workspace, batch: range.count, context: context)
            losses.value[worker] = SoftmaxCrossEntropy.loss(
                logits: workspace.output, labels: workspace.labels, batch: range.count, classes: classes,
                gradientScale: 1 / Float(arguments.batch), gradient: workspace.activationGradient(layerCount))
            network.backward(workspace, batch: range.count, context: context)
        }
    }

    /// The loss and the gradient of the mean loss over the samples at `indices`, computed as a
    /// training step computes them (training mode, split across the workers), without changing
    /// the parameters or the running state. For checks against other implementations.
    public func lossAndGradient<Data: LabeledImages>(data: Data, indices: UnsafeBufferPointer<Int32>) -> (loss: Double, gradient: [Float]) {
        let batch = indices.count
        let parts = min(threads, batch)
        arguments = StepArguments(indices: indices.baseAddress, batch: batch, parts: parts, step: stepsTaken)
        reducer.setParticipants(parts)
        Parallel.runPrebuilt(parts, stepWork(for: data))
        var loss = 0.0
        for worker in 0..<parts { loss += losses[worker] }
        if parts > 1 { Parallel.runPrebuilt(threads, reduceWork!) }
        return (loss / Double(batch), Array(workspaces[0].parameterGradients))
    }

    private func runStep(_ work: @escaping (Int) -> Void, indices: UnsafeBufferPointer<Int32>) -> Double {
        let batch = indices.count
        let parts = min(threads, batch)
        arguments = StepArguments(indices: indices.baseAddress, batch: batch, parts: parts, step: stepsTaken)
        reducer.setParticipants(parts)
        Parallel.runPrebuilt(parts, work)
        var loss = 0.0
        for worker in 0..<parts { loss += losses[worker] }
        guard loss.isFinite else { return loss }
        stepsTaken &+= 1
        network.updateState(from: workspaces[0], batch: batch)
        if parts > 1 { Parallel.runPrebuilt(threads, reduceWork!) }
        let total = workspaces[0].parameterGradients
        network.parameters.withUnsafeMutableBufferPointer { parameters in
            optimizer.step(parameters: parameters, gradients: UnsafeBufferPointer(total), workers: threads)
        }
        return loss
    }

    /// Replaces the network being trained (e.g. after restoring a checkpoint).
    public func replaceNetwork(_ network: Network) {
        precondition(network.parameters.count == self.network.parameters.count)
        self.network = network
    }

    /// Sets the number of completed epochs (when resuming).
    public func setEpochsCompleted(_ epochs: Int) { epochsCompleted = epochs }
}

/// Wraps a value whose thread-safety the engine guarantees by construction (disjoint slices
/// per worker), so it can cross into parallel workers.
struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
