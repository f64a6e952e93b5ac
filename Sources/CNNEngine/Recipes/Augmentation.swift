/// torchvision's `RandomCrop(size, padding: p)` followed by `RandomHorizontalFlip()`, as a
/// seeded, stateless recipe: each sample's crop offset and flip are a hash of
/// (seed, epoch, sample index), so they do not depend on batching, thread count or call order.
///
/// **Padding value.** torchvision pads the image *before* `Normalize` with pixel value 0, which
/// becomes `(0 − mean)/std` in the network's input. Cropping and flipping only move pixels and
/// normalisation is per pixel, so cropping the normalised image and padding with
/// `paddingInput = (0 − mean)/std` gives exactly torchvision's pad-then-normalise result.
/// For CIFAR-10 with mean 0.5 and std 0.5 that is −1 (`CIFAR10.zeroPixelInput`).
public struct Augmentation: Codable, Equatable, Sendable {
    /// Seeds every sample's crop and flip.
    public var seed: UInt64
    /// Pixels of padding on each side (torchvision's `padding`); the crop offset is in 0...2p.
    public var padding: Int
    /// Whether to flip horizontally with probability ½.
    public var horizontalFlip: Bool
    /// The network input of a zero pixel, `(0 − mean)/std`.
    public var paddingInput: Float

    /// - Parameters:
    ///   - seed: seeds the crops and flips.
    ///   - padding: pixels of padding per side (4 for CIFAR-10's `RandomCrop(32, padding=4)`).
    ///   - horizontalFlip: also flip with probability ½.
    ///   - paddingInput: the normalised value of pixel 0, which fills the padding.
    public init(seed: UInt64, padding: Int = 4, horizontalFlip: Bool = true, paddingInput: Float) {
        precondition(padding >= 0)
        self.seed = seed
        self.padding = padding
        self.horizontalFlip = horizontalFlip
        self.paddingInput = paddingInput
    }

    /// Where one sample's crop starts in its padded image, and whether it is flipped.
    public struct Transform: Equatable, Sendable {
        /// Row and column of the crop's corner in the padded image, in 0...2·padding
        /// (`padding` for both means no shift).
        public var top: Int
        /// The column of the crop's top-left corner in the padded image.
        public var left: Int
        /// Whether the crop is mirrored left to right.
        public var flipped: Bool

        /// A crop at (`top`, `left`) of the padded image, mirrored when `flipped`.
        public init(top: Int, left: Int, flipped: Bool) {
            self.top = top
            self.left = left
            self.flipped = flipped
        }
    }

    /// The transform of sample `index` in epoch `epoch` (0-based).
    @inline(__always)
    public func transform(epoch: Int, index: Int) -> Transform {
        let hash = Augmentation.mix(Augmentation.mix(Augmentation.mix(seed) ^ UInt64(truncatingIfNeeded: epoch)) ^ UInt64(truncatingIfNeeded: index))
        let span = UInt64(2 * padding + 1)
        return Transform(top: Int(hash % span), left: Int((hash / span) % span),
                         flipped: horizontalFlip && (hash >> 63) == 1)
    }

    /// Checks an augmentation read from a file (which bypasses `init`).
    /// - Throws: `TrainingCheckpointError` naming the bad value.
    public func validate() throws {
        guard (0...1024).contains(padding), paddingInput.isFinite else {
            throw TrainingCheckpointError(description: "invalid augmentation: padding \(padding), padding input \(paddingInput)")
        }
    }

    /// SplitMix64's finaliser: a bijective 64-bit mix.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    enum CodingKeys: String, CodingKey {
        case seed, padding
        case horizontalFlip = "horizontal_flip"
        case paddingInput = "padding_input"
    }
}
