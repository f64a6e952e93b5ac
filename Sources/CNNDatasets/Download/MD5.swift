import Foundation

/// The MD5 message digest (RFC 1321), computed incrementally so that a download can be hashed
/// as it arrives. MD5 is broken for security; here it only checks that a file is the one the
/// data set's authors published (as torchvision does), against corruption and truncation.
///
/// ```swift
/// var md5 = MD5()
/// md5.update(chunk)            // as many times as needed
/// let hex = md5.finalize().hex // "c32a1d4ab5d03f1284b67883e8d87530"
/// ```
public struct MD5: Sendable {
    /// A finished 16-byte digest.
    public struct Digest: Sendable, Equatable, CustomStringConvertible {
        /// The 16 bytes of the digest.
        public let bytes: [UInt8]
        /// Lower-case hexadecimal, as `md5sum` prints it.
        public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }
        public var description: String { hex }
    }

    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
    /// Bytes hashed so far.
    public private(set) var byteCount: UInt64 = 0
    /// The bytes of an incomplete 64-byte block.
    private var pending: [UInt8] = []

    /// An empty hash, ready for `update`.
    public init() {
        pending.reserveCapacity(64)
    }

    /// The digest of `data` in one call.
    public static func digest(_ data: some DataProtocol) -> Digest {
        var md5 = MD5()
        md5.update(data)
        return md5.finalize()
    }

    /// Hashes more bytes.
    public mutating func update(_ data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { update(UnsafeRawBufferPointer($0)) }
        }
    }

    /// Hashes more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        byteCount &+= UInt64(bytes.count)
        var rest = bytes[...]
        if !pending.isEmpty {
            let take = min(64 - pending.count, rest.count)
            pending.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            guard pending.count == 64 else { return }
            pending.withUnsafeBytes { compress(block: $0) }
            pending.removeAll(keepingCapacity: true)
        }
        while rest.count >= 64 {
            compress(block: UnsafeRawBufferPointer(rebasing: rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        pending.append(contentsOf: rest)
    }

    /// Pads, hashes the length and returns the digest. The value is spent afterwards.
    public mutating func finalize() -> Digest {
        let bitLength = byteCount &* 8
        var padding: [UInt8] = [0x80]
        let afterMarker = (Int(byteCount % 64) + 1) % 64
        padding += [UInt8](repeating: 0, count: (56 - afterMarker + 64) % 64)
        for i in 0..<8 { padding.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        let count = byteCount
        padding.withUnsafeBytes { update($0) }
        byteCount = count
        precondition(pending.isEmpty)
        var out: [UInt8] = []
        for word in [state.0, state.1, state.2, state.3] {
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(i)))) }
        }
        return Digest(bytes: out)
    }

    /// One 64-byte block (RFC 1321, section 3.4).
    private mutating func compress(block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { x in
            for i in 0..<16 { x[i] = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            compress(words: UnsafeBufferPointer(x))
        }
    }

    private mutating func compress(words x: UnsafeBufferPointer<UInt32>) {
        var (a, b, c, d) = state
        for i in 0..<64 {
            var f: UInt32
            let g: Int
            switch i {
            case 0..<16: f = (b & c) | (~b & d); g = i
            case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
            case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * i) % 16
            }
            f = f &+ a &+ MD5.sines[i] &+ x[g]
            a = d
            d = c
            c = b
            let s = MD5.shifts[i]
            b = b &+ ((f << s) | (f >> (32 - s)))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }

    /// Per-step left rotations.
    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    /// `floor(abs(sin(i + 1)) · 2³²)`, the table T of RFC 1321.
    private static let sines: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64((abs(sin(Double($0 + 1))) * 4_294_967_296).rounded(.down))) }
}
