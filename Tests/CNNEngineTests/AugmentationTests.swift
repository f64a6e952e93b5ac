import CNNEngine
import Foundation
import Testing

/// Random crop + flip against a direct transcription of torchvision's `RandomCrop(padding=p)`
/// then `RandomHorizontalFlip()`, and its reproducibility under concurrent, sliced fills.
@Suite struct AugmentationTests {
    static let images = TestSupport.random([40, 3, 6, 5], seed: 21)
    static let data = TensorImages(images: images, labels: (0..<40).map { $0 % 3 }, classNames: ["a", "b", "c"])
    static let augmentation = Augmentation(seed: 9, padding: 2, paddingInput: -7)

    /// torchvision's order, written out: pad the image with `fill` on every side, take the
    /// `height × width` window at (top, left), then mirror it left to right if flipped.
    func reference(_ index: Int, _ t: Augmentation.Transform, padding p: Int, fill: Float) -> [Float] {
        let (c, h, w) = (3, 6, 5)
        var padded = [Float](repeating: fill, count: c * (h + 2 * p) * (w + 2 * p))
        for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            padded[(ch * (h + 2 * p) + y + p) * (w + 2 * p) + x + p] = AugmentationTests.images[index, ch, y, x]
        } } }
        var out = [Float](repeating: 0, count: c * h * w)
        for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            let cropped = padded[(ch * (h + 2 * p) + y + t.top) * (w + 2 * p) + x + t.left]
            out[(ch * h + y) * w + (t.flipped ? w - 1 - x : x)] = cropped
        } } }
        return out
    }

    func fill<D: LabeledImages>(_ data: D, _ indices: [Int32]) -> [Float] {
        let size = data.sampleShape.reduce(1, *)
        var out = [Float](repeating: .nan, count: indices.count * size)
        indices.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { data.fillInputs(indices: i, into: $0.baseAddress!) } }
        return out
    }

    @Test func everySampleIsTorchvisionsCropThenFlip() {
        let size = 3 * 6 * 5
        var seen = Set<[Int]>(), flips = 0
        for epoch in 0..<3 {
            let augmented = AugmentedImages(AugmentationTests.data, augmentation: AugmentationTests.augmentation, epoch: epoch)
            let indices = (0..<40).map { Int32(($0 * 7) % 40) }   // out of order, as a shuffled batch
            let filled = fill(augmented, indices)
            for (slot, index) in indices.enumerated() {
                let t = AugmentationTests.augmentation.transform(epoch: epoch, index: Int(index))
                #expect((0...4).contains(t.top) && (0...4).contains(t.left))
                seen.insert([t.top, t.left]); flips += t.flipped ? 1 : 0
                #expect(Array(filled[(slot * size)..<((slot + 1) * size)]) == reference(Int(index), t, padding: 2, fill: -7),
                        "epoch \(epoch), sample \(index), \(t)")
            }
        }
        // 120 draws cover most of the 25 offsets and flip about half the time.
        #expect(seen.count >= 20)
        #expect((35...85).contains(flips))
    }

    @Test func transformsDependOnSeedEpochAndIndexOnly() {
        let a = AugmentationTests.augmentation
        let draws = { (aug: Augmentation, epoch: Int) in (0..<40).map { aug.transform(epoch: epoch, index: $0) } }
        #expect(draws(a, 0) == draws(a, 0))
        #expect(draws(a, 0) != draws(a, 1))
        var other = a
        other.seed = 10
        #expect(draws(a, 0) != draws(other, 0))
        var noFlip = a
        noFlip.horizontalFlip = false
        #expect(draws(noFlip, 0).allSatisfy { !$0.flipped })
        #expect(Augmentation(seed: 1, padding: 0, horizontalFlip: false, paddingInput: 0).transform(epoch: 3, index: 5) == .init(top: 0, left: 0, flipped: false))
    }

    @Test func concurrentSlicedFillsEqualOneFill() {
        let augmented = AugmentedImages(AugmentationTests.data, augmentation: AugmentationTests.augmentation, epoch: 4)
        let indices: [Int32] = (0..<40).reversed().map { Int32($0) }
        let whole = fill(augmented, indices)
        let size = 3 * 6 * 5
        var sliced = [Float](repeating: .nan, count: whole.count)
        indices.withUnsafeBufferPointer { all in
            sliced.withUnsafeMutableBufferPointer { out in
                let base = UncheckedPointers(indices: all.baseAddress!, out: out.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: 8) { part in
                    let range = (40 * part / 8)..<(40 * (part + 1) / 8)
                    augmented.fillInputs(indices: UnsafeBufferPointer(start: base.indices + range.lowerBound, count: range.count),
                                         into: base.out + range.lowerBound * size)
                }
            }
        }
        #expect(sliced == whole)
    }
}

private struct UncheckedPointers: @unchecked Sendable {
    var indices: UnsafePointer<Int32>
    var out: UnsafeMutablePointer<Float>
}
