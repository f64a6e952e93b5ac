/// A data set whose samples are randomly cropped and flipped (`Augmentation`) as they are
/// filled into the network's input — training-time data augmentation for any `LabeledImages`.
///
/// Thread-safe and reproducible: `fillInputs` may be called concurrently with slices of a
/// batch, and each sample's transform depends only on (seed, `epoch`, sample index). The
/// trainer's caller sets `epoch` before each epoch (`TrainingRun` does). A fill transforms each
/// sample in place, a row at a time through a small stack buffer: nothing is allocated.
public struct AugmentedImages<Base: LabeledImages>: LabeledImages {
    /// The data set whose images are transformed.
    public let base: Base
    /// The crops and flips applied.
    public let augmentation: Augmentation
    /// The 0-based epoch whose transforms `fillInputs` applies.
    public var epoch: Int
    /// `sampleShape`, read once (a fill asks the base for nothing but pixels).
    private let channels: Int, height: Int, width: Int

    /// - Parameters:
    ///   - base: the images, `[channels, height, width]` each.
    ///   - augmentation: the crop and flip recipe.
    ///   - epoch: the epoch to draw transforms for.
    public init(_ base: Base, augmentation: Augmentation, epoch: Int = 0) {
        precondition(base.sampleShape.count == 3, "augmentation needs [channels, height, width] samples")
        self.base = base
        self.augmentation = augmentation
        self.epoch = epoch
        (channels, height, width) = (base.sampleShape[0], base.sampleShape[1], base.sampleShape[2])
    }

    public var count: Int { base.count }
    public var sampleShape: [Int] { base.sampleShape }
    public var classNames: [String] { base.classNames }
    public func label(at index: Int) -> Int { base.label(at: index) }

    public func fillInputs(indices: UnsafeBufferPointer<Int32>, into inputs: UnsafeMutablePointer<Float>) {
        base.fillInputs(indices: indices, into: inputs)
        let channels = self.channels, height = self.height, width = self.width
        let size = channels * height * width
        withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { row in
            for (slot, index) in indices.enumerated() {
                let transform = augmentation.transform(epoch: epoch, index: Int(index))
                AugmentedImages.apply(transform, padding: augmentation.padding, fill: augmentation.paddingInput,
                                      to: inputs + slot * size, channels: channels, height: height, width: width, row: row.baseAddress!)
            }
        }
    }

    /// Crops (and flips) one `[channels, height, width]` sample in place: output pixel (y, x) is
    /// padded pixel (y + top, x' + left) with x' = flipped ? width − 1 − x : x, where the padded
    /// image is the sample surrounded by `padding` pixels of `fill`.
    static func apply(_ transform: Augmentation.Transform, padding: Int, fill: Float, to image: UnsafeMutablePointer<Float>,
                      channels: Int, height: Int, width: Int, row: UnsafeMutablePointer<Float>) {
        let dy = transform.top - padding, dx = transform.left - padding
        if dy == 0 && dx == 0 && !transform.flipped { return }
        for c in 0..<channels {
            let plane = image + c * height * width
            // Output row y reads source row y + dy: go in the direction that reads rows not yet written.
            for step in 0..<height {
                let y = dy >= 0 ? step : height - 1 - step
                let sourceRow = y + dy
                let out = plane + y * width
                guard sourceRow >= 0 && sourceRow < height else {
                    out.update(repeating: fill, count: width)
                    continue
                }
                let source = plane + sourceRow * width
                for x in 0..<width {
                    let sourceColumn = (transform.flipped ? width - 1 - x : x) + dx
                    row[x] = sourceColumn >= 0 && sourceColumn < width ? source[sourceColumn] : fill
                }
                out.update(from: row, count: width)
            }
        }
    }
}
