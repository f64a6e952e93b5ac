import CNNEngine
import CNNPruning
import Testing

@Suite struct PruningCountsTests {
    @Test func rangesAndLists() throws {
        #expect(try PruningCounts.parse("0:32:2") == Array(stride(from: 0, to: 32, by: 2)))
        #expect(try PruningCounts.parse("0:4") == [0, 1, 2, 3])
        #expect(try PruningCounts.parse("0,2,5") == [0, 2, 5])
        #expect(try PruningCounts.parse("8") == [8])
        #expect(try PruningCounts.parse(" 0:8:4, 16 ,24") == [0, 4, 16, 24])
        #expect(try PruningCounts.parse("3:4:10") == [3])
    }

    @Test(arguments: ["", "0:32:0", "5:2", "4:4", "a:3", "0:32:2:1", "3,2", "1,1", "-1:4", "0,,2", "2.5", "0:8:2,4"])
    func badCountsAreRejected(text: String) {
        #expect(throws: PruningError.self) { try PruningCounts.parse(text) }
    }

    @Test func messagesSayWhatIsWrong() {
        func message(_ text: String) -> String {
            do { _ = try PruningCounts.parse(text); return "" } catch { return "\(error)" }
        }
        #expect(message("0:32:0").contains("step must be positive"))
        #expect(message("5:2").contains("empty"))
        #expect(message("3,2").contains("must increase"))
        #expect(message("x").contains("'x' is not a whole number"))
        #expect(!message("x").contains("\n"))
    }

    @Test func countsAreCheckedAgainstTheLayer() throws {
        let conv2 = try PrunableLayer(named: "conv2", in: try SimpleCNN().architecture())
        try PruningCounts.validate([0, 16, 32], for: conv2)
        #expect(throws: PruningError.countOutOfRange(34, layer: "conv2", units: 32, unitName: "channel")) {
            try PruningCounts.validate(try PruningCounts.parse("0:40:2"), for: conv2)
        }
        #expect(PruningCounts.defaultCounts(units: 32) == Array(stride(from: 0, to: 32, by: 2)))
        #expect(PruningCounts.defaultCounts(units: 10) == Array(0..<10))
        #expect(PruningCounts.defaultCounts(units: 256) == Array(stride(from: 0, to: 256, by: 16)))
        #expect((0..<10).map { PruningCounts.count(fraction: Double($0) / 10, of: 16) } == [0, 2, 3, 5, 6, 8, 10, 11, 13, 14])
    }

    /// Sensitivity fractions of a 4-unit layer: 0, 10 % (0 again: dropped), 25 %, 50 %, 60 % (2 again: dropped), 75 %.
    @Test func sensitivityCountsDropRepeatedCounts() {
        let (counts, fractions) = PruningCounts.counts(fractions: [0, 0.1, 0.25, 0.5, 0.6, 0.75], of: 4)
        #expect(counts == [0, 1, 2, 3] && fractions == [0, 0.25, 0.5, 0.75])
    }

    @Test func calibrationSets() throws {
        #expect(try CalibrationSet(parsing: "train:5000") == .trainingSubset(5000))
        #expect(try CalibrationSet(parsing: "train") == .training)
        #expect(try CalibrationSet(parsing: "test") == .test)
        #expect(CalibrationSet.default.description == "train:5000")
        #expect(CalibrationSet.test.isEvaluationData && !CalibrationSet.default.isEvaluationData)
        #expect(CalibrationSet.test.label.contains("evaluation data"))
        for bad in ["train:0", "train:x", "train:", "val", "", "train:-3"] {
            #expect(throws: PruningError.invalidCalibration(bad)) { try CalibrationSet(parsing: bad) }
        }
    }
}
