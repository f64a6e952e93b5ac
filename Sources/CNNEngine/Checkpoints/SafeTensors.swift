import Foundation

/// Why a safetensors file could not be read: each case names what is wrong, and where.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file is shorter than the 8-byte header length.
    case tooShort(byteCount: Int)
    /// The header length does not fit the file.
    case headerLength(UInt64, fileSize: Int)
    /// The JSON header cannot be parsed; the reason says why.
    case invalidHeader(String)
    /// A tensor's entry (dtype, shape, offsets) is invalid.
    case invalidTensor(name: String, reason: String)
    /// The data section does not match the header (gaps, overlaps, trailing bytes).
    case dataLayout(String)

    public var description: String {
        switch self {
        case .tooShort(let n): return "file is \(n) bytes, shorter than the 8-byte header length"
        case .headerLength(let n, let size): return "header length \(n) at byte 0 does not fit a file of \(size) bytes"
        case .invalidHeader(let why): return "invalid JSON header: \(why)"
        case .invalidTensor(let name, let why): return "tensor '\(name)': \(why)"
        case .dataLayout(let why): return "data section: \(why)"
        }
    }
}

/// A safetensors file: named little-endian tensors behind a JSON header, plus free-form string
/// metadata. The format cannot carry code, and the reader checks every length and offset
/// before touching data. Tensors are stored as F32, except those named in `integerTensors`
/// (I64, as PyTorch stores `num_batches_tracked`); F16, BF16, F64, I64 and I32 files are
/// converted on read. A header naming a tensor (or `__metadata__`) twice is refused, since one
/// of the two would be lost.
public struct SafeTensors: Sendable, Equatable {
    /// Tensors by name.
    public var tensors: [String: Tensor]
    /// The header's `__metadata__` (string keys and values).
    public var metadata: [String: String]
    /// Tensors written as 64-bit integers (their values rounded); read files list the tensors
    /// they held as integers.
    public var integerTensors: Set<String> = []
    /// The dtype each tensor had in the file read (`F32`, `F16`, `BF16`, `F64`, `I64` or
    /// `I32`), so that a reader can tell what the values were before conversion; empty for a
    /// value built in memory. It records where the value came from, not what it holds, and is
    /// not compared by `==`.
    public internal(set) var storedDTypes: [String: String] = [:]

    /// The largest header accepted (the reference implementation's limit).
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// A file holding `tensors` and `metadata`, ready to be written.
    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads and validates a file.
    public init(contentsOf url: URL) throws {
        try self.init(data: try Data(contentsOf: url))
    }

    /// Parses and validates the bytes of a file.
    public init(data: Data) throws {
        guard data.count >= 8 else { throw SafeTensorsError.tooShort(byteCount: data.count) }
        let headerLength = data.withUnsafeBytes { raw -> UInt64 in
            var value: UInt64 = 0
            for i in 0..<8 { value |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return value
        }
        guard headerLength <= SafeTensors.maximumHeaderLength, headerLength <= UInt64(data.count - 8) else {
            throw SafeTensorsError.headerLength(headerLength, fileSize: data.count)
        }
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + headerEnd))
        let header: [String: HeaderEntry]
        do {
            header = try JSONDecoder().decode([String: HeaderEntry].self, from: headerBytes)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw SafeTensorsError.invalidHeader("not valid JSON")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw SafeTensorsError.invalidHeader("not a JSON object")
        } catch {
            let path = SafeTensors.path(of: error)
            throw SafeTensorsError.invalidHeader(path.isEmpty ? "malformed" : "malformed entry '\(path)'")
        }
        // The dictionary keeps one value of a repeated key: refuse the file rather than drop a tensor.
        if let duplicate = JSONObjectKeys.firstDuplicate(in: headerBytes) {
            throw SafeTensorsError.invalidHeader(duplicate == "__metadata__" ? "duplicate '__metadata__'" : "duplicate tensor name '\(duplicate)'")
        }
        var metadata: [String: String] = [:]
        if case .metadata(let values)? = header["__metadata__"] { metadata = values }

