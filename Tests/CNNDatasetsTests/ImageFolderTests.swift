import CNNDatasets
import Foundation
import Testing

/// PNG and JPEG decoding through the system libraries, bilinear resizing, and the image folder
/// layout, against images written with known pixels.
@Suite struct ImageFolderTests {
    @Test func pngDecodesToTheWrittenPixels() throws {
        let rgb = DatasetFixtures.pattern(width: 5, height: 3)
        let image = try DecodedImage.decode(DatasetFixtures.png(width: 5, height: 3, pixels: rgb), file: "a.png")
        #expect(image.width == 5 && image.height == 3)
        #expect(image.rgb == rgb)
        // Grey PNG: each value replicated to R, G and B.
        let grey: [UInt8] = [0, 50, 100, 255]
        let decoded = try DecodedImage.decode(DatasetFixtures.png(width: 2, height: 2, pixels: grey, channels: 1), file: "g.png")
        #expect(decoded.rgb == grey.flatMap { [$0, $0, $0] })
    }

    @Test func jpegDecodesCloseToTheWrittenPixels() throws {
        // A flat colour survives JPEG almost exactly (the DC term only).
        let rgb = Array(repeating: [UInt8]([200, 40, 90]), count: 16 * 16).flatMap { $0 }
        let image = try DecodedImage.decode(DatasetFixtures.jpeg(width: 16, height: 16, rgb: rgb, quality: 100), file: "a.jpg")
        #expect(image.width == 16 && image.height == 16)
        let maxError = zip(image.rgb, rgb).map { abs(Int($0) - Int($1)) }.max() ?? 99
        #expect(maxError <= 3, "largest difference \(maxError)")
    }

    @Test func corruptImagesAreOneLineErrorsNamingTheFile() throws {
        let png = DatasetFixtures.png(width: 4, height: 4, pixels: DatasetFixtures.pattern(width: 4, height: 4))
        var corrupt = png
        corrupt[corrupt.count / 2] ^= 0xFF  // breaks a CRC or the zlib stream
        let truncated = png.prefix(png.count - 20)
        let jpeg = DatasetFixtures.jpeg(width: 8, height: 8, rgb: DatasetFixtures.pattern(width: 8, height: 8))
        for (name, data) in [("c.png", corrupt), ("t.png", Data(truncated)), ("t.jpg", Data(jpeg.prefix(30))), ("x.png", Data("hello".utf8)), ("e.jpg", Data())] {
            let error = #expect(throws: DatasetError.self, "\(name)") { try DecodedImage.decode(data, file: name) }
            #expect(error?.path == name)
            #expect(error?.description.contains("\n") == false)
        }
    }

    /// libjpeg only warns about corrupt entropy-coded data (after the SOS marker) and fills
    /// what it lost with grey: such a file is refused with libjpeg's message, and the intact
    /// file still decodes.
    @Test func jpegWithCorruptScanDataIsRefused() throws {
        let jpeg = DatasetFixtures.jpeg(width: 32, height: 32, rgb: DatasetFixtures.pattern(width: 32, height: 32), quality: 90)
        #expect(try DecodedImage.decode(jpeg, file: "good.jpg").width == 32)
        let bytes = [UInt8](jpeg)
        let sos = try #require(bytes.indices.dropLast().first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        let scan = sos + 2 + Int(bytes[sos + 2]) << 8 + Int(bytes[sos + 3])  // first entropy-coded byte
        #expect(bytes.count - 2 - scan > 64, "a scan long enough to corrupt")

        // Stuffed 0xFF bytes give a run of one bits, which no Huffman code of the image is.
        var badCode = bytes
        badCode.replaceSubrange(scan..<(scan + 8), with: [0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00])
        // Cut inside the scan: libjpeg would invent the rest.
        let cut = Array(bytes[..<(scan + (bytes.count - scan) / 2)])
        for (name, data, message) in [("code.jpg", badCode, "Corrupt JPEG data"), ("cut.jpg", cut, "Premature end of JPEG file")] {
            let error = #expect(throws: DatasetError.self, "\(name)") { try DecodedImage.decode(Data(data), file: name) }
            #expect(error?.path == name)
            #expect(error?.problem.hasPrefix("is not a readable JPEG (\(message)") == true, "\(error.map(String.init(describing:)) ?? "")")
        }
    }

    @Test func bilinearResizeMatchesHandComputedValues() {
        // 2×1 → 4×1: half-pixel centres put the samples at −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1.
        let image = DecodedImage(width: 2, height: 1, rgb: [0, 0, 0, 200, 100, 40])
        let wide = image.resized(width: 4, height: 1)
        #expect(wide.rgb.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == [0, 50, 150, 200])
        // 4×4 → 2×2: each output pixel is the mean of a 2×2 block's centre samples.
        let grid = DecodedImage(width: 4, height: 4, rgb: (0..<16).flatMap { [UInt8($0 * 10), 0, 0] })
        let small = grid.resized(width: 2, height: 2)
        #expect(small.rgb.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == [25, 45, 105, 125])
    }

