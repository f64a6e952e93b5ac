import Foundation

/// An exclusive claim on an output folder for the length of a run, so that two runs writing
/// the same folder at once cannot leave one's `sweep.json` beside the other's `sweep.csv`.
///
/// The claim is an advisory lock (`flock`) on the folder itself: nothing is added to the
/// folder, and the kernel releases the lock when the process ends, however it ends, so a killed
/// run never leaves the folder locked. A folder the lock created and nothing was written to is
/// removed again: a run that fails before writing leaves no empty folder behind.
public final class OutputDirectoryLock {
    /// The locked folder.
    public let directory: URL
    private let descriptor: Int32
    /// Whether the folder did not exist before the lock.
    private let createdDirectory: Bool

    /// Creates `directory` if needed and locks it, or fails at once if another run holds it.
    /// - Throws: `AtomicFileError` naming the folder: held by another run, not a folder, or
    ///   not creatable.
    public init(_ directory: URL) throws {
        var info = stat()
        if stat(directory.path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
            throw AtomicFileError(path: directory.path, reason: "it is \(OutputPath.describe(info.st_mode)), not a folder")
        }
        let existed = FileManager.default.fileExists(atPath: directory.path)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw AtomicFileError(path: directory.path, reason: "cannot create the folder (\(AtomicFileError.reason(error)))")
        }
        let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw AtomicFileError(path: directory.path, reason: "cannot open the folder (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw AtomicFileError(path: directory.path, reason: busy
                ? "another cnnprune run is writing this folder; wait for it or choose another output"
                : "cannot lock it (\(reason))")
        }
        self.directory = directory
        self.descriptor = descriptor
        createdDirectory = !existed
    }

    deinit {
        if createdDirectory, (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.isEmpty == true {
            rmdir(directory.path)
        }
        close(descriptor)
    }
}
