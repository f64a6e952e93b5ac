import CNNDatasets
import CNNEngine
import Testing

/// CIFAR-10's crop + flip in torchvision's order: pad the bytes with pixel 0, crop, flip, then normalise.
@Suite struct CIFAR10AugmentationTests {
    @Test func paddingIsAZeroPixelBeforeNormalisation() {
        var generator = SeededGenerator(seed: 4)
        // Pixels in 1...255, so padding (pixel 0, input −1) cannot be mistaken for image content.
        let pixels = (0..<(6 * 3072)).map { _ in UInt8(1 + generator.next() % 255) }
        let data = CIFAR10(pixels: pixels, labels: [0, 1, 2, 3, 4, 5], classNames: (0..<10).map(String.init))
        let augmentation = CIFAR10.standardAugmentation(seed: 17)
        #expect(CIFAR10.zeroPixelInput == -1 && augmentation.padding == 4 && augmentation.horizontalFlip)
        let augmented = AugmentedImages(data, augmentation: augmentation, epoch: 2)
        var inputs = [Float](repeating: .nan, count: 6 * 3072)
        let indices: [Int32] = [5, 3, 1, 0, 2, 4]
        indices.withUnsafeBufferPointer { i in inputs.withUnsafeMutableBufferPointer { augmented.fillInputs(indices: i, into: $0.baseAddress!) } }
        var padded = 0
        for (slot, index) in indices.enumerated() {
            let t = augmentation.transform(epoch: 2, index: Int(index))
            for c in 0..<3 { for y in 0..<32 { for x in 0..<32 {
                // torchvision: F.pad(img, 4, fill=0) on the 40×40 byte image, crop at (top, left), hflip, ToTensor + Normalize.
                let px = t.flipped ? 31 - x : x
                let sy = y + t.top - 4, sx = px + t.left - 4
                let byte: UInt8 = (0..<32).contains(sy) && (0..<32).contains(sx) ? pixels[Int(index) * 3072 + c * 1024 + sy * 32 + sx] : 0
                if byte == 0 { padded += 1 }
                let expected = (Float(byte) / 255 - 0.5) / 0.5
                #expect(inputs[slot * 3072 + c * 1024 + y * 32 + x] == expected)
            } } }
        }
        #expect(padded > 0)   // some crop was shifted, so the padding value was checked
    }
}
