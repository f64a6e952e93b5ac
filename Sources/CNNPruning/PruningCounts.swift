/// The numbers of units to prune in a sweep, parsed from a list of counts (the command line's `--k`).
///
/// The syntax is a comma-separated list whose items are single counts (`8`) or Python-style
/// ranges `START:STOP[:STEP]` with STOP excluded (`0:32:2` is 0, 2, …, 30); items may be mixed
/// (`0:8:2,16,24`). The counts must come out non-negative and strictly increasing, because a
/// sweep prunes nested sets and draws them left to right.
public enum PruningCounts {
    /// The most counts a list may give (found by fuzzing: `0:1000000000` tried to allocate 8 GB).
    public static let maximumCounts = 100_000

    /// Parses `text`.
    /// - Throws: `PruningError.invalidCounts` saying what is wrong.
    public static func parse(_ text: String) throws -> [Int] {
        func fail(_ why: String) -> PruningError {
            .invalidCounts(text, reason: why)
        }
        let trimmed = text.filter { !$0.isWhitespace }
        guard !trimmed.isEmpty else { throw fail("it is empty") }
        var counts: [Int] = []
        for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw fail("an item is empty") }
            let fields = item.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count <= 3 else { throw fail("'\(item)' has more than three fields") }
            let numbers = try fields.map { field -> Int in
                guard let n = Int(field) else { throw fail("'\(field)' is not a whole number") }
                guard n >= 0 else { throw fail("\(n) is negative") }
                return n
            }
            if numbers.count == 1 {
                counts.append(numbers[0])
                continue
            }
            let (start, stop, step) = (numbers[0], numbers[1], numbers.count == 3 ? numbers[2] : 1)
            guard step > 0 else { throw fail("the step must be positive") }
            guard start < stop else { throw fail("\(start):\(stop) is empty (STOP is excluded and must exceed START)") }
            // No layer has this many units; refusing here keeps a typo from allocating gigabytes.
            guard (stop - start - 1) / step + 1 <= maximumCounts - counts.count else { throw fail("it gives more than \(maximumCounts) counts") }
            counts.append(contentsOf: stride(from: start, to: stop, by: step))
        }
        for (a, b) in zip(counts, counts.dropFirst()) where b <= a {
            throw fail("the counts must increase, but \(b) follows \(a)")
        }
        return counts
    }

    /// Checks every count against `layer`'s size.
    /// - Throws: `PruningError.countOutOfRange` for the first count above the unit count.
    public static func validate(_ counts: [Int], for layer: PrunableLayer) throws {
        for k in counts { try layer.validate(count: k) }
    }

    /// The default sweep of `units` units: 16 evenly spaced counts from 0 (`0:32:2` for 32
    /// channels), or every count when there are fewer than 16 units.
    public static func defaultCounts(units: Int) -> [Int] {
        let step = max(1, units / 16)
        return Array(stride(from: 0, to: units, by: step))
    }

    /// The count for pruning `fraction` of `units`, rounded to the nearest whole unit (halves
    /// away from zero): 10 % of 16 channels is 2.
    public static func count(fraction: Double, of units: Int) -> Int {
        min(units, max(0, Int((fraction * Double(units)).rounded())))
    }

    /// The distinct unit counts of a sensitivity curve: `count(fraction:of:)` of each fraction,
    /// in order, a fraction dropped when its count does not exceed the one before (a small
    /// layer cannot tell 10 % from 20 %), with the fractions kept.
    public static func counts(fractions: [Double], of units: Int) -> (counts: [Int], fractions: [Double]) {
        var counts: [Int] = [], kept: [Double] = []
        for fraction in fractions {
            let k = count(fraction: fraction, of: units)
            if let last = counts.last, k <= last { continue }
            counts.append(k)
            kept.append(fraction)
        }
        return (counts, kept)
    }
}
