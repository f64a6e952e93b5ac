import Foundation

/// Why a tar stream was rejected; offsets count bytes of the (decompressed) archive.
public enum TarError: Error, CustomStringConvertible, Equatable {
    /// A header's checksum does not match its bytes: not a tar archive, or a corrupt one.
    case badChecksum(offset: Int)
    /// A header field (size, mode, …) cannot be parsed.
    case badField(field: String, offset: Int)
    /// An entry's path is absolute or leaves the extraction folder (`..`).
    case unsafePath(String, offset: Int)
    /// An entry is neither a regular file nor a folder (a link, a device); `type` names it.
    case unsupportedEntry(name: String, type: String, offset: Int)
    /// An entry is larger than the extraction limit allows.
    case tooLarge(name: String, size: Int, limit: Int)
    /// The stream ended before the end-of-archive marker.
    case truncated(offset: Int)

    public var description: String {
        switch self {
        case .badChecksum(let offset): return "tar header at byte \(offset) has a wrong checksum (not a tar archive, or corrupt)"
        case .badField(let field, let offset): return "tar header at byte \(offset) has an invalid \(field) field"
        case .unsafePath(let path, let offset): return "tar entry '\(path)' at byte \(offset) is an absolute path or leaves the extraction folder; refusing it"
        case .unsupportedEntry(let name, let type, let offset): return "tar entry '\(name)' at byte \(offset) is a \(type); only regular files and folders are extracted"
        case .tooLarge(let name, let size, let limit): return "tar entry '\(name)' of \(size) bytes exceeds the \(limit)-byte extraction limit"
        case .truncated(let offset): return "tar archive ends early, at byte \(offset) (no end-of-archive marker)"
        }
    }
}

/// An entry of a tar archive, as `TarReader` reports it.
public struct TarEntry: Sendable, Equatable {
    /// What an entry is.
    public enum Kind: Sendable, Equatable {
        /// A regular file.
        case file
        /// A folder.
        case directory
    }
    /// The path inside the archive, relative, normalised (no `.`, no empty components), `/`-separated.
    public var path: String
    /// A regular file or a folder (the only kinds extracted).
    public var kind: Kind
    /// Bytes of content (zero for folders).
    public var size: Int
    /// Byte offset of the entry's header in the archive.
    public var offset: Int
}

/// What `TarReader.push` reports, in archive order: an entry starts, its content arrives in
/// pieces (buffers valid only during the call), it ends.
public enum TarEvent {
    /// An entry starts; its content follows.
    case begin(TarEntry)
    /// A piece of the current entry's content, valid only during the call.
    case data(UnsafeRawBufferPointer)
    /// The entry's content is complete.
    case end(TarEntry)
}

/// A streaming, bounds-checked reader of POSIX ustar archives (and the GNU and pax variants
/// `tar` writes): push bytes as they are decompressed, receive entries and their contents.
///
/// It accepts regular files and folders only, with relative paths that stay inside the
/// extraction folder; links, devices, absolute paths and `..` are errors, never followed.
/// Header checksums are verified; numeric fields must be well-formed octal (or GNU base-256).
/// GNU long names (`L`) and pax `path`/`size` records apply to the next entry; other pax and
/// global records are read and ignored.
public struct TarReader {
    /// The largest total of file contents accepted (a guard against decompression bombs).
    public let limit: Int

    private enum State {
        case header
        /// Content of a file entry.
        case content(TarEntry, remaining: Int)
        /// Content of a pax or GNU long-name record, collected for the next header.
        case record(type: UInt8, offset: Int, remaining: Int)
        /// Padding up to the next 512-byte block.
        case padding(remaining: Int)
        case finished
    }

    private var state = State.header
    private var block: [UInt8] = []
    private var record: [UInt8] = []
    private var overridePath: String?
    private var overrideSize: Int?
    private var total = 0
    /// Archive bytes consumed so far.
    public private(set) var offset = 0

    /// The largest pax or long-name record read.
    static let maximumRecord = 1 << 16

    /// A reader that rejects archives whose entries total more than `limit` bytes.
    public init(limit: Int = 1 << 30) {
        self.limit = limit
        block.reserveCapacity(512)
    }

