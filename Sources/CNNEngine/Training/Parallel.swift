import Foundation

/// Runs `count` independent pieces of work on separate threads, the caller's thread taking
/// piece 0, and waits for all of them. The one worker loop of the package — training,
/// evaluation, calibration and the pruning studies' passes: each worker owns its own
/// `Workspace` and a contiguous share of the images (`slice(_:part:of:)`).
///
/// Backed by a persistent pool of threads woken per job by semaphores: no thread creation per
/// call, and, with `runPrebuilt(_:_:)`, no allocation either (checked under an allocation counter:
/// a training epoch's steps make no `malloc` call). A call from inside a piece (a study's
/// worker evaluating a network, say) runs its pieces one after another on that thread: the
/// outer call already keeps every thread busy, and the pool is never waited on from within.
/// With more than one piece, `run(_:_:)` has each matrix product run on one thread
/// (`BLAS.setThreadCount`); the allocation-free `runPrebuilt(_:_:)` leaves that to its caller.
package enum Parallel {
    package static func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            body(0)
        } else {
            BLAS.setThreadCount(1)
            // Workers touch disjoint data by construction; the closure itself need not be Sendable.
            withoutActuallyEscaping(body) { body in
                WorkerPool.shared.run(count, body)
            }
        }
    }

    /// Runs a prebuilt closure: unlike the non-escaping form, this allocates nothing, so hot
    /// loops build their worker closure once and call this per step.
    package static func runPrebuilt(_ count: Int, _ body: @escaping (Int) -> Void) {
        if count <= 1 {
            body(0)
        } else {
            WorkerPool.shared.run(count, body)
        }
    }

    /// The `part`-th of `parts` near-equal contiguous ranges of `0..<total`.
    package static func slice(_ total: Int, part: Int, of parts: Int) -> Range<Int> {
        (total * part / parts)..<(total * (part + 1) / parts)
    }
}

/// Threads that wait for work; job `i` of `count` runs on thread `i` (the caller runs job 0).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    private let lock = NSLock()
    private var wakeups: [DispatchSemaphore] = []
    private let finished = DispatchSemaphore(value: 0)
    // A concrete function type (not wrapped in a generic) so storing it needs no reabstraction thunk.
    private var job: ((Int) -> Void)?

    /// Marks the threads that are running a piece (the pool's own, and a caller during its piece 0).
    private static let insidePiece: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "cannot create a thread-local key")
        return key
    }()
    nonisolated(unsafe) private static let marker = UnsafeMutableRawPointer(bitPattern: 1)

    func run(_ count: Int, _ body: @escaping (Int) -> Void) {
        if pthread_getspecific(Self.insidePiece) != nil {
            // Nested: the pool's threads are all taken by the outer call.
            for index in 0..<count { body(index) }
            return
        }
        lock.lock()
        defer { lock.unlock() }
        while wakeups.count < count - 1 { spawn(index: wakeups.count + 1) }
        job = body
        for i in 0..<(count - 1) { wakeups[i].signal() }
        pthread_setspecific(Self.insidePiece, Self.marker)
        body(0)
        pthread_setspecific(Self.insidePiece, nil)
        for _ in 0..<(count - 1) { finished.wait() }
        job = nil
    }

    private func spawn(index: Int) {
        let wakeup = DispatchSemaphore(value: 0)
        wakeups.append(wakeup)
        let thread = Thread { [unowned self] in
            pthread_setspecific(Self.insidePiece, Self.marker)
            while true {
                wakeup.wait()
                self.job!(index)
                self.finished.signal()
            }
        }
        thread.stackSize = 1 << 22
        thread.start()
    }
}
