import CNNStatistics
import Testing

/// Means with intervals, paired and Welch t tests and TOST against SciPy and statsmodels
/// (`ReferenceValues.swift`), and small cases computed by hand.
@Suite struct EstimateTests {
    @Test func meansAndIntervalsMatchSciPy() throws {
        for case let (values, mean, sd, lower, upper) in Reference.means {
            let estimate = MeanEstimate(values)
            #expect(relativeError(estimate.mean, mean) < 1e-14)
            #expect(relativeError(try #require(estimate.standardDeviation), sd) < 1e-12)
            let interval = try #require(estimate.interval)
            #expect(relativeError(interval.lower, lower) < 1e-12, "\(values): \(interval.lower) vs \(lower)")
            #expect(relativeError(interval.upper, upper) < 1e-12, "\(values): \(interval.upper) vs \(upper)")
            #expect(interval.level == 0.95)
        }
    }

    @Test func meanByHand() throws {
        // 1, 2, 3, 4: mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, se = √(5/12);
        // t_{0.975, 3} = 3.18245 (tables: 3.182), so the interval is 2.5 ± 2.0541
        let estimate = MeanEstimate([1, 2, 3, 4])
        #expect(estimate.mean == 2.5)
        #expect(abs(try #require(estimate.summary.variance) - 5.0 / 3) < 1e-15)
        let interval = try #require(estimate.interval)
        #expect(abs(interval.halfWidth - 3.18245 * (5.0 / 12).squareRoot()) < 1e-5)
        #expect(abs(interval.lower + interval.upper - 5) < 1e-14)
    }

    @Test func oneValueHasNoInterval() {
        let estimate = MeanEstimate([68.37])
        #expect(estimate.mean == 68.37)
        #expect(estimate.standardDeviation == nil)
        #expect(estimate.interval == nil)
        #expect(PairedComparison([1], [2]).interval == nil)
        #expect(PairedComparison([1], [2]).test == nil)
        #expect(WelchTest([1, 2, 3], [4]) == nil)
        #expect(EquivalenceTest([1], [1, 2], margin: 1) == nil)
        #expect(Bootstrap.percentileInterval([3]) == nil)
    }

    @Test func zeroVarianceIsDefined() throws {
        let constant = MeanEstimate([68, 68, 68])
        #expect(constant.standardDeviation == 0)
        #expect(try #require(constant.interval) == ConfidenceInterval(lower: 68, upper: 68, level: 0.95))
        // Equal differences: certain difference; all differences 0: no difference.
        let shifted = PairedComparison([2, 3, 4], [1, 2, 3])
        #expect(shifted.meanDifference == 1)
        #expect(try #require(shifted.test).pValue == 0)
        #expect(try #require(shifted.test).t == .infinity)
        let same = PairedComparison([2, 3, 4], [2, 3, 4])
        #expect(try #require(same.test).pValue == 1)
        let welch = try #require(WelchTest([5, 5], [5, 5, 5]))
        #expect(welch.pValue == 1 && welch.degreesOfFreedom == 3)
        let tost = try #require(EquivalenceTest([5, 5], [5.1, 5.1], margin: 0.5))
        #expect(tost.isEquivalent && tost.pValue == 0)
        let far = try #require(EquivalenceTest([5, 5], [6, 6], margin: 0.5))
        #expect(!far.isEquivalent && far.pValue == 1)
    }

    @Test func pairedMatchesSciPy() throws {
        let paired = PairedComparison(Reference.a, Reference.b)
        let test = try #require(paired.test), interval = try #require(paired.interval)
        let expected = Reference.pairedAB
        #expect(relativeError(test.t, expected.t) < 1e-11)
        #expect(test.degreesOfFreedom == expected.df)
        #expect(relativeError(test.pValue, expected.p) < 1e-10)
        #expect(relativeError(interval.lower, expected.lower) < 1e-11)
        #expect(relativeError(interval.upper, expected.upper) < 1e-10)
    }

    @Test func welchMatchesSciPy() throws {
        for case let (first, second, t, df, p, lower, upper) in Reference.welch {
            let welch = try #require(WelchTest(first, second))
            #expect(relativeError(welch.test.t, t) < 1e-12)
            #expect(relativeError(welch.degreesOfFreedom, df) < 1e-12)
            #expect(relativeError(welch.pValue, p) < 1e-10, "p \(welch.pValue) vs SciPy \(p)")
            #expect(relativeError(welch.interval.lower, lower) < 1e-11)
            #expect(relativeError(welch.interval.upper, upper) < 1e-10)
        }
    }

    @Test func welchByHand() throws {
        // a = (1, 2, 3): var 1; b = (2, 4, 6, 8): var 20/3. se² = 1/3 + 5/3 = 2, t = (2 − 5)/√2;
        // df = 2² / ((1/3)²/2 + (5/3)²/3) = 4 / (1/18 + 25/27) = 216/53.
        let welch = try #require(WelchTest([1, 2, 3], [2, 4, 6, 8]))
        #expect(abs(welch.test.t - (-3 / 2.0.squareRoot())) < 1e-14)
        #expect(abs(welch.degreesOfFreedom - 216.0 / 53) < 1e-13)
        #expect(abs(welch.standardError - 2.0.squareRoot()) < 1e-15)
    }

    @Test func equivalenceMatchesStatsmodels() throws {
        for case let (first, second, margin, p, lowerP, upperP) in Reference.tost {
            let tost = try #require(EquivalenceTest(first, second, margin: margin))
            #expect(relativeError(tost.pValue, p) < 1e-10, "TOST p \(tost.pValue) vs \(p)")
            #expect(relativeError(tost.lowerPValue, lowerP) < 1e-10)
            #expect(relativeError(tost.upperPValue, upperP) < 1e-10)
            #expect(tost.isEquivalent == (p < 0.05))
            // The decision agrees with the 90 % interval lying inside the margins.
            let inside = tost.interval.lower > -margin && tost.interval.upper < margin
            #expect(inside == tost.isEquivalent)
            #expect(abs(tost.interval.level - 0.9) < 1e-15)
        }
    }
}