    /// True once the end-of-archive marker (a zero block) has been read; later bytes are ignored.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Consumes more archive bytes.
    public mutating func push(_ bytes: UnsafeRawBufferPointer, to handler: (TarEvent) throws -> Void) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            switch state {
            case .finished:
                offset += rest.count
                return
            case .header:
                let take = min(512 - block.count, rest.count)
                block.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                offset += take
                if block.count == 512 {
                    let headerOffset = offset - 512
                    let header = block
                    block.removeAll(keepingCapacity: true)
                    try readHeader(header, at: headerOffset, handler: handler)
                }
            case .content(let entry, let remaining):
                let take = min(remaining, rest.count)
                try handler(.data(UnsafeRawBufferPointer(rebasing: rest.prefix(take))))
                rest = rest.dropFirst(take)
                offset += take
                if take == remaining {
                    try handler(.end(entry))
                    state = TarReader.afterContent(entry.size)
                } else {
                    state = .content(entry, remaining: remaining - take)
                }
            case .record(let type, let recordOffset, let remaining):
                let take = min(remaining, rest.count)
                record.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                offset += take
                if take == remaining {
                    try applyRecord(type: type, offset: recordOffset)
                    state = TarReader.afterContent(record.count)
                    record.removeAll()
                } else {
                    state = .record(type: type, offset: recordOffset, remaining: remaining - take)
                }
            case .padding(let remaining):
                let take = min(remaining, rest.count)
                rest = rest.dropFirst(take)
                offset += take
                state = take == remaining ? .header : .padding(remaining: remaining - take)
            }
        }
    }

    /// Checks that the archive ended with its end-of-archive marker.
    public func finish() throws {
        guard isFinished else { throw TarError.truncated(offset: offset) }
    }

    private static func afterContent(_ size: Int) -> State {
        let padding = (512 - size % 512) % 512
        return padding == 0 ? .header : .padding(remaining: padding)
    }

    private mutating func readHeader(_ header: [UInt8], at headerOffset: Int, handler: (TarEvent) throws -> Void) throws {
        if header.allSatisfy({ $0 == 0 }) {
            state = .finished
            return
        }
        // The checksum is the sum of the header's bytes with its own field read as spaces;
        // historic tars summed signed bytes, so both are accepted.
        let stored = try TarReader.number(header[148..<156], field: "checksum", offset: headerOffset)
        var unsigned = 0, signed = 0
        for (i, byte) in header.enumerated() {
            let value = (148..<156).contains(i) ? 0x20 : byte
            unsigned += Int(value)
            signed += Int(Int8(bitPattern: value))
        }
        guard stored == unsigned || stored == signed else { throw TarError.badChecksum(offset: headerOffset) }

        let isPOSIX = header[257..<263].elementsEqual(Array("ustar\0".utf8))
        var name = try TarReader.string(header[0..<100], field: "name", offset: headerOffset)
        if isPOSIX {
            let prefix = try TarReader.string(header[345..<500], field: "prefix", offset: headerOffset)
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        var size = try TarReader.number(header[124..<136], field: "size", offset: headerOffset)
        if let path = overridePath { name = path }
        if let override = overrideSize { size = override }
        overridePath = nil
        overrideSize = nil

        let type = header[156]
        switch type {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size <= TarReader.maximumRecord else {
                throw TarError.tooLarge(name: "\(name) (\(UnicodeScalar(type)) record)", size: size, limit: TarReader.maximumRecord)
            }
            record.removeAll()
            state = size == 0 ? .header : .record(type: type, offset: headerOffset, remaining: size)
            if size == 0 { try applyRecord(type: type, offset: headerOffset) }
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
            let path = try TarReader.safePath(name, offset: headerOffset)
            guard !path.isEmpty else { throw TarError.unsafePath(name, offset: headerOffset) }
            guard size <= limit - total else { throw TarError.tooLarge(name: path, size: size, limit: limit) }
            total += size
            let entry = TarEntry(path: path, kind: .file, size: size, offset: headerOffset)
            try handler(.begin(entry))
            if size == 0 {
                try handler(.end(entry))
                state = .header
            } else {
                state = .content(entry, remaining: size)
            }
        case UInt8(ascii: "5"):
            let path = try TarReader.safePath(name, offset: headerOffset)
            let entry = TarEntry(path: path, kind: .directory, size: 0, offset: headerOffset)
            if !path.isEmpty {
                try handler(.begin(entry))
                try handler(.end(entry))
            }
            // A folder's size field is meaningless; skip any content it claims.
            state = size == 0 ? .header : .padding(remaining: size + (512 - size % 512) % 512)
        default:
            let kinds: [UInt8: String] = [
                UInt8(ascii: "1"): "hard link", UInt8(ascii: "2"): "symbolic link", UInt8(ascii: "3"): "character device",
                UInt8(ascii: "4"): "block device", UInt8(ascii: "6"): "FIFO", UInt8(ascii: "S"): "sparse file",
            ]
            let description = kinds[type] ?? "entry of type '\(type >= 0x20 && type < 0x7F ? String(UnicodeScalar(type)) : "\\(\(type))")'"
            throw TarError.unsupportedEntry(name: name, type: description, offset: headerOffset)
        }
    }

    /// Applies a finished GNU long-name or pax record to the next header.
    private mutating func applyRecord(type: UInt8, offset recordOffset: Int) throws {
        switch type {
        case UInt8(ascii: "L"):
            let end = record.firstIndex(of: 0) ?? record.count
            guard let path = String(bytes: record[..<end], encoding: .utf8) else {
                throw TarError.badField(field: "long name", offset: recordOffset)
            }
            overridePath = path
        case UInt8(ascii: "x"):
            for (key, value) in try TarReader.paxRecords(record, offset: recordOffset) {
                switch key {
                case "path": overridePath = value
                case "size":
                    guard let size = Int(value), size >= 0 else { throw TarError.badField(field: "pax size", offset: recordOffset) }
                    overrideSize = size
                default: break
                }
            }
        default:
            break  // global pax records and GNU long link names do not affect what is extracted
        }
    }

    /// `"LEN key=value\n"` records.
    static func paxRecords(_ bytes: [UInt8], offset: Int) throws -> [(String, String)] {
        var records: [(String, String)] = []
        var index = 0
        while index < bytes.count {
            guard let space = bytes[index...].firstIndex(of: UInt8(ascii: " ")),
                  let lengthText = String(bytes: bytes[index..<space], encoding: .ascii),
                  let length = Int(lengthText), length > space - index + 1, length <= bytes.count - index,
                  bytes[index + length - 1] == UInt8(ascii: "\n"),
                  let text = String(bytes: bytes[(space + 1)..<(index + length - 1)], encoding: .utf8),
                  let equals = text.firstIndex(of: "=")
            else { throw TarError.badField(field: "pax record", offset: offset) }
            records.append((String(text[..<equals]), String(text[text.index(after: equals)...])))
            index += length
        }
        return records
    }

    /// A NUL-terminated UTF-8 field.
    static func string(_ field: ArraySlice<UInt8>, field name: String, offset: Int) throws -> String {
        let end = field.firstIndex(of: 0) ?? field.endIndex
        guard let text = String(bytes: field[field.startIndex..<end], encoding: .utf8) else {
            throw TarError.badField(field: name, offset: offset)
        }
        return text
    }

    /// An octal field (spaces or NULs around the digits), or GNU base-256 (high bit of the first byte set).
    static func number(_ field: ArraySlice<UInt8>, field name: String, offset: Int) throws -> Int {
        guard let first = field.first else { throw TarError.badField(field: name, offset: offset) }
        if first & 0x80 != 0 {
            guard first == 0x80 else { throw TarError.badField(field: name, offset: offset) }  // negative or too wide
            var value = 0
            for byte in field.dropFirst() {
                guard value <= (Int.max >> 8) else { throw TarError.badField(field: name, offset: offset) }
                value = value << 8 | Int(byte)
            }
            return value
        }
        var digits = field.drop { $0 == 0x20 }
        if let end = digits.firstIndex(where: { $0 == 0 || $0 == 0x20 }) {
            guard digits[end...].allSatisfy({ $0 == 0 || $0 == 0x20 }) else { throw TarError.badField(field: name, offset: offset) }
            digits = digits[..<end]
        }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), value <= (Int.max >> 3) else {
                throw TarError.badField(field: name, offset: offset)
            }
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// `name` as a relative path without `.` or empty components; absolute paths and `..` are refused.
    static func safePath(_ name: String, offset: Int) throws -> String {
        guard !name.hasPrefix("/") else { throw TarError.unsafePath(name, offset: offset) }
        var components: [Substring] = []
        for component in name.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            guard component != "..", !component.contains("\0") else { throw TarError.unsafePath(name, offset: offset) }
            components.append(component)
        }
        return components.joined(separator: "/")
    }
}

