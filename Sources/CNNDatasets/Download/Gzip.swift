import CZlib
import Foundation

/// Why a gzip stream could not be decompressed; offsets count compressed bytes.
public enum GzipError: Error, CustomStringConvertible, Equatable {
    /// zlib rejected the data (bad header, bad block, CRC or length mismatch).
    case corrupt(reason: String, offset: Int)
    /// The input ended inside a member.
    case truncated(offset: Int)
    /// zlib could not start (out of memory, version mismatch).
    case zlib(status: Int32)

    public var description: String {
        switch self {
        case .corrupt(let reason, let offset): return "corrupt gzip data at compressed byte \(offset): \(reason)"
        case .truncated(let offset): return "gzip data ends early, after \(offset) compressed bytes"
        case .zlib(let status): return "zlib failed to start (status \(status))"
        }
    }
}

/// Streaming gunzip with zlib: push compressed chunks in, receive decompressed chunks through a
/// closure, then call `finish()` to check that the last member ended with a valid trailer
/// (CRC-32 and length). Concatenated members (as `cat a.gz b.gz` makes) are read in turn.
///
/// ```swift
/// let inflater = try GzipInflater()
/// try inflater.push(chunk) { bytes in tar.push(bytes) }
/// try inflater.finish()
/// ```
public final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutablePointer<UInt8>
    private let outputCapacity = 1 << 18
    /// True between the end of a member and the start of the next.
    private var betweenMembers = false
    /// Compressed bytes consumed so far.
    public private(set) var consumed = 0

    /// Prepares zlib to inflate one gzip stream; throws when zlib cannot be initialised.
    public init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(capacity: outputCapacity)
        // 16 + MAX_WBITS: expect a gzip header and trailer, not a zlib one.
        let status = inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw GzipError.zlib(status: status)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Decompresses `input`, passing each decompressed piece to `sink` (the buffer is only
    /// valid during the call).
    public func push(_ input: UnsafeRawBufferPointer, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        while stream.pointee.avail_in > 0 {
            if betweenMembers {
                let reset = inflateReset(stream)
                guard reset == Z_OK else { throw GzipError.zlib(status: reset) }
                betweenMembers = false
            }
            stream.pointee.next_out = output
            stream.pointee.avail_out = uInt(outputCapacity)
            let before = Int(stream.pointee.avail_in)
            let status = inflate(stream, Z_NO_FLUSH)
            consumed += before - Int(stream.pointee.avail_in)
            let produced = outputCapacity - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                break
            case Z_STREAM_END:
                betweenMembers = true
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw GzipError.corrupt(reason: message, offset: consumed)
            }
            if produced > 0 { try sink(UnsafeRawBufferPointer(start: output, count: produced)) }
            // Input left but no progress: never expected from zlib; fail rather than spin or drop bytes.
            if status == Z_BUF_ERROR && produced == 0 && Int(stream.pointee.avail_in) == before {
                throw GzipError.corrupt(reason: "decompression made no progress", offset: consumed)
            }
        }
    }

    /// Decompresses `input` (any contiguous bytes).
    public func push(_ input: Data, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try input.withUnsafeBytes { try push($0, to: sink) }
    }

    /// Checks that the input ended exactly at the end of a member.
    public func finish() throws {
        guard betweenMembers else { throw GzipError.truncated(offset: consumed) }
    }

    /// Decompresses a whole gzip file held in memory.
    public static func decompress(_ data: Data) throws -> Data {
        let inflater = try GzipInflater()
        var out = Data()
        try inflater.push(data) { out.append(contentsOf: $0) }
        try inflater.finish()
        return out
    }

    /// Compresses `data` into one gzip member (for fixtures and tests; the data set is only read).
    public static func compress(_ data: Data, level: Int32 = Z_DEFAULT_COMPRESSION) throws -> Data {
        // zlib keeps a pointer back to the stream, so it must not move: allocate it.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        let status = deflateInit2_(stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw GzipError.zlib(status: status) }
        defer { deflateEnd(stream) }
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var input = [UInt8](data)
        try input.withUnsafeMutableBufferPointer { source in
            stream.pointee.next_in = source.baseAddress
            stream.pointee.avail_in = uInt(source.count)
            while true {
                let result = buffer.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = uInt(target.count)
                    return deflate(stream, Z_FINISH)
                }
                out.append(contentsOf: buffer.prefix(buffer.count - Int(stream.pointee.avail_out)))
                if result == Z_STREAM_END { break }
                guard result == Z_OK || result == Z_BUF_ERROR else { throw GzipError.zlib(status: result) }
            }
        }
        return out
    }
}
