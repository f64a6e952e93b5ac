import Foundation

/// An IDX file of unsigned bytes, the format of MNIST and Fashion-MNIST: a big-endian magic
/// number (`0x0000_08NN`: type 0x08 = unsigned byte, NN dimensions), NN big-endian 32-bit
/// sizes, then the bytes, last dimension fastest.
///
/// Labels files have magic 2049 (one dimension), images files 2051 (count, rows, columns).
public struct IDXFile: Sendable {
    /// The magic number of a labels file (`0x00000801`).
    public static let labelsMagic = 2049
    /// The magic number of an images file (`0x00000803`).
    public static let imagesMagic = 2051

    /// The sizes in the header, outermost first.
    public let dimensions: [Int]
    /// The payload, `dimensions.product` bytes.
    public let bytes: [UInt8]

    /// Parses `data` (already decompressed), which must have magic `expectedMagic` and hold
    /// exactly the bytes its header announces.
    /// - Parameters:
    ///   - data: the file's bytes.
    ///   - file: named in errors.
    ///   - expectedMagic: `labelsMagic` or `imagesMagic`.
    public init(_ data: Data, file: String, expectedMagic: Int) throws {
        try self.init(bytes: [UInt8](data), file: file, expectedMagic: expectedMagic)
    }

    /// Parses a whole file's bytes, keeping their storage for the payload (the header is
    /// shifted out in place, so a 47 MB images file is never held twice).
    public init(bytes: consuming [UInt8], file: String, expectedMagic: Int) throws {
        let kind = expectedMagic == IDXFile.labelsMagic ? "labels" : "images"
        guard bytes.count >= 4 else { throw DatasetError(file, "\(bytes.count) bytes is too short for an IDX header (truncated?)") }
        func word(at offset: Int) -> Int {
            Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        }
        let magic = word(at: 0)
        guard magic == expectedMagic else {
            let hint = magic == IDXFile.labelsMagic || magic == IDXFile.imagesMagic
                ? " (this is an IDX \(magic == IDXFile.labelsMagic ? "labels" : "images") file)" : ""
            throw DatasetError(file, "magic number \(magic) (0x\(String(magic, radix: 16, uppercase: true))) is not \(expectedMagic), an IDX \(kind) file\(hint)")
        }
        let rank = magic & 0xFF
        let header = 4 + 4 * rank
        guard bytes.count >= header else { throw DatasetError(file, "\(bytes.count) bytes is too short for an IDX header of \(rank) dimensions (truncated)") }
        let dimensions = (0..<rank).map { word(at: 4 + 4 * $0) }
        var total = 1
        for d in dimensions {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Int(Int32.max) else { throw DatasetError(file, "IDX dimensions \(dimensions) are too large") }
            total = product
        }
        let available = bytes.count - header
        guard available == total else {
            throw DatasetError(file, available < total
                ? "truncated: the IDX header \(dimensions) announces \(total) bytes of data, the file holds \(available)"
                : "\(available - total) bytes after the \(total) the IDX header \(dimensions) announces")
        }
        bytes.removeSubrange(0..<header)
        self.dimensions = dimensions
        self.bytes = bytes
    }
}
