import CNNEngine
import Foundation
import Testing

/// The safetensors reader and writer: round trips, PyTorch-style files, and malformed input.
@Suite struct SafeTensorsTests {
    /// Builds a file by hand from a header string and data bytes.
    func file(header: String, data: [UInt8] = []) -> Data {
        var bytes = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        bytes.append(Data(header.utf8))
        bytes.append(contentsOf: data)
        return bytes
    }

    func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    @Test func roundTripKeepsTensorsAndMetadata() throws {
        let original = SafeTensors(tensors: ["a.weight": Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5]),
                                             "b": Tensor(shape: [1], scalars: [.pi])],
                                   metadata: ["note": "x"])
        let encoded = original.encoded()
        let headerLength = encoded.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        #expect(try SafeTensors(data: encoded) == original)
    }

    @Test func readsAHandWrittenFile() throws {
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}"#
        let parsed = try SafeTensors(data: file(header: header, data: floats([1.5, -2])))
        #expect(parsed.tensors["w"] == Tensor(shape: [2], scalars: [1.5, -2]))
        #expect(parsed.metadata == ["format": "pt"])
    }

    @Test func convertsOtherFloatTypes() throws {
        // F16 1.0 = 0x3C00, BF16 −2.0 = 0xC000, F64 0.25.
        var data: [UInt8] = [0x00, 0x3C, 0x00, 0xC0]
        data += withUnsafeBytes(of: (0.25 as Double).bitPattern.littleEndian) { Array($0) }
        let header = #"{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},"d":{"dtype":"F64","shape":[1],"data_offsets":[4,12]}}"#
        let parsed = try SafeTensors(data: file(header: header, data: data))
        #expect(parsed.tensors["h"]!.scalars == [1])
        #expect(parsed.tensors["b"]!.scalars == [-2])
        #expect(parsed.tensors["d"]!.scalars == [0.25])
    }

    @Test(arguments: [
        ("short", "shorter than the 8-byte"),
        ("huge-header", "does not fit"),
        ("bad-json", "not valid JSON"),
        ("not-object", "not a JSON object"),
        ("bad-dtype", "unsupported dtype"),
        ("shape-size", "needs 8 bytes"),
        ("offsets-out", "outside"),
        ("overlap", "overlaps"),
        ("gap", "belong to no tensor"),
        ("trailing", "trailing bytes"),
        ("negative-shape", "negative dimension"),
        ("bool-offsets", "malformed"),
    ])
    func rejectsMalformedFiles(kind: String, message: String) {
        let data: Data
        switch kind {
        case "short": data = Data([1, 2, 3])
        case "huge-header": data = file(header: "{}").replacingBytes(0, with: [0xFF, 0xFF, 0, 0, 0, 0, 0, 0])
        case "bad-json": data = file(header: "{\"a\": ")
        case "not-object": data = file(header: "[1, 2]")
        case "bad-dtype": data = file(header: #"{"w":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#, data: [0])
        case "shape-size": data = file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: floats([1]))
        case "offsets-out": data = file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [])
        case "overlap": data = file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: floats([1, 2]))
        case "gap": data = file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: floats([1, 2]))
        case "trailing": data = file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: floats([1, 2]))
        case "negative-shape": data = file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: floats([1]))
        default: data = file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[false,true]}}"#, data: floats([1]))
        }
        do {
            _ = try SafeTensors(data: data)
            Issue.record("\(kind) was accepted")
        } catch {
            #expect("\(error)".contains(message), "\(kind): \(error)")
        }
    }

    /// A header naming a tensor twice would keep only one of the two descriptions (here the
    /// same bytes read as F32 or as I32): the file is refused, whether the repeat is spelt
    /// alike, with escapes, or as a canonically equivalent string.
    @Test(arguments: [
        (#""a""#, #""a""#, "a"),
        (#""a""#, #""\u0061""#, "a"),
        (#""w\"x""#, #" "w\u0022x" "#, "w\"x"),
        (#""é""#, #""e\u0301""#, "é"),
    ])
    func rejectsDuplicateTensorNames(first: String, second: String, name: String) {
        let header = #"{"# + first + #":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"# + second + #":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#
        do {
            let parsed = try SafeTensors(data: file(header: header, data: floats([1])))
            Issue.record("accepted, keeping \(parsed.tensors.count) of 2 tensors: \(parsed.tensors)")
        } catch {
            #expect(error as? SafeTensorsError == .invalidHeader("duplicate tensor name '\(name)'"), "\(error)")
        }
    }

    @Test func rejectsTwoMetadataObjects() {
        let header = #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"format":"x"}}"#
        #expect(throws: SafeTensorsError.invalidHeader("duplicate '__metadata__'")) {
            try SafeTensors(data: file(header: header, data: floats([1])))
        }
    }

    /// Keys of nested objects, and braces, commas, colons and quotes inside strings, are not
    /// top-level names: only the real top-level keys count.
    @Test func nestedKeysAndPunctuationInsideStringsAreNotDuplicates() throws {
        let header = #"{"__metadata__":{"w":"{\"w\":1}","x":"}, \"w\": {","y":"\\"},"# +
            #""w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"{\"w\":":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"# +
            #""\\":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}"#
        let parsed = try SafeTensors(data: file(header: header, data: floats([1, 2, 3])))
        #expect(parsed.tensors == ["w": Tensor(shape: [1], scalars: [1]), "{\"w\":": Tensor(shape: [1], scalars: [2]),
                                   "\\": Tensor(shape: [], scalars: [3])])
        #expect(parsed.metadata == ["w": #"{"w":1}"#, "x": #"}, "w": {"#, "y": "\\"])
    }

    @Test func aWrittenCheckpointStillLoadsAndRemembersItsDTypes() throws {
        var generator = SeededGenerator(seed: 5)
        let graph = try ModelZoo.graph(named: "resnet20", classes: 3, widthMultiplier: 0.125)
        let network = Network(architecture: try graph.sequential(), generator: &generator)
        let written = Checkpoint.safeTensors(of: network)
        let parsed = try SafeTensors(data: written.encoded())
        #expect(parsed == written)
        let integers = Set(network.architecture.stateEntries.filter(\.isInteger).map(\.name))
        #expect(!integers.isEmpty)
        #expect(parsed.storedDTypes == Dictionary(uniqueKeysWithValues: written.tensors.keys.map { ($0, integers.contains($0) ? "I64" : "F32") }))
        #expect(try Checkpoint.network(from: parsed, fallback: nil).0.parameters == network.parameters)
    }
}

extension Data {
    func replacingBytes(_ offset: Int, with bytes: [UInt8]) -> Data {
        var copy = self
        copy.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        return copy
    }
}
