import CNNEngine
import Foundation

/// Runs `count` pieces of work on separate threads, the caller's thread taking piece 0, and
/// waits for all of them (POSIX threads, joined, so nothing outlives the call). Pruning passes
/// call it once per pass over the data — each worker takes a contiguous share of the images —
/// so creating the threads per call costs nothing that counts.
enum Workers {
    static func run(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1 else {
            body(0)
            return
        }
        BLAS.setThreadCount(1)
        withoutActuallyEscaping(body) { body in
            var threads: [pthread_t] = []
            for index in 1..<count {
                let job = Unmanaged.passRetained(Job(body: body, index: index)).toOpaque()
                var thread = pthread_t()
                let status = pthread_create(&thread, nil, { argument in
                    let job = Unmanaged<Job>.fromOpaque(argument!).takeRetainedValue()
                    job.body(job.index)
                    return nil
                }, job)
                precondition(status == 0, "cannot start a worker thread (error \(status))")
                threads.append(thread)
            }
            body(0)
            for thread in threads { pthread_join(thread, nil) }
        }
    }

    /// The `part`-th of `parts` near-equal contiguous ranges of `0..<total`.
    static func share(_ total: Int, part: Int, of parts: Int) -> Range<Int> {
        (total * part / parts)..<(total * (part + 1) / parts)
    }

    private final class Job: @unchecked Sendable {
        let body: (Int) -> Void
        let index: Int
        init(body: @escaping (Int) -> Void, index: Int) {
            self.body = body
            self.index = index
        }
    }
}

/// A value that crosses into worker threads; safe because every worker touches its own slice.
struct Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
