import Foundation

/// Writes files so that readers see either the old file or the complete new one, never a
/// partial write: data goes to a temporary file in the same directory, then is renamed.
///
/// The path is checked first (`OutputPath`): a symbolic link's target is replaced and the link
/// stays; a folder, device, FIFO or socket is refused, never replaced. The temporary file has
/// an unpredictable name and is created exclusively without following links (`TemporaryFile`);
/// a failed or interrupted write (SIGINT, SIGTERM, SIGHUP) leaves nothing behind.
public enum AtomicFile {
    /// Writes `data` to `url` atomically, creating the parent directory if needed.
    /// - Throws: `AtomicFileError` naming the file and the system's reason.
    public static func write(_ data: Data, to url: URL) throws {
        let target = try OutputPath.resolve(url)
        let directory = target.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            let parentIsFile = FileManager.default.fileExists(atPath: directory.path)
            throw AtomicFileError(path: url.path, reason: parentIsFile ? "\(directory.path) is a file, not a folder"
                                                                      : "cannot create the folder \(directory.path) (\(AtomicFileError.reason(error)))")
        }
        let temporary = try TemporaryFile.create(beside: target)
        do {
            try temporary.write(data)
        } catch {
            temporary.discard()
            throw AtomicFileError(path: url.path, reason: (error as? AtomicFileError)?.reason ?? AtomicFileError.reason(error))
        }
        try temporary.commit(to: target)
    }

    /// Writes `text` as UTF-8 to `url` atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}

/// Why `AtomicFile` could not write a file: the path and the system's reason, as one line.
public struct AtomicFileError: Error, CustomStringConvertible, LocalizedError {
    /// The file that could not be written.
    public var path: String
    /// The system's reason, as one line.
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
    public var errorDescription: String? { description }

    /// The POSIX reason inside a Foundation error (e.g. "Not a directory"), else its description.
    static func reason(_ error: Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? Error,
           (underlying as NSError).domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32((underlying as NSError).code)))
        }
        return (error as NSError).localizedDescription
    }
}
