import CJPEG
import CNNDatasets
import CPNG
import Foundation

/// Small data set files built byte by byte for the reader tests: IDX files, CIFAR-100
/// records, PNG and JPEG images with known pixels, folders of them.
enum DatasetFixtures {
    /// An IDX file: big-endian magic `0x000008NN`, the sizes, then `payload`.
    static func idx(dimensions: [Int], payload: [UInt8], magic: Int? = nil) -> Data {
        var out = Data()
        func word(_ v: Int) { out.append(contentsOf: [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]) }
        word(magic ?? (0x800 | dimensions.count))
        dimensions.forEach(word)
        out.append(contentsOf: payload)
        return out
    }

    /// `count` images of `rows`×`columns` with pixel `(i * 7 + p) % 256` and label `i % 10`.
    static func mnistFiles(count: Int, rows: Int = 28, columns: Int = 28) -> (images: Data, labels: Data, pixels: [UInt8], labelValues: [UInt8]) {
        let pixels = (0..<(count * rows * columns)).map { UInt8(($0 / (rows * columns) * 7 + $0 % (rows * columns)) % 256) }
        let labels = (0..<count).map { UInt8($0 % 10) }
        return (idx(dimensions: [count, rows, columns], payload: pixels), idx(dimensions: [count], payload: labels), pixels, labels)
    }

    /// Writes an MNIST-layout folder (gzipped when asked) with `train` and `test` images.
    static func mnistFolder(train: Int = 5, test: Int = 3, gzipped: Bool = false) throws -> URL {
        let folder = try DownloadFixtures.temporaryFolder()
        for (split, count) in [(DatasetSplit.train, train), (.test, test)] {
            let files = mnistFiles(count: count)
            let names = MNIST.fileNames(split)
            for (name, data) in [(names.images, files.images), (names.labels, files.labels)] {
                if gzipped {
                    try GzipInflater.compress(data).write(to: folder.appendingPathComponent(name + ".gz"))
                } else {
                    try data.write(to: folder.appendingPathComponent(name))
                }
            }
        }
        return folder
    }

    /// CIFAR-100 records: record r has coarse label `r % 20`, fine `(r * 3) % 100`, pixel p = `(r + p) % 256`.
    static func cifar100Records(_ count: Int) -> Data {
        var out = Data()
        for r in 0..<count {
            out.append(UInt8(r % 20))
            out.append(UInt8((r * 3) % 100))
            out.append(contentsOf: (0..<3072).map { UInt8((r + $0) % 256) })
        }
        return out
    }

    /// The record counts of `cifar100Folder()`'s files.
    static let cifar100Layout = CIFAR100.Layout(trainRecords: 4, testRecords: 2)

    /// A `cifar-100-binary` folder with 4 training and 2 test records and both name files.
    static func cifar100Folder() throws -> URL {
        let folder = try DownloadFixtures.temporaryFolder()
        try cifar100Records(4).write(to: folder.appendingPathComponent("train.bin"))
        try cifar100Records(2).write(to: folder.appendingPathComponent("test.bin"))
        try Data((0..<100).map { "fine\($0)" }.joined(separator: "\n").utf8).write(to: folder.appendingPathComponent("fine_label_names.txt"))
        try Data((0..<20).map { "coarse\($0)" }.joined(separator: "\n").utf8).write(to: folder.appendingPathComponent("coarse_label_names.txt"))
        return folder
    }

    /// An RGB image whose pixel (x, y) is (x·40 + seed, y·30, (x + y)·10 + seed·3), each mod 256.
    static func pattern(width: Int, height: Int, seed: Int = 0) -> [UInt8] {
        var rgb: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width { rgb += [UInt8((x * 40 + seed) % 256), UInt8((y * 30) % 256), UInt8(((x + y) * 10 + seed * 3) % 256)] }
        }
        return rgb
    }

    /// `rgb` (or grey, `channels` 1) encoded as PNG by libpng's writer.
    static func png(width: Int, height: Int, pixels: [UInt8], channels: Int = 3) -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 3 ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        var size: png_alloc_size_t = 0
        pixels.withUnsafeBytes { _ = png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, Int32(width * channels), nil) }
        var out = [UInt8](repeating: 0, count: Int(size))
        let ok = out.withUnsafeMutableBytes { dst in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, Int32(width * channels), nil) }
        }
        precondition(ok != 0)
        return Data(out.prefix(Int(size)))
    }

    /// `rgb` encoded as JPEG by libjpeg at `quality`.
    static func jpeg(width: Int, height: Int, rgb: [UInt8], quality: Int32 = 95) -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = rgb.withUnsafeBufferPointer { cnnprune_jpeg_encode_rgb($0.baseAddress, Int32(width), Int32(height), quality, &out, &size) }
        precondition(status == 0)
        defer { free(out) }
        return Data(bytes: out!, count: Int(size))
    }
}
