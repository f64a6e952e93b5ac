import CNNStatistics
import Foundation
import Testing

/// The incomplete beta function and Student's t against SciPy (`ReferenceValues.swift`), and
/// a few values known in closed form.
@Suite struct DistributionTests {
    @Test func incompleteBetaMatchesSciPy() {
        for case let (x, a, b, value) in Reference.incompleteBeta {
            let got = IncompleteBeta.regularized(x: x, a: a, b: b)
            #expect(relativeError(got, value) < 1e-12, "I_\(x)(\(a), \(b)) = \(got), SciPy \(value)")
        }
    }

    @Test func incompleteBetaClosedForms() {
        // I_x(1, 1) = x; I_x(a, 1) = xᵃ; I_x(1/2, 1/2) = (2/π)·asin(√x); domain edges and outside.
        #expect(abs(IncompleteBeta.regularized(x: 0.37, a: 1, b: 1) - 0.37) < 1e-15)
        #expect(relativeError(IncompleteBeta.regularized(x: 0.6, a: 3, b: 1), 0.216) < 1e-14)
        #expect(relativeError(IncompleteBeta.regularized(x: 0.25, a: 0.5, b: 0.5), 2 / Double.pi * asin(0.5)) < 1e-13)
        #expect(IncompleteBeta.regularized(x: 0, a: 2, b: 3) == 0)
        #expect(IncompleteBeta.regularized(x: 1, a: 2, b: 3) == 1)
        #expect(IncompleteBeta.regularized(x: 1.5, a: 2, b: 3).isNaN)
        #expect(IncompleteBeta.regularized(x: 0.5, a: -1, b: 3).isNaN)
    }

    @Test func studentCDFAndSurvivalMatchSciPy() {
        for case let (t, df, cdf, sf) in Reference.tCDF {
            let gotCDF = StudentT.cdf(t, degreesOfFreedom: df), gotSF = StudentT.survival(t, degreesOfFreedom: df)
            #expect(relativeError(gotCDF, cdf) < 1e-10, "cdf(\(t), ν=\(df)) = \(gotCDF), SciPy \(cdf)")
            #expect(relativeError(gotSF, sf) < 1e-10, "sf(\(t), ν=\(df)) = \(gotSF), SciPy \(sf)")
        }
    }

    @Test func studentQuantileMatchesSciPy() {
        for case let (p, df, quantile) in Reference.tQuantile {
            let got = StudentT.quantile(p, degreesOfFreedom: df)
            #expect(relativeError(got, quantile) < 1e-10, "ppf(\(p), ν=\(df)) = \(got), SciPy \(quantile)")
            // And the round trip through the CDF.
            #expect(relativeError(StudentT.cdf(got, degreesOfFreedom: df), p) < 1e-10)
        }
    }

    @Test func studentClosedForms() {
        // ν = 1 is Cauchy: F(t) = 1/2 + atan(t)/π, quantile tan(π(p − 1/2)).
        for t in [-3.0, -0.5, 0.25, 2, 10] {
            #expect(abs(StudentT.cdf(t, degreesOfFreedom: 1) - (0.5 + atan(t) / Double.pi)) < 1e-14)
        }
        #expect(relativeError(StudentT.quantile(0.9, degreesOfFreedom: 1), tan(Double.pi * 0.4)) < 1e-12)
        // ν = 2: F(t) = 1/2 + t / (2√(2 + t²)), so the p-quantile is u·√(2/(1 − u²)), u = 2p − 1
        // (97.5 %: 4.3027, as in the tables).
        for t in [-4.0, -1, 0.5, 3] {
            #expect(abs(StudentT.cdf(t, degreesOfFreedom: 2) - (0.5 + t / (2 * (2 + t * t).squareRoot()))) < 1e-14)
        }
        let u = 0.95
        #expect(relativeError(StudentT.quantile(0.975, degreesOfFreedom: 2), u * (2 / (1 - u * u)).squareRoot()) < 1e-13)
        #expect(StudentT.cdf(0, degreesOfFreedom: 5) == 0.5)
        #expect(StudentT.quantile(0.5, degreesOfFreedom: 5) == 0)
        #expect(StudentT.quantile(0, degreesOfFreedom: 5) == -.infinity)
        #expect(StudentT.quantile(1, degreesOfFreedom: 5) == .infinity)
        #expect(StudentT.cdf(.infinity, degreesOfFreedom: 3) == 1)
        #expect(StudentT.twoSidedPValue(0, degreesOfFreedom: 3) == 1)
        #expect(StudentT.cdf(1, degreesOfFreedom: 0).isNaN)
    }
}

/// |got − expected| / |expected| (absolute below 1e-300).
func relativeError(_ got: Double, _ expected: Double) -> Double {
    if got == expected { return 0 }
    return abs(got - expected) / max(abs(expected), 1e-300)
}
