import Foundation

/// An exclusive claim on an output folder for the length of a run, so that two runs writing
/// the same folder at once cannot leave one's `sweep.json` beside the other's `sweep.csv`.
///
/// The claim is an advisory lock (`flock`) on the file `.cnnprune.lock` in the folder, which
/// holds the owner's host and process id. The kernel releases it when the process ends,
/// however it ends, so a killed run never leaves the folder locked. The lock file stays.
public final class OutputDirectoryLock {
    /// The lock file's name inside the folder.
    public static let fileName = ".cnnprune.lock"

    /// The locked folder.
    public let directory: URL
    private let descriptor: Int32
    /// Whether the folder did not exist before the lock.
    private let createdDirectory: Bool

    /// Creates `directory` if needed and locks it, or fails at once if another run holds it.
    /// - Throws: `AtomicFileError` naming the folder: held by another run (with its host and
    ///   process id), or not a folder, or not writable.
    public init(_ directory: URL) throws {
        var info = stat()
        if lstat(directory.path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR, info.st_mode & S_IFMT != S_IFLNK {
            throw AtomicFileError(path: directory.path, reason: "it is \(OutputPath.describe(info.st_mode)), not a folder")
        }
        let existed = FileManager.default.fileExists(atPath: directory.path)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw AtomicFileError(path: directory.path, reason: "cannot create the folder (\(AtomicFileError.reason(error)))")
        }
        let path = directory.appendingPathComponent(OutputDirectoryLock.fileName).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw AtomicFileError(path: directory.path, reason: "cannot open its lock file \(path) (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let owner = OutputDirectoryLock.owner(descriptor)
            close(descriptor)
            throw AtomicFileError(path: directory.path, reason: busy
                ? "another cnnprune run\(owner.map { " (\($0))" } ?? "") is writing this folder; wait for it or choose another output"
                : "cannot lock it (\(String(cString: strerror(errno))))")
        }
        let text = "host \(TemporaryFile.host), pid \(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.directory = directory
        self.descriptor = descriptor
        createdDirectory = !existed
    }

    deinit {
        if createdDirectory, (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) == [OutputDirectoryLock.fileName] {
            unlink(directory.appendingPathComponent(OutputDirectoryLock.fileName).path)
            rmdir(directory.path)
        }
        close(descriptor)
    }

    private static func owner(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
