import Foundation

/// Why a file cannot be read: what the path actually is instead (missing, a dangling link, a
/// link loop, a folder or device, unreadable).
public struct InputPathError: Error, CustomStringConvertible, Equatable {
    /// The path as given.
    public var path: String
    /// What is wrong, as one line.
    public var reason: String
    /// `PATH: reason`.
    public var description: String { "\(path): \(reason)" }

    /// The error for `path`, which is not readable because of `reason`.
    /// - Parameters:
    ///   - path: the path as given.
    ///   - reason: what is wrong, as one line.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// Checks, before a file is read, that its path names a regular file that can be read
/// (following links), so that the error says what is actually wrong instead of a reader's
/// generic failure — the counterpart of ``OutputPath`` for inputs.
public enum InputPath {
    /// Checks that `path` names a readable regular file.
    /// - Parameters:
    ///   - path: the file to read.
    ///   - what: what the file should be, for the message (e.g. "model file").
    /// - Throws: ``InputPathError`` saying what the path is instead.
    public static func check(_ path: String, what: String) throws {
        func refuse(_ reason: String) -> InputPathError { InputPathError(path: path, reason: reason) }
        var info = stat()
        guard stat(path, &info) == 0 else {
            switch errno {
            case ENOENT:
                var link = stat()
                throw refuse(lstat(path, &link) == 0 ? "a symbolic link to a missing file, not a \(what)" : "no such \(what)")
            case ELOOP: throw refuse("too many levels of symbolic links (a link loop?)")
            case EACCES: throw refuse("permission denied (a folder on the way cannot be searched)")
            default: throw refuse(String(cString: strerror(errno)))
            }
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw refuse("is \(OutputPath.describe(info.st_mode)), not a \(what)") }
        guard access(path, R_OK) == 0 else { throw refuse("permission denied: the \(what) cannot be read") }
    }
}
