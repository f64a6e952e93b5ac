import Foundation

/// A training run's figures as one JSON document (`train --json`): every epoch, the final test
/// accuracy (rounded to 2 decimals) and the library that ran the matrix products.
public struct TrainingReport: Codable, Equatable {
    /// Each trained epoch's figures.
    public var epochs: [EpochRecord]
    /// Test accuracy (%) after the last epoch.
    public var testAccuracy: Double
    /// The library that ran the matrix products (`BLAS.backend`: onednn, openblas, accelerate).
    public var matrixProducts: String?

    /// The report of `epochs`: the last epoch's test accuracy rounded to 2 decimals (0 without
    /// epochs), and this process's `BLAS.backend`.
    /// - Parameter epochs: the epochs trained.
    public init(epochs: [EpochRecord]) {
        self.epochs = epochs
        testAccuracy = rounded(epochs.last?.testAccuracy ?? 0)
        matrixProducts = BLAS.backend.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case epochs
        case testAccuracy = "test_accuracy"
        case matrixProducts = "matrix_products"
    }
}