    /// Writes `root/<class>/<n>.png` images of `size` pixels; returns the pixels per class.
    static func writeClasses(_ root: URL, counts: [String: Int], size: Int = 4, jpegClass: String? = nil) throws {
        for (name, count) in counts {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<count {
                let rgb = DatasetFixtures.pattern(width: size, height: size, seed: i + name.count)
                if name == jpegClass {
                    try DatasetFixtures.jpeg(width: size, height: size, rgb: rgb).write(to: folder.appendingPathComponent("\(i).jpg"))
                } else {
                    try DatasetFixtures.png(width: size, height: size, pixels: rgb).write(to: folder.appendingPathComponent("\(i).png"))
                }
            }
        }
    }

    @Test func trainAndTestSubfoldersGiveSortedClassesAndPlanarPixels() throws {
        let root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.writeClasses(root.appendingPathComponent("train"), counts: ["dog": 2, "cat": 3, "bird": 1], jpegClass: "bird")
        try Self.writeClasses(root.appendingPathComponent("test"), counts: ["dog": 1, "cat": 1, "bird": 1])
        try Data("not an image".utf8).write(to: root.appendingPathComponent("train/cat/readme.txt"))
        let (train, test) = try ImageFolder().load(root)
        #expect(train.classNames == ["bird", "cat", "dog"])
        #expect(train.count == 6 && test.count == 3)
        #expect(train.sampleShape == [3, 4, 4])
        #expect((0..<6).map(train.label(at:)) == [0, 1, 1, 1, 2, 2])
        // train/cat/0.png is pattern(seed 3): red plane first, then green, then blue.
        let rgb = DatasetFixtures.pattern(width: 4, height: 4, seed: 3)
        let image = Array(train.pixels[48..<96])
        #expect(Array(image[0..<16]) == stride(from: 0, to: 48, by: 3).map { rgb[$0] })
        #expect(Array(image[16..<32]) == stride(from: 1, to: 48, by: 3).map { rgb[$0] })
        #expect(Array(image[32..<48]) == stride(from: 2, to: 48, by: 3).map { rgb[$0] })
    }

    @Test func testFractionSplitsEachClassWithTheSeed() throws {
        let root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.writeClasses(root, counts: ["a": 10, "b": 4])
        let (train, test) = try ImageFolder(testFraction: 0.5, seed: 1).load(root)
        #expect(train.count == 7 && test.count == 7)
        #expect((0..<test.count).filter { test.label(at: $0) == 0 }.count == 5)
        let again = try ImageFolder(testFraction: 0.5, seed: 1).load(root)
        #expect(again.test.pixels == test.pixels)
        let other = try ImageFolder(testFraction: 0.5, seed: 2).load(root)
        #expect(other.test.pixels != test.pixels)
        #expect(throws: DatasetError.self) { try ImageFolder().load(root) }  // neither train/test nor a fraction
    }

    @Test func badFoldersAreOneLineErrors() throws {
        let root = try DownloadFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.writeClasses(root, counts: ["a": 2, "b": 2])
        // Mixed sizes without --image-size, then with it.
        try DatasetFixtures.png(width: 6, height: 5, pixels: DatasetFixtures.pattern(width: 6, height: 5)).write(to: root.appendingPathComponent("b/9.png"))
        let mixed = #expect(throws: DatasetError.self) { try ImageFolder(testFraction: 0.5).load(root) }
        #expect(mixed?.path.hasSuffix("9.png") == true && mixed?.problem.contains("6×5") == true)
        let resized = try ImageFolder(imageSize: 8, testFraction: 0.5).load(root)
        #expect(resized.train.sampleShape == [3, 8, 8])
        // An empty class folder.
        try FileManager.default.createDirectory(at: root.appendingPathComponent("c"), withIntermediateDirectories: true)
        let empty = #expect(throws: DatasetError.self) { try ImageFolder(imageSize: 8, testFraction: 0.5).load(root) }
        #expect(empty?.path.hasSuffix("/c") == true)
        try FileManager.default.removeItem(at: root.appendingPathComponent("c"))
        // A corrupt image.
        try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: root.appendingPathComponent("a/5.png"))
        let corrupt = #expect(throws: DatasetError.self) { try ImageFolder(imageSize: 8, testFraction: 0.5).load(root) }
        #expect(corrupt?.path.hasSuffix("a/5.png") == true)
    }
}
