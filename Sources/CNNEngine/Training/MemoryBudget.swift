import Foundation

/// The stated limits on the sizes a run takes from flags, files and checkpoints, and the memory
/// check made before a network's workspaces are allocated, so that an absurd size is a clear
/// error instead of a trap or the kernel's out-of-memory kill.
public enum TrainingLimits {
    /// The most epochs a run may have (a schedule counts steps as epochs × batches in an `Int`).
    public static let maximumEpochs = 100_000
    /// The most images in one training step: more than any data set cnnprune reads has
    /// (CIFAR's 50,000 training images, MNIST's 60,000).
    public static let maximumBatchSize = 65_536
    /// The most optimizer steps a checkpoint may record (Adam's bias correction and the step
    /// counters stay exact far below `Int.max`).
    public static let maximumOptimizerSteps = 1 << 48
}

/// Why a network cannot run at the asked size here: its workspaces would not fit in memory.
public struct MemoryBudgetError: Error, CustomStringConvertible, Equatable {
    /// Samples each worker's workspace holds.
    public var samplesPerWorker: Int
    /// Workers, each with its own workspace.
    public var workers: Int
    /// The estimated bytes (nil: more than an `Int` counts).
    public var neededBytes: Int?
    /// The memory available to the run, in bytes.
    public var availableBytes: Int

    /// One line: the estimate, the workers and samples it is for, and what is available.
    public var description: String {
        let needed = neededBytes.map(MemoryBudget.format) ?? "more bytes than a 64-bit count holds"
        return "\(workers) worker\(workers == 1 ? "" : "s") × \(samplesPerWorker) sample\(samplesPerWorker == 1 ? "" : "s") of this network need an estimated \(needed) of working memory, more than the \(MemoryBudget.format(availableBytes)) available"
    }
}

/// Estimates the memory of a network's workspaces before allocating them, and checks it
/// against the memory the machine has available (`MemAvailable` on Linux, else the physical
/// memory).
public enum MemoryBudget {
    /// The bytes `workers` workspaces of `samplesPerWorker` samples each take for
    /// `architecture`, with the parameters they share: activations (and their gradients when
    /// `training`), layer scratch, parameter gradients; nil if the count overflows.
    public static func estimatedBytes(for architecture: Sequential, samplesPerWorker: Int, workers: Int, training: Bool) -> Int? {
        var perSample = 0, perBatch = architecture.reductionCapacity
        let shapes = architecture.shapes
        for (index, shape) in shapes.enumerated() {
            guard let count = product(shape) else { return nil }
            perSample = add(perSample, training && index > 0 ? multiply(count, 2) : count) ?? -1
            guard perSample >= 0 else { return nil }
        }
        var transient = 0
        for layer in architecture.layers {
            guard let sum = add(perSample, layer.scratchPerSample), let batch = add(perBatch, add(layer.scratchPerBatch, layer.keptPerBatch)) else { return nil }
            perSample = sum
            perBatch = batch
            transient = max(transient, layer.transientPerSample)
        }
        let parameters = architecture.parameterCount
        guard let withTransient = add(perSample, transient),
              let samples = multiply(withTransient, samplesPerWorker),
              let worker = add(samples, add(perBatch, training ? parameters : 0)),
              let floats = add(parameters, multiply(worker, workers)),
              let bytes = multiply(floats, MemoryLayout<Float>.size) else { return nil }
        return bytes
    }

    /// Checks that the workspaces fit in the memory available.
    /// - Throws: `MemoryBudgetError` with the estimate and what is available.
    public static func check(_ architecture: Sequential, samplesPerWorker: Int, workers: Int, training: Bool) throws {
        let available = availableBytes
        let needed = estimatedBytes(for: architecture, samplesPerWorker: samplesPerWorker, workers: workers, training: training)
        guard let needed, needed <= available else {
            throw MemoryBudgetError(samplesPerWorker: samplesPerWorker, workers: workers, neededBytes: needed, availableBytes: available)
        }
    }

    /// Checks a training run's workspaces: `batchSize` split over `threads` workers, as `Trainer` does.
    public static func checkTraining(_ architecture: Sequential, batchSize: Int, threads: Int) throws {
        let workers = max(1, min(threads, batchSize))
        try check(architecture, samplesPerWorker: (batchSize + workers - 1) / workers, workers: workers, training: true)
    }

    /// The memory the run may use: `MemAvailable` from `/proc/meminfo` where it is readable,
    /// else the machine's physical memory.
    public static var availableBytes: Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            return kilobytes.multipliedReportingOverflow(by: 1024).overflow ? Int.max : kilobytes * 1024
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    /// Bytes in binary units, e.g. "3.2 GiB".
    static func format(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }

    private static func product(_ shape: [Int]) -> Int? {
        var result = 1
        for extent in shape { guard let next = multiply(result, extent) else { return nil }; result = next }
        return result
    }

    private static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : result
    }

    private static func add(_ a: Int, _ b: Int?) -> Int? {
        guard let b else { return nil }
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : result
    }
}
