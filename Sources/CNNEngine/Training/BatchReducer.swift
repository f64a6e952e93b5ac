import Foundation
import Synchronization

/// Sums per-worker partial values across the workers that share one batch, so that layers
/// needing whole-batch statistics (BatchNorm) see exactly what a single pass over the batch
/// would see.
///
/// Each worker writes its partial sums into its own slot; after a barrier every worker adds
/// all slots in worker order (bit-identical totals on every worker, whatever the timing), and
/// a second barrier keeps slots from being overwritten before everyone has read them. Nothing
/// is allocated per call.
public final class BatchReducer: @unchecked Sendable {
    /// The most values one call may reduce.
    public let capacity: Int
    /// The most workers the reducer was built for.
    public let maximumWorkers: Int
    private let slots: UnsafeMutablePointer<Double>
    private let barrier: SpinBarrier

    /// - Parameters:
    ///   - capacity: the most values reduced in one call.
    ///   - workers: the most workers that will take part.
    public init(capacity: Int, workers: Int) {
        self.capacity = max(capacity, 1)
        self.maximumWorkers = max(workers, 1)
        slots = .allocate(capacity: self.capacity * maximumWorkers)
        slots.initialize(repeating: 0, count: self.capacity * maximumWorkers)
        barrier = SpinBarrier(parties: maximumWorkers)
    }

    deinit { slots.deallocate() }

    /// Sets how many workers take part in the next calls (the last batch of an epoch may have
    /// fewer samples than workers). Call between passes, never during one.
    public func setParticipants(_ count: Int) {
        precondition((1...maximumWorkers).contains(count))
        barrier.parties = count
    }

    /// Replaces `values[0..<count]` by their sum over all participating workers.
    public func allReduce(_ values: UnsafeMutablePointer<Double>, count: Int, worker: Int) {
        let parties = barrier.parties
        guard parties > 1 else { return }
        precondition(count <= capacity, "reduction of \(count) values exceeds the reducer's capacity \(capacity)")
        (slots + worker * capacity).update(from: values, count: count)
        barrier.wait()
        values.update(from: slots, count: count)
        for other in 1..<parties {
            let slot = slots + other * capacity
            for i in 0..<count { values[i] += slot[i] }
        }
        barrier.wait()
    }
}

/// A reusable barrier for a fixed group of threads: spins briefly, then yields, so it costs
/// well under a microsecond when the workers arrive together and little CPU when they do not.
final class SpinBarrier: @unchecked Sendable {
    /// Threads that must arrive before any may leave; changed only between uses.
    var parties: Int
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)

    init(parties: Int) { self.parties = parties }

    func wait() {
        let current = generation.load(ordering: .acquiring)
        if arrived.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == parties {
            arrived.store(0, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .releasing)
            return
        }
        var spins = 0
        while generation.load(ordering: .acquiring) == current {
            spins += 1
            if spins > 200 { sched_yield() }
        }
    }
}
