@testable import CNNEngine
import Foundation
import Testing

/// The one worker loop: every piece runs once, nested calls finish (one after another on the
/// calling piece's thread) instead of waiting on the pool they run in, and calls from several
/// threads at once are served in turn.
@Suite struct ParallelTests {
    /// Counts how often each index ran, from any thread.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [Int: Int] = [:]
        func add(_ key: Int) { lock.lock(); counts[key, default: 0] += 1; lock.unlock() }
        var snapshot: [Int: Int] { lock.lock(); defer { lock.unlock() }; return counts }
    }

    @Test func everyPieceRunsOnce() {
        let tally = Tally()
        Parallel.run(5) { tally.add($0) }
        #expect(tally.snapshot == [0: 1, 1: 1, 2: 1, 3: 1, 4: 1])
    }

    @Test func nestedCallsRunEveryInnerPieceWithoutDeadlock() {
        let tally = Tally()
        Parallel.run(3) { outer in
            Parallel.run(4) { inner in tally.add(outer * 10 + inner) }
        }
        let expected = Dictionary(uniqueKeysWithValues: (0..<3).flatMap { o in (0..<4).map { (o * 10 + $0, 1) } })
        #expect(tally.snapshot == expected)
    }

    @Test func callsFromSeveralThreadsAreServedInTurn() {
        let tally = Tally()
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            Parallel.run(3) { piece in tally.add(caller * 10 + piece) }
        }
        #expect(tally.snapshot.count == 12 && tally.snapshot.values.allSatisfy { $0 == 1 })
    }

    @Test func slicesCoverTheRangeContiguously() {
        let parts = (0..<3).map { Parallel.slice(10, part: $0, of: 3) }
        #expect(parts == [0..<3, 3..<6, 6..<10])
    }
}
