import Foundation

/// The keys of a JSON object's top level, read straight from its bytes: JSON allows a key
/// twice, but a dictionary decoded from it keeps only one of the values, so a reader that must
/// not lose data looks for repeats first.
enum JSONObjectKeys {
    /// The first key of the top-level object in `json` that repeats an earlier one, after
    /// decoding escapes (`"a"` and `"\u0061"` are the same key) and comparing as Swift strings
    /// do (canonically equivalent keys collide in a dictionary too); nil when every key is
    /// distinct. Keys of nested objects, and braces or quotes inside strings, are not keys of the
    /// top level. One pass over the bytes; `json` is expected to be valid JSON (a malformed
    /// input gives some answer, never a crash).
    static func firstDuplicate(in json: Data) -> String? {
        json.withUnsafeBytes { raw in firstDuplicate(in: raw.bindMemory(to: UInt8.self)) }
    }

    private static func firstDuplicate(in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var seen = Set<String>()
        var depth = 0
        var expectingKey = false
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""):
                let start = i
                var escaped = false
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") {
                        escaped = true
                        i += 1  // the escaped character, which may be a quote
                    }
                    i += 1
                }
                if depth == 1 && expectingKey {
                    expectingKey = false
                    let end = min(i + 1, bytes.count)
                    let key = decodeKey(UnsafeBufferPointer(rebasing: bytes[start..<end]), escaped: escaped)
                    if !seen.insert(key).inserted { return key }
                }
            case UInt8(ascii: "{"):
                depth += 1
                expectingKey = depth == 1
            case UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 1 { expectingKey = true }
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// A key's value from its quoted literal: the bytes between the quotes when there is no
    /// escape, else the JSON decoder's reading of the literal.
    private static func decodeKey(_ literal: UnsafeBufferPointer<UInt8>, escaped: Bool) -> String {
        guard literal.count >= 2 else { return String(decoding: literal, as: UTF8.self) }
        if !escaped { return String(decoding: UnsafeBufferPointer(rebasing: literal.dropFirst().dropLast()), as: UTF8.self) }
        return (try? JSONDecoder().decode(String.self, from: Data(literal))) ?? String(decoding: literal, as: UTF8.self)
    }
}
