import Foundation

/// Where a data set's files are looked for: a folder the caller names, else the data set's
/// environment variable (`$CIFAR10_DIR` for CIFAR-10), else its default path
/// (`./data/cifar-10-batches-bin`).
public enum DataDirectory {
    /// The environment variable naming the CIFAR-10 folder when no folder is given.
    public static let environmentVariable = "CIFAR10_DIR"
    /// The CIFAR-10 folder used when neither a folder nor the environment variable is given, relative to the working directory.
    public static let defaultPath = "data/cifar-10-batches-bin"

    /// Where a data folder came from.
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        /// The caller named it.
        case given
        /// The environment variable of that name held it.
        case environment(String)
        /// Neither: the data set's default path.
        case defaultLocation

        /// Where the folder came from, for messages: `the given folder`, `$CIFAR10_DIR`,
        /// `the default location`.
        public var description: String {
            switch self {
            case .given: return "the given folder"
            case .environment(let variable): return "$\(variable)"
            case .defaultLocation: return "the default location"
            }
        }
    }

    /// The folder of `dataset`'s files: `directory` when given (and not empty), else the data
    /// set's environment variable (``DatasetKind/environmentVariable``), else its default path
    /// (``DatasetKind/defaultPath``, `.` for none); and where it came from.
    /// - Parameters:
    ///   - directory: The folder the caller names, if any.
    ///   - dataset: The data set.
    public static func locate(_ directory: String?, dataset: DatasetKind) -> (url: URL, origin: Origin) {
        if let directory, !directory.isEmpty { return (URL(fileURLWithPath: directory), .given) }
        if let variable = dataset.environmentVariable, let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty {
            return (URL(fileURLWithPath: value), .environment(variable))
        }
        return (URL(fileURLWithPath: dataset.defaultPath ?? "."), .defaultLocation)
    }
}
