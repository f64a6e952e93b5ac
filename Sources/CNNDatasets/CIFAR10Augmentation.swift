import CNNEngine

extension CIFAR10 {
    /// The network input of a zero pixel, `(0/255 − 0.5)/0.5 = −1`: what torchvision's
    /// `RandomCrop(32, padding=4)` padding becomes after `Normalize(0.5, 0.5)`.
    public static var zeroPixelInput: Float { normalisedValue[0] }

    /// torchvision's CIFAR-10 training augmentation, `RandomCrop(32, padding=4)` then
    /// `RandomHorizontalFlip()`, padding with pixel value 0 before normalisation.
    public static func standardAugmentation(seed: UInt64) -> Augmentation {
        Augmentation(seed: seed, padding: 4, horizontalFlip: true, paddingInput: zeroPixelInput)
    }
}
