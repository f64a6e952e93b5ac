import CZlib
import Foundation
import Testing
@testable import CNNCharts

@Suite("PNGEncoder")
struct PNGEncoderTests {
    @Test("a small image round-trips through an independent decoder, whatever filters were chosen")
    func roundTrip() throws {
        let width = 37, height = 23
        var rgb = [UInt8]()
        for y in 0..<height {
            for x in 0..<width {
                // Gradients, flat areas and noise, so that different rows prefer different filters.
                let noise = UInt8(truncatingIfNeeded: (x * 7919 + y * 104_729) % 251)
                rgb += y < 8 ? [UInt8(x * 6), UInt8(y * 10), 128] : (y < 16 ? [200, 200, 200] : [noise, noise &* 3, noise &+ 17])
            }
        }
        let png = try DecodedPNG(PNGEncoder.encode(rgb: rgb, width: width, height: height))
        #expect(png.width == width && png.height == height)
        #expect(png.rgb == rgb)
        #expect(Set(png.filterTypes).count > 1, "expected the adaptive filter to pick more than one filter type")
    }

    @Test("the Paeth predictor matches the specification's examples")
    func paeth() {
        #expect(PNGEncoder.paeth(left: 10, up: 20, upLeft: 10) == 20)
        #expect(PNGEncoder.paeth(left: 20, up: 10, upLeft: 10) == 20)
        #expect(PNGEncoder.paeth(left: 10, up: 10, upLeft: 30) == 10)
        #expect(PNGEncoder.paeth(left: 100, up: 50, upLeft: 60) == 100)
    }

    @Test("bad sizes are rejected")
    func invalidInput() {
        #expect(throws: PNGEncodingError.invalidDimensions(width: 0, height: 5)) {
            try PNGEncoder.encode(rgb: [], width: 0, height: 5)
        }
        #expect(throws: PNGEncodingError.pixelCountMismatch(expected: 12, actual: 11)) {
            try PNGEncoder.encode(rgb: [UInt8](repeating: 0, count: 11), width: 2, height: 2)
        }
    }
}
