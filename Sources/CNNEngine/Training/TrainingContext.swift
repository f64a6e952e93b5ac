import Foundation

/// What determines a training run besides its recipe — the data set (as a description the
/// caller builds, e.g. its name, image shape, classes and normalisation) and the training subset —
/// recorded in ``TrainingRun/context`` so that a resumed run can be refused on other data.
public struct TrainingContext: Equatable, Sendable {
    /// The key of the data set's description in a run's context.
    public static let datasetKey = "dataset"
    /// The key of the training subset's size in a run's context (absent: the whole training set).
    public static let subsetKey = "subset"

    /// The data set's description (nil: not recorded).
    public var dataset: String?
    /// The training images used: the first `subset` (nil: all of them).
    public var subset: Int?

    /// A context.
    /// - Parameters:
    ///   - dataset: the data set's description.
    ///   - subset: the size of the training subset (nil: the whole training set).
    public init(dataset: String?, subset: Int?) {
        self.dataset = dataset
        self.subset = subset
    }

    /// The context a run recorded (``TrainingRun/context``); an unreadable subset counts as none.
    /// - Parameter values: the recorded keys and values.
    public init(recorded values: [String: String]) {
        self.init(dataset: values[TrainingContext.datasetKey], subset: values[TrainingContext.subsetKey].flatMap { Int($0) })
    }

    /// The keys and values stored in a run's checkpoint.
    public var values: [String: String] {
        var values: [String: String] = [:]
        if let dataset { values[TrainingContext.datasetKey] = dataset }
        if let subset { values[TrainingContext.subsetKey] = String(subset) }
        return values
    }
}
