import CNNEngine

/// Labelled 8-bit images of any shape held as bytes (`[C, H, W]` planes, image after image),
/// normalised per batch into the network's input through a per-channel lookup table.
///
/// Every data set reader (CIFAR-100, MNIST, Fashion-MNIST, image folders, and CIFAR-10 for
/// the command line) produces one, so the commands handle them alike. A byte costs one table
/// look-up; `fillInputs` allocates nothing.
public struct ByteImages: LabeledImages {
    /// Pixel bytes, `count × C × H × W`.
    public let pixels: [UInt8]
    /// One label per image, in `0..<classNames.count`.
    public let labels: [UInt16]
    public let sampleShape: [Int]
    public let classNames: [String]
    /// How bytes become inputs.
    public let normalization: Normalization
    private let table: [Float]

    /// - Parameters:
    ///   - pixels: `labels.count × shape.product` bytes, channel planes row-major.
    ///   - labels: one per image, each below `classNames.count`.
    ///   - shape: `[channels, height, width]`.
    ///   - classNames: names of the classes, label 0 first.
    ///   - normalization: one mean and std, or one per channel.
    public init(pixels: [UInt8], labels: [UInt16], shape: [Int], classNames: [String], normalization: Normalization) {
        precondition(shape.count == 3 && shape.allSatisfy { $0 > 0 })
        precondition(pixels.count == labels.count * shape.reduce(1, *))
        precondition(normalization.mean.count == 1 || normalization.mean.count == shape[0])
        self.pixels = pixels
        self.labels = labels
        self.sampleShape = shape
        self.classNames = classNames
        self.normalization = normalization
        self.table = normalization.lookupTable(channels: shape[0])
    }

    public var count: Int { labels.count }
    /// Bytes of one image.
    public var imageBytes: Int { sampleShape[0] * sampleShape[1] * sampleShape[2] }

    public func label(at index: Int) -> Int { Int(labels[index]) }

    /// The images at `indices`, in that order, as a set of their own (copies the bytes).
    public func selecting(_ indices: [Int]) -> ByteImages {
        let size = imageBytes
        var out = [UInt8]()
        out.reserveCapacity(indices.count * size)
        pixels.withUnsafeBufferPointer { all in
            for i in indices { out.append(contentsOf: UnsafeBufferPointer(rebasing: all[(i * size)..<((i + 1) * size)])) }
        }
        return ByteImages(pixels: out, labels: indices.map { labels[$0] }, shape: sampleShape, classNames: classNames, normalization: normalization)
    }

    public func fillInputs(indices: UnsafeBufferPointer<Int32>, into inputs: UnsafeMutablePointer<Float>) {
        let channels = sampleShape[0], plane = sampleShape[1] * sampleShape[2], size = imageBytes
        pixels.withUnsafeBufferPointer { all in
            table.withUnsafeBufferPointer { lookup in
                for (slot, index) in indices.enumerated() {
                    let src = all.baseAddress! + Int(index) * size
                    let dst = inputs + slot * size
                    for c in 0..<channels {
                        let values = lookup.baseAddress! + c * 256
                        let s = src + c * plane, d = dst + c * plane
                        for i in 0..<plane { d[i] = values[Int(s[i])] }
                    }
                }
            }
        }
    }
}

extension ByteImages {
    /// CIFAR-10 as bytes with a chosen normalisation (the exercise's is mean 0.5, std 0.5);
    /// the pixel array is shared, not copied.
    public init(_ cifar: CIFAR10, normalization: Normalization = DatasetKind.cifar10.defaultNormalization) {
        self.init(pixels: cifar.pixels, labels: cifar.labels.map { UInt16($0) }, shape: CIFAR10.shape,
                  classNames: cifar.classNames, normalization: normalization)
    }
}