/// Writes the regular files and folders of a tar stream under `root`, which must be a new,
/// empty folder (nothing in it can be a link, so no entry can be redirected outside it).
public final class TarExtractor {
    /// The folder the archive is extracted into.
    public let root: URL
    private var reader: TarReader
    private var file: FileHandle?
    /// Files written, as archive paths.
    public private(set) var files: [String] = []

    /// An extractor into `root`, a new empty folder, for archives of at most `limit` bytes of content.
    public init(root: URL, limit: Int = 1 << 30) {
        self.root = root
        self.reader = TarReader(limit: limit)
    }

    deinit { try? file?.close() }

    /// Consumes more archive bytes, writing what they complete.
    public func push(_ bytes: UnsafeRawBufferPointer) throws {
        try reader.push(bytes) { event in
            switch event {
            case .begin(let entry):
                let url = root.appendingPathComponent(entry.path)
                switch entry.kind {
                case .directory:
                    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                case .file:
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
                    guard descriptor >= 0 else {
                        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
                    }
                    file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
                }
            case .data(let bytes):
                try file?.write(contentsOf: bytes)
            case .end(let entry):
                if entry.kind == .file {
                    try file?.synchronize()
                    try file?.close()
                    file = nil
                    files.append(entry.path)
                }
            }
        }
    }

    /// Checks that the archive was complete.
    public func finish() throws {
        try reader.finish()
    }
}
