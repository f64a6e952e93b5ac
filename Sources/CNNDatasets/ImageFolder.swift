import CNNEngine
import Foundation

/// The user's own images in torchvision's `ImageFolder` layout: one subfolder per class (the
/// class names are the subfolder names, sorted), PNG and JPEG files inside (other files and
/// hidden ones are ignored). Images are decoded to RGB, `[3, H, W]`.
///
/// The split comes from `train/` and `test/` subfolders of the root, each in that layout,
/// when both exist; otherwise from `testFraction`: a seeded shuffle of each class's images
/// puts that fraction of them (rounded) in the test split.
public struct ImageFolder: Sendable {
    /// Resize every image to `imageSize`×`imageSize` (bilinear); nil: all must be one size.
    public var imageSize: Int?
    /// The fraction of each class held out for testing when there are no `train/`, `test/` folders.
    public var testFraction: Double?
    /// Seeds the `testFraction` split.
    public var seed: UInt64
    /// The normalisation applied to the decoded pixels (scaled to 0…1 first); torchvision's `Normalize(0.5, 0.5)` by default.
    public var normalization: Normalization

    /// The file name extensions read, lower-cased.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// A reader with these settings (see the properties).
    public init(imageSize: Int? = nil, testFraction: Double? = nil, seed: UInt64 = 0, normalization: Normalization = Normalization(mean: 0.5, std: 0.5)) {
        self.imageSize = imageSize
        self.testFraction = testFraction
        self.seed = seed
        self.normalization = normalization
    }

    /// Reads both splits of the folder at `root`.
    public func load(_ root: URL) throws -> (train: ByteImages, test: ByteImages) {
        let trainRoot = root.appendingPathComponent("train"), testRoot = root.appendingPathComponent("test")
        if ImageFolder.isDirectory(trainRoot) && ImageFolder.isDirectory(testRoot) {
            let trainClasses = try ImageFolder.classes(in: trainRoot)
            let testClasses = try ImageFolder.classes(in: testRoot)
            guard trainClasses.map(\.name) == testClasses.map(\.name) else {
                throw DatasetError(testRoot.path, "has classes \(testClasses.map(\.name)), but \(trainRoot.path) has \(trainClasses.map(\.name)); both need the same class folders")
            }
            var size = imageSize.map { (width: $0, height: $0) }
            let names = trainClasses.map(\.name)
            let train = try images(trainClasses.enumerated().flatMap { c, entry in entry.files.map { ($0, c) } }, classNames: names, size: &size)
            let test = try images(testClasses.enumerated().flatMap { c, entry in entry.files.map { ($0, c) } }, classNames: names, size: &size)
            return (train, test)
        }
        guard let testFraction else {
            throw DatasetError(path: [.text(root.path)], problem: [.text("has no train/ and test/ subfolders; pass "), .setting(.testFraction(nil)),
                                                               .text(" to hold out a fraction of each class for testing")])
        }
        let classes = try ImageFolder.classes(in: root)
        var generator = SeededGenerator(seed: seed)
        var trainFiles: [(URL, Int)] = [], testFiles: [(URL, Int)] = []
        for (c, entry) in classes.enumerated() {
            var order = Array(entry.files.indices)
            order.seededShuffle(using: &generator)
            let held = Int((Double(order.count) * testFraction).rounded())
            for (position, i) in order.enumerated() {
                if position < held { testFiles.append((entry.files[i], c)) } else { trainFiles.append((entry.files[i], c)) }
            }
        }
        guard !trainFiles.isEmpty, !testFiles.isEmpty else {
            throw DatasetError(path: [.text(root.path)], problem: [.setting(.testFraction(testFraction)), .text(" leaves \(trainFiles.count) training and \(testFiles.count) test images; both need at least one")])
        }
        var size = imageSize.map { (width: $0, height: $0) }
        let names = classes.map(\.name)
        let train = try images(trainFiles.sorted { $0.0.path < $1.0.path }, classNames: names, size: &size)
        let test = try images(testFiles.sorted { $0.0.path < $1.0.path }, classNames: names, size: &size)
        return (train, test)
    }

    /// Decodes `files` (with their labels) into one set; the first image fixes the size when
    /// `size` is nil, and every later one must match it.
    func images(_ files: [(URL, Int)], classNames: [String], size: inout (width: Int, height: Int)?) throws -> ByteImages {
        var pixels: [UInt8] = []
        var labels: [UInt16] = []
        labels.reserveCapacity(files.count)
        var first = ""
        for (url, label) in files {
            var image = try DecodedImage.decode(DatasetFile.read(url), file: url.path)
            if let imageSize {
                image = image.resized(width: imageSize, height: imageSize)
            } else if let size {
                guard image.width == size.width && image.height == size.height else {
                    throw DatasetError(path: [.text(url.path)], problem: [
                        .text("is \(image.width)×\(image.height) pixels, but \(first.isEmpty ? "the other images are" : first + " is") \(size.width)×\(size.height); pass "),
                        .setting(.imageSize), .text(" to resize them all")])
                }
            } else {
                size = (image.width, image.height)
                first = url.path
            }
            if first.isEmpty { first = url.path }
            if pixels.isEmpty { pixels.reserveCapacity(files.count * image.width * image.height * 3) }
            image.appendPlanes(to: &pixels)
            labels.append(UInt16(label))
        }
        let shape = [3, size?.height ?? imageSize ?? 1, size?.width ?? imageSize ?? 1]
        return ByteImages(pixels: pixels, labels: labels, shape: shape, classNames: classNames, normalization: try normalization.expanded(to: 3))
    }

    /// The class subfolders of `root`, sorted by name, each with its image files sorted; an
    /// error names a root without class folders or a class folder without images.
    static func classes(in root: URL) throws -> [(name: String, files: [URL])] {
        let fileManager = FileManager.default
        guard isDirectory(root) else { throw DatasetError(root.path, fileManager.fileExists(atPath: root.path) ? "is a file, not a folder of class folders" : "no such folder") }
        let names: [String]
        do { names = try fileManager.contentsOfDirectory(atPath: root.path) } catch {
            throw DatasetError(root.path, "cannot be listed (\(error.localizedDescription))")
        }
        let classNames = names.filter { !$0.hasPrefix(".") && isDirectory(root.appendingPathComponent($0)) }.sorted()
        guard !classNames.isEmpty else { throw DatasetError(root.path, "has no class subfolders (expected one folder of images per class)") }
        guard classNames.count <= Int(UInt16.max) else { throw DatasetError(root.path, "has \(classNames.count) class folders, more than \(UInt16.max)") }
        return try classNames.map { name in
            let folder = root.appendingPathComponent(name)
            let entries = (try? fileManager.contentsOfDirectory(atPath: folder.path)) ?? []
            let files = entries.filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted().map { folder.appendingPathComponent($0) }
                .filter { !isDirectory($0) }
            guard !files.isEmpty else { throw DatasetError(folder.path, "class folder holds no PNG or JPEG images (.png, .jpg, .jpeg)") }
            return (name, files)
        }
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
