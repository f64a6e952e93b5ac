import Testing
@testable import CNNCharts

@Suite("BitmapFont")
struct BitmapFontTests {
    @Test("every printable ASCII character has a glyph inside the 5×9 cell; only space is blank")
    func coverage() {
        for value in UInt8(32)...UInt8(126) {
            let character = Character(UnicodeScalar(value))
            let pixels = BitmapFont.pixels(of: character)
            #expect(pixels.allSatisfy { $0.column < BitmapFont.glyphWidth && $0.row < BitmapFont.lineHeight },
                    "glyph \(character) leaves its cell")
            #expect(pixels.isEmpty == (character == " "), "glyph \(character) blank-ness is wrong")
        }
    }

    @Test("glyphs are distinct, so no two characters read the same")
    func distinct() {
        var seen: [String: Character] = [:]
        for value in UInt8(33)...UInt8(126) {
            let character = Character(UnicodeScalar(value))
            let key = BitmapFont.pixels(of: character).map { "\($0.column),\($0.row)" }.sorted().joined(separator: ";")
            #expect(seen[key] == nil, "\(character) looks like \(seen[key] ?? " ")")
            seen[key] = character
        }
    }

    @Test("text width is advance × count minus the trailing gap, times the scale")
    func width() {
        #expect(BitmapFont.width(of: "", scale: 2) == 0)
        #expect(BitmapFont.width(of: "A", scale: 2) == 10)
        #expect(BitmapFont.width(of: "100", scale: 2) == 34)
    }

    @Test("unknown characters fall back to a look-alike or '?'")
    func fallback() {
        #expect(BitmapFont.pixels(of: "–").map(\.row) == BitmapFont.pixels(of: "-").map(\.row))
        #expect(BitmapFont.pixels(of: "€").count == BitmapFont.pixels(of: "?").count)
    }
}
