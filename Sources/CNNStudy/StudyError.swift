import CNNEngine
import CNNPruning

/// Why a study stopped. Each case keeps the underlying error, so that a program can react to
/// it and the command line can turn it into its one-line message (``description``).
public enum StudyError: Error, CustomStringConvertible {
    /// A pruning step failed: an unknown or unprunable layer, a K out of range, …
    case pruning(PruningError)
    /// Removing channels for real failed.
    case removal(RemovalError)
    /// Fine-tuning produced a non-finite loss (usually: the learning rate is too high).
    case fineTuningDiverged(NonFiniteLossError)
    /// A report file could not be written; the message names the path and the system's reason.
    case fileNotWritten(String)
    /// ``ExperimentStudy/run(models:train:test:progress:)`` was given no model.
    case noModels
    /// Model `model` has other layer widths than model 0, `first`: a multi-model study compares
    /// models of one architecture.
    case differentWidths(model: String, first: String)
    /// A calibration set needs the training images, and none were given.
    case noTrainingImages
    /// A pruning target the network cannot reach (the error says which limit stops it).
    case target(PruningTargetError)
    /// The network has no channel group that can be pruned; `residualExcluded` says whether
    /// groups coupled through residual sums were left out (and might be allowed).
    case noPrunableGroup(residualExcluded: Bool)
    /// The channel group asked for cannot be pruned (`ChannelGroup.whyNotPrunable(allowResidual:)`
    /// says why); `allowResidual` is whether groups coupled through residual sums were allowed.
    case notPrunable(ChannelGroup, allowResidual: Bool)
    /// Model `model` gives other curves (or the same curves at other x values) than model 0,
    /// `first`: a several-model summary lines up models of one architecture.
    case differentCurves(model: String, curves: [String], first: String, firstCurves: [String])

    /// One line saying what went wrong.
    public var description: String {
        switch self {
        case .pruning(let error): return error.description
        case .removal(let error): return error.description
        case .fineTuningDiverged(let error): return "fine-tuning diverged: \(error.description)"
        case .fileNotWritten(let message): return message
        case .noModels: return "the study needs at least one model"
        case .differentWidths(let model, let first): return "\(model) has other layer widths than \(first); the models must be of one architecture"
        case .noTrainingImages: return "the calibration set needs the training images, and none were given"
        case .target(let error): return error.description
        case .noPrunableGroup(let residualExcluded):
            return "the network has no prunable channel group" + (residualExcluded ? " (groups coupled through residual sums were left out)" : "")
        case .notPrunable(let group, let allowResidual):
            return PruningError.notPrunable(group.name, reason: group.whyNotPrunable(allowResidual: allowResidual) ?? "").description
        case .differentCurves(let model, let curves, let first, let firstCurves):
            return "\(model) gives other curves than \(first) (\(curves.joined(separator: ", ")) against \(firstCurves.joined(separator: ", "))); several models must be of one architecture"
        }
    }
}

/// Runs `body`, wrapping pruning and removal errors as ``StudyError``s.
func studyStep<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PruningError {
        throw StudyError.pruning(error)
    } catch let error as RemovalError {
        throw StudyError.removal(error)
    }
}
