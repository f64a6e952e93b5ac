import Foundation

extension LearningRateSchedule {
    /// The step schedule's milestones written as comma-separated epochs (`"100,150"`): each a
    /// positive epoch number of at most `TrainingLimits.maximumEpochs`, strictly ascending.
    /// - Parameter list: the comma-separated epochs.
    /// - Returns: the epochs.
    /// - Throws: ``MilestonesError`` saying what is wrong.
    public static func milestones(parsing list: String) throws -> [Int] {
        let parts = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var result: [Int] = []
        for part in parts {
            guard let epoch = Int(part), epoch > 0, epoch <= TrainingLimits.maximumEpochs else { throw MilestonesError.notAnEpoch(list) }
            guard result.last.map({ epoch > $0 }) ?? true else { throw MilestonesError.notAscending(list) }
            result.append(epoch)
        }
        return result
    }
}

/// Why a list of step-schedule milestones cannot be read.
public enum MilestonesError: Error, Equatable, CustomStringConvertible {
    /// An entry of the list is not an epoch number from 1 to `TrainingLimits.maximumEpochs`.
    case notAnEpoch(String)
    /// The epochs are not strictly ascending.
    case notAscending(String)

    /// One line naming the list and what is wrong with it.
    public var description: String {
        switch self {
        case .notAnEpoch(let list): return "milestones must be positive epoch numbers (at most \(TrainingLimits.maximumEpochs)) separated by commas, got '\(list)'"
        case .notAscending(let list): return "milestones must be strictly ascending, got '\(list)'"
        }
    }
}