        let dataSize = data.count - headerEnd
        var spans: [(name: String, begin: Int, end: Int)] = []
        var tensors: [String: Tensor] = [:]
        var integerTensors = Set<String>()
        var storedDTypes: [String: String] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard case .tensor(let dtype, let shape, let offsets) = entry else {
                throw SafeTensorsError.invalidTensor(name: name, reason: "entry is not a tensor description")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError.invalidTensor(name: name, reason: "shape \(shape) has a negative dimension")
            }
            guard offsets.count == 2 else {
                throw SafeTensorsError.invalidTensor(name: name, reason: "data_offsets is not two integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw SafeTensorsError.invalidTensor(name: name, reason: "data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data section")
            }
            guard let width = SafeTensors.elementSize(dtype) else {
                throw SafeTensorsError.invalidTensor(name: name, reason: "unsupported dtype \(dtype) (F32, F16, BF16, F64, I64 and I32 are read)")
            }
            var count = 1
            for extent in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= dataSize else {
                    throw SafeTensorsError.invalidTensor(name: name, reason: "shape \(shape) is larger than the data section")
                }
                count = product
            }
            guard count * width == end - begin else {
                throw SafeTensorsError.invalidTensor(name: name, reason: "shape \(shape) of \(dtype) needs \(count * width) bytes, data_offsets give \(end - begin)")
            }
            let start = data.startIndex + headerEnd + begin
            let scalars = data.withUnsafeBytes { raw in
                SafeTensors.decode(UnsafeRawBufferPointer(rebasing: raw[(start - data.startIndex)..<(start - data.startIndex + count * width)]), dtype: dtype, count: count)
            }
            tensors[name] = Tensor(shape: shape, scalars: scalars)
            if dtype == "I64" || dtype == "I32" { integerTensors.insert(name) }
            storedDTypes[name] = dtype
            spans.append((name, begin, end))
        }
        spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        for span in spans {
            guard span.begin == cursor else {
                throw SafeTensorsError.dataLayout(span.begin < cursor
                    ? "tensor '\(span.name)' overlaps the previous tensor at byte \(span.begin)"
                    : "bytes \(cursor)..<\(span.begin) before tensor '\(span.name)' belong to no tensor")
            }
            cursor = span.end
        }
        guard cursor == dataSize else {
            throw SafeTensorsError.dataLayout("\(dataSize - cursor) trailing bytes after the last tensor belong to no tensor")
        }
        self.tensors = tensors
        self.metadata = metadata
        self.integerTensors = integerTensors
        self.storedDTypes = storedDTypes
    }

    /// Whether two values hold the same tensors, metadata and integer tensors (the dtypes a
    /// file stored them as aside).
    public static func == (lhs: SafeTensors, rhs: SafeTensors) -> Bool {
        lhs.tensors == rhs.tensors && lhs.metadata == rhs.metadata && lhs.integerTensors == rhs.integerTensors
    }

    /// The file's bytes: tensors as F32 (I64 for `integerTensors`) in name order, header padded with spaces to 8 bytes.
    public func encoded() -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        let names = tensors.keys.sorted()
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let integer = integerTensors.contains(name)
            let width = integer ? 8 : 4
            header[name] = ["dtype": integer ? "I64" : "F32", "shape": tensor.shape, "data_offsets": [offset, offset + width * tensor.count]] as [String: Any]
            offset += width * tensor.count
        }
        var headerBytes = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data(capacity: 8 + headerBytes.count + offset)
        var length = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        for name in names {
            if integerTensors.contains(name) {
                for value in tensors[name]!.scalars {
                    var bits = Int64(value.isFinite ? value.rounded() : 0).littleEndian
                    withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
                }
                continue
            }
            tensors[name]!.scalars.withUnsafeBufferPointer { buffer in
                for value in buffer {
                    var bits = value.bitPattern.littleEndian
                    withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
                }
            }
        }
        return out
    }

    /// Writes the file atomically: to a temporary file beside `url`, then renamed over it.
    public func write(to url: URL) throws {
        try AtomicFile.write(encoded(), to: url)
    }

    /// The coding path of a decoding error, as `name.field`.
    private static func path(of error: Error) -> String {
        let context: DecodingError.Context?
        switch error as? DecodingError {
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?, .keyNotFound(_, let c)?, .dataCorrupted(let c)?: context = c
        default: context = nil
        }
        return context?.codingPath.map(\.stringValue).joined(separator: ".") ?? ""
    }

    private static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32": return 4
        case "F16", "BF16": return 2
        case "F64", "I64": return 8
        case "I32": return 4
        default: return nil
        }
    }

    private static func decode(_ raw: UnsafeRawBufferPointer, dtype: String, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            switch dtype {
            case "F32":
                out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            case "I64":
                out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
            case "I32":
                out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            case "F64":
                out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            case "BF16":
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            default:  // F16
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = halfToFloat(bits)
            }
        }
        return out
    }

    private static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = (h & 0x8000) != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F), mantissa = Float(h & 0x3FF)
        if exponent == 0 { return sign * mantissa * powf(2, -24) }
        if exponent == 31 { return mantissa == 0 ? sign * .infinity : .nan }
        return sign * (1 + mantissa / 1024) * powf(2, Float(exponent - 15))
    }
}

/// One value of the header object: a tensor's description, or the `__metadata__` string map.
private enum HeaderEntry: Decodable {
    case tensor(dtype: String, shape: [Int], offsets: [Int])
    case metadata([String: String])

    private enum Keys: String, CodingKey { case dtype, shape, data_offsets }

    init(from decoder: Decoder) throws {
        if decoder.codingPath.last?.stringValue == "__metadata__" {
            self = .metadata(try [String: String](from: decoder))
            return
        }
        let container = try decoder.container(keyedBy: Keys.self)
        self = .tensor(dtype: try container.decode(String.self, forKey: .dtype),
                       shape: try container.decode([Int].self, forKey: .shape),
                       offsets: try container.decode([Int].self, forKey: .data_offsets))
    }
}
