/// A fixed collection of labelled images the engine can train and evaluate on, independent of
/// where the images come from (a CIFAR-10 file, a synthetic set in a test).
public protocol LabeledImages: Sendable {
    /// The number of samples.
    var count: Int { get }
    /// One sample's shape, `[channels, height, width]`.
    var sampleShape: [Int] { get }
    /// Class names, label 0 first.
    var classNames: [String] { get }
    /// The label of sample `index`, in `0..<classNames.count`.
    func label(at index: Int) -> Int
    /// Writes the network inputs (normalised, NCHW, sample after sample) of the samples at
    /// `indices` into `inputs`.
    func fillInputs(indices: UnsafeBufferPointer<Int32>, into inputs: UnsafeMutablePointer<Float>)
}

/// Dense labelled images held as Float tensors, already normalised; for tests and small jobs.
public struct TensorImages: LabeledImages {
    /// The `[N, C, H, W]` network inputs.
    public let images: Tensor
    /// The label of every sample, in `0..<classNames.count`.
    public let labels: [Int]
    public let classNames: [String]

    /// - Parameters:
    ///   - images: `[N, C, H, W]` network inputs.
    ///   - labels: N labels.
    ///   - classNames: names of the classes, label 0 first.
    public init(images: Tensor, labels: [Int], classNames: [String]) {
        precondition(images.shape.count == 4 && images.shape[0] == labels.count)
        self.images = images
        self.labels = labels
        self.classNames = classNames
    }

    public var count: Int { labels.count }
    public var sampleShape: [Int] { Array(images.shape.dropFirst()) }
    public func label(at index: Int) -> Int { labels[index] }

    public func fillInputs(indices: UnsafeBufferPointer<Int32>, into inputs: UnsafeMutablePointer<Float>) {
        let size = sampleShape.reduce(1, *)
        images.scalars.withUnsafeBufferPointer { all in
            for (slot, index) in indices.enumerated() {
                (inputs + slot * size).update(from: all.baseAddress! + Int(index) * size, count: size)
            }
        }
    }
}
