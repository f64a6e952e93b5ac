import Foundation

/// A temporary file beside the file it will replace, created safely in folders others can write.
///
/// Its name, `.NAME.cnnprune-HOST-PID-RANDOM.tmp`, is unpredictable (96 random bits), and it is
/// created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`): a file or link planted under that
/// name makes the creation fail instead of redirecting the write. While it exists it is listed
/// for `TemporaryFiles`' signal handlers, so an interrupted run (SIGINT, SIGTERM, SIGHUP)
/// removes it. Files that a killed run left (SIGKILL, a crash) are removed by the next write to
/// the same file from the same host, once their process is gone.
struct TemporaryFile {
    /// The temporary file's path.
    let url: URL
    /// The open descriptor, write-only.
    let descriptor: Int32

    /// The marker in every temporary file's name, after the name of the file it replaces.
    static let marker = "cnnprune-"

    /// Creates a temporary file in `target`'s folder, after removing stale ones of dead processes.
    /// - Throws: `AtomicFileError` naming `target`.
    static func create(beside target: URL) throws -> TemporaryFile {
        removeStale(beside: target)
        TemporaryFiles.installSignalHandlers()
        let folder = target.deletingLastPathComponent()
        for _ in 0..<8 {
            let url = folder.appendingPathComponent(".\(target.lastPathComponent).\(marker)\(host)-\(getpid())-\(randomSuffix()).tmp")
            let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            if descriptor >= 0 {
                TemporaryFiles.register(url.path)
                return TemporaryFile(url: url, descriptor: descriptor)
            }
            guard errno == EEXIST else {
                throw AtomicFileError(path: target.path, reason: String(cString: strerror(errno)))
            }
        }
        throw AtomicFileError(path: target.path, reason: "could not create a temporary file beside it")
    }

    /// Writes all of `data`, then flushes it to the disk.
    func write(_ data: Data) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError(path: url.path, reason: String(cString: strerror(errno)))
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 || errno == EINVAL else {
            throw AtomicFileError(path: url.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Renames the file over `target` (closing it first).
    func commit(to target: URL) throws {
        close(descriptor)
        defer { TemporaryFiles.unregister(url.path) }
        guard rename(url.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(url.path)
            throw AtomicFileError(path: target.path, reason: reason)
        }
    }

    /// Closes and removes the file (after a failure).
    func discard() {
        close(descriptor)
        unlink(url.path)
        TemporaryFiles.unregister(url.path)
    }

    /// This host's name up to its first dot, in the characters a file name keeps plainly.
    static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "host" }
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        let name = String(decoding: bytes, as: UTF8.self).split(separator: ".").first.map(String.init) ?? "host"
        let kept = name.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }
        return kept.isEmpty ? "host" : String(String.UnicodeScalarView(kept.prefix(32)))
    }()

    private static func randomSuffix() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// Removes `.NAME.cnnprune-HOST-PID-….tmp` files beside `target` written on this host by a
    /// process that no longer exists. Files of live processes and of other hosts stay.
    static func removeStale(beside target: URL) {
        let folder = target.deletingLastPathComponent()
        let prefix = ".\(target.lastPathComponent).\(marker)\(host)-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            let rest = name.dropFirst(prefix.count)
            guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                let path = folder.appendingPathComponent(name).path
                var info = stat()
                // Only plain files: never follow or remove what a link planted under the name points to.
                if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG { unlink(path) }
            }
        }
    }
}

/// The temporary files this process is writing, removed by a signal handler when SIGINT,
/// SIGTERM or SIGHUP ends the run; the signal then takes its default action (the exit status
/// stays 128 + the signal's number).
///
/// The handler touches only preallocated memory and calls only `unlink`, `signal` and `raise`,
/// which are async-signal-safe.
public enum TemporaryFiles {
    /// Slots for paths being written at once.
    static let slotCount = 64
    /// Bytes per slot (a path longer than this is not listed, and then not removed on a signal).
    static let slotBytes = Int(PATH_MAX) + 1

    /// The slots' paths, NUL-terminated; a slot is in use while its flag is 1.
    nonisolated(unsafe) private static let paths = UnsafeMutablePointer<CChar>.allocate(capacity: slotCount * slotBytes)
    nonisolated(unsafe) private static let used: UnsafeMutablePointer<Int32> = {
        let flags = UnsafeMutablePointer<Int32>.allocate(capacity: slotCount)
        flags.initialize(repeating: 0, count: slotCount)
        return flags
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed = false

    /// Installs the handlers (once; later calls do nothing). `AtomicFile` calls this before its
    /// first temporary file; a program may call it earlier.
    public static func installSignalHandlers() {
        lock.lock(); defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        _ = paths; _ = used   // initialise the globals outside the handler
        for number in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                for slot in 0..<TemporaryFiles.slotCount where TemporaryFiles.used[slot] == 1 {
                    unlink(TemporaryFiles.paths + slot * TemporaryFiles.slotBytes)
                }
                signal(signalNumber, SIG_DFL)
                raise(signalNumber)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            var previous = sigaction()
            // A signal the process was started ignoring (nohup) stays ignored.
            if sigaction(number, nil, &previous) == 0, let handler = previous.__sigaction_handler.sa_handler,
               unsafeBitCast(handler, to: Int.self) == 1 /* SIG_IGN */ { continue }
            sigaction(number, &action, nil)
        }
    }

    /// Lists `path` for removal on a signal.
    static func register(_ path: String) {
        let bytes = Array(path.utf8CString)
        guard bytes.count <= slotBytes else { return }
        lock.lock(); defer { lock.unlock() }
        for slot in 0..<slotCount where used[slot] == 0 {
            bytes.withUnsafeBufferPointer { (paths + slot * slotBytes).update(from: $0.baseAddress!, count: $0.count) }
            used[slot] = 1
            return
        }
    }

    /// Takes `path` off the list (it was renamed into place or removed).
    static func unregister(_ path: String) {
        let bytes = Array(path.utf8CString)
        lock.lock(); defer { lock.unlock() }
        for slot in 0..<slotCount where used[slot] == 1 {
            if strcmp(paths + slot * slotBytes, bytes) == 0 {
                used[slot] = 0
                return
            }
        }
    }

    /// The paths listed now (for tests).
    static var listed: [String] {
        lock.lock(); defer { lock.unlock() }
        return (0..<slotCount).filter { used[$0] == 1 }.map { String(cString: paths + $0 * slotBytes) }
    }
}
