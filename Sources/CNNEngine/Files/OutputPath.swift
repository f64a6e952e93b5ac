import Foundation

/// Where a file that cnnprune writes actually lands, decided before anything is written.
///
/// An existing regular file is replaced. A symbolic link is followed (up to 40 links, relative
/// targets against the link's folder) and its *target* is replaced, so the link stays a link. A
/// path that exists and is not a regular file — a folder, a device such as `/dev/null`, a FIFO,
/// a socket — is refused: replacing it by a regular file would destroy it.
public enum OutputPath {
    /// The most symbolic links followed, as the kernel's own limit (`ELOOP`).
    public static let maximumLinks = 40

    /// The path to write for `url`: the path itself, or the final target of the links it names.
    /// - Throws: `AtomicFileError` naming `url` when it is not a regular file or a link to one
    ///   (or to nothing yet), or when its links loop.
    public static func resolve(_ url: URL) throws -> URL {
        var path = url.path
        for _ in 0...maximumLinks {
            var info = stat()
            guard lstat(path, &info) == 0 else {
                if errno == ENOENT { return URL(fileURLWithPath: path) }
                throw AtomicFileError(path: url.path, reason: String(cString: strerror(errno)))
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                return URL(fileURLWithPath: path)
            case S_IFLNK:
                guard let target = linkTarget(path) else {
                    throw AtomicFileError(path: url.path, reason: "cannot read the symbolic link \(path) (\(String(cString: strerror(errno))))")
                }
                path = target.hasPrefix("/") ? target
                    : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(target).path
            default:
                let kind = describe(info.st_mode)
                throw AtomicFileError(path: url.path, reason: path == url.path ? "it is \(kind), not a regular file"
                                                                               : "it links to \(path), which is \(kind), not a regular file")
            }
        }
        throw AtomicFileError(path: url.path, reason: "too many levels of symbolic links")
    }

    /// Whether two paths name the same file once links are followed (for `--checkpoint` and
    /// `--output` at one place). Paths that cannot be resolved are compared as written.
    public static func sameFile(_ a: URL, _ b: URL) -> Bool {
        func canonical(_ url: URL) -> String {
            let resolved = (try? resolve(url)) ?? url
            let folder = resolved.deletingLastPathComponent().path
            let real = realpath(folder, nil).map { pointer -> String in defer { free(pointer) }; return String(cString: pointer) } ?? folder
            return URL(fileURLWithPath: real).appendingPathComponent(resolved.lastPathComponent).standardizedFileURL.path
        }
        return canonical(a) == canonical(b)
    }

    /// A file type in words, e.g. "a character device".
    public static func describe(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a folder"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        case S_IFREG: return "a regular file"
        default: return "not a regular file"
        }
    }

    private static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, Int(PATH_MAX))
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
