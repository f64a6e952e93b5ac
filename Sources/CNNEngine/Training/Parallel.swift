import Foundation

/// Runs `count` independent pieces of work on separate threads and waits for all of them.
/// The engine's only source of parallelism: each worker owns its own `Workspace`.
///
/// Backed by a persistent pool of threads woken per job by semaphores: no thread creation per
/// call, and, with `run(_:reusing:)`, no allocation either (checked under an allocation counter:
/// a training epoch's steps make no `malloc` call).
enum Parallel {
    static func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            body(0)
        } else {
            // Workers touch disjoint data by construction; the closure itself need not be Sendable.
            withoutActuallyEscaping(body) { body in
                WorkerPool.shared.run(count, body)
            }
        }
    }

    /// Runs a prebuilt closure: unlike the non-escaping form, this allocates nothing, so hot
    /// loops build their worker closure once and call this per step.
    static func run(_ count: Int, reusing body: @escaping (Int) -> Void) {
        if count <= 1 {
            body(0)
        } else {
            WorkerPool.shared.run(count, body)
        }
    }

    /// The `part`-th of `parts` near-equal contiguous ranges of `0..<total`.
    static func slice(_ total: Int, part: Int, of parts: Int) -> Range<Int> {
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

    func run(_ count: Int, _ body: @escaping (Int) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        while wakeups.count < count - 1 { spawn(index: wakeups.count + 1) }
        job = body
        for i in 0..<(count - 1) { wakeups[i].signal() }
        body(0)
        for _ in 0..<(count - 1) { finished.wait() }
        job = nil
    }

    private func spawn(index: Int) {
        let wakeup = DispatchSemaphore(value: 0)
        wakeups.append(wakeup)
        let thread = Thread { [unowned self] in
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
