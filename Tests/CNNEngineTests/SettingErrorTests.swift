import CNNEngine
import Testing

/// `SettingError` and the recipe's value checks: each bound refuses the value just outside it
/// and accepts the one just inside, and the message names the setting in the library's words
/// or in the caller's (`description(naming:)`).
@Suite struct SettingErrorTests {
    /// The error `body` throws (nil when it throws none).
    func error(_ body: () throws -> Void) -> SettingError? {
        do { try body() } catch let error as SettingError { return error } catch { Issue.record("unexpected \(error)") }
        return nil
    }

    @Test func integerSettingsRefuseJustOutsideTheirRangeAndAcceptItsEnds() throws {
        for setting in SettingError.Setting.allCases {
            guard let range = setting.allowed else { continue }
            try SettingError.check(range.lowerBound, setting)
            try SettingError.check(range.upperBound, setting)
            #expect(error { try SettingError.check(range.lowerBound - 1, setting) }?.requirement == .atLeast(range.lowerBound))
            if range.upperBound < Int.max {
                #expect(error { try SettingError.check(range.upperBound + 1, setting) }?.requirement == .atMost(range.upperBound))
            }
        }
        #expect(SettingError.Setting.epochs.allowed == 1...TrainingLimits.maximumEpochs)
        #expect(SettingError.Setting.fineTuningEpochs.allowed == 0...TrainingLimits.maximumEpochs)
        #expect(SettingError.Setting.batchSize.allowed == 1...TrainingLimits.maximumBatchSize)
    }

    @Test func messagesInTheLibrarysWordsAndInTheCallers() {
        let rate = error { try SettingError.checkPositiveFinite(-1, .learningRate) }
        #expect(rate?.description == "learning rate must be a positive finite number, got -1.0")
        #expect(rate?.description(naming: { $0 == .learningRate ? "--lr" : "?" }) == "--lr must be a positive finite number, got -1.0")
        #expect(error { try SettingError.check(0, .batchSize, positive: true) }?.description == "batch size must be positive, got 0")
        #expect(error { try SettingError.check(-1, .fineTuningEpochs) }?.description == "fine-tuning epochs must be 0 or more, got -1")
        #expect(error { try SettingError.checkFraction(1, .globalRatio) }?.description == "global ratio must be strictly between 0 and 1, got 1.0")
        #expect(error { try SettingError.checkPruningSteps(101, count: nil, capped: true) }?.description == "pruning steps must be 1…100, got 101")
        #expect(error { try SettingError.checkPruningSteps(4, count: 3, capped: false) }?.description
                == "pruning steps must be 1…3 (each step removes at least one unit), got 4")
        #expect(error { try SettingError.checkPruningSteps(0, count: 0, capped: false) }?.description
                == "pruning steps must be 1…0 (each step removes at least one unit), got 0")
        #expect(error { try SettingError.checkPruningSteps(3, count: 3, capped: true) } == nil)
        #expect(error { try SettingError.checkPruningSteps(100, count: nil, capped: true) } == nil)
    }

    @Test func fractionsAndRatesAtTheirEdges() {
        for value in [0.0, 1.0, -0.5, .nan, .infinity] { #expect(error { try SettingError.checkFraction(value, .uniformRatio) } != nil) }
        for value in [0.001, 0.5, 0.999] { #expect(error { try SettingError.checkFraction(value, .uniformRatio) } == nil) }
        for value: Float in [0, -1, .nan, .infinity] { #expect(error { try SettingError.checkPositiveFinite(value, .gamma) } != nil) }
        #expect(error { try SettingError.checkPositiveFinite(.leastNonzeroMagnitude, .gamma) } == nil)
    }

    @Test func theRecipesChecksNameTheFirstBadSetting() {
        #expect(error { try TrainingRecipe().checkOptimizerAndSchedule() } == nil)
        #expect(error { try TrainingRecipe().checkLengthBatchAndRate() } == nil)
        let sgd = TrainingRecipe(optimizer: OptimizerSettings(kind: .sgd, momentum: 1))
        #expect(error { try sgd.checkOptimizerAndSchedule() } == SettingError(.momentum, value: Float(1), requirement: .zeroToBelowOne))
        let decay = TrainingRecipe(optimizer: OptimizerSettings(kind: .adamw, weightDecay: -0.5), gamma: 0)
        #expect(error { try decay.checkOptimizerAndSchedule() }?.setting == .weightDecay)
        #expect(error { try TrainingRecipe(gamma: .nan).checkOptimizerAndSchedule() }?.setting == .gamma)
        #expect(error { try TrainingRecipe(warmupEpochs: -1).checkOptimizerAndSchedule() }?.setting == .warmupEpochs)
        // The warm-up must be shorter than the run, named as what the epochs count.
        let warm = TrainingRecipe(epochs: 2, warmupEpochs: 2)
        #expect(error { try warm.checkLengthBatchAndRate(epochsSetting: .fineTuningEpochs) }?.description
                == "warm-up epochs (2) must be below fine-tuning epochs (2)")
        #expect(error { try TrainingRecipe(epochs: 0).checkLengthBatchAndRate(epochsSetting: .fineTuningEpochs) } == nil)
        #expect(error { try TrainingRecipe(epochs: 0).checkLengthBatchAndRate() }?.description == "epochs must be at least 1, got 0")
        #expect(error { try TrainingRecipe(batchSize: 65_537).checkLengthBatchAndRate() }?.description == "batch size must be at most 65536, got 65537")
        #expect(error { try TrainingRecipe(learningRate: .infinity).checkLengthBatchAndRate() }?.setting == .learningRate)
        // A recipe these checks accept also passes the run's own validation.
        #expect(throws: Never.self) { try TrainingRecipe(epochs: 3, warmupEpochs: 2).validate() }
    }
}
