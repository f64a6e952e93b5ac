import Foundation

/// MNIST and Fashion-MNIST in their official IDX files, gzipped or not:
/// `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]` and the `t10k-` pair.
/// 28×28 grey images, one channel, ten classes.
public enum MNIST {
    /// MNIST's class names: the digits.
    public static let digitNames = (0...9).map(String.init)
    /// Fashion-MNIST's ten official class names, label 0 first.
    public static let fashionNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The images and labels file names of `split` (without `.gz`).
    public static func fileNames(_ split: DatasetSplit) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte")
    }

    /// Reads `split` from `directory`.
    public static func load(directory: URL, split: DatasetSplit, classNames: [String], normalization: Normalization) throws -> ByteImages {
        let names = fileNames(split)
        let imagesURL = try DatasetFile.locate(names.images, in: directory)
        let labelsURL = try DatasetFile.locate(names.labels, in: directory)
        let images = try IDXFile(bytes: DatasetFile.readBytes(imagesURL), file: imagesURL.path, expectedMagic: IDXFile.imagesMagic)
        let labels = try IDXFile(bytes: DatasetFile.readBytes(labelsURL), file: labelsURL.path, expectedMagic: IDXFile.labelsMagic)
        return try combine(images: images, imagesFile: imagesURL.path, labels: labels, labelsFile: labelsURL.path,
                           classNames: classNames, normalization: normalization)
    }

    /// Pairs a parsed images file with its labels file, checking the shapes, that the counts
    /// agree and that every label names a class.
    public static func combine(images: IDXFile, imagesFile: String, labels: IDXFile, labelsFile: String,
                               classNames: [String], normalization: Normalization) throws -> ByteImages {
        guard images.dimensions.count == 3, images.dimensions[1] > 0, images.dimensions[2] > 0 else {
            throw DatasetError(imagesFile, "IDX dimensions \(images.dimensions) are not count × rows × columns of at least 1×1")
        }
        guard labels.dimensions.count == 1 else { throw DatasetError(labelsFile, "IDX dimensions \(labels.dimensions) are not one count") }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DatasetError(labelsFile, "holds \(labels.dimensions[0]) labels but \(imagesFile) holds \(images.dimensions[0]) images")
        }
        guard images.dimensions[0] > 0 else { throw DatasetError(imagesFile, "holds no images") }
        var out = [UInt16](repeating: 0, count: labels.bytes.count)
        for (i, label) in labels.bytes.enumerated() {
            guard Int(label) < classNames.count else {
                throw DatasetError(labelsFile, "label \(label) of record \(i) (byte \(8 + i)) is not a class index 0–\(classNames.count - 1)")
            }
            out[i] = UInt16(label)
        }
        return ByteImages(pixels: images.bytes, labels: out, shape: [1, images.dimensions[1], images.dimensions[2]],
                          classNames: classNames, normalization: try normalization.expanded(to: 1))
    }
}
