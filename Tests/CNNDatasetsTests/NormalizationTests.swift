import CNNDatasets
import CNNEngine
import Foundation
import Testing

/// `--normalize` parsing, the per-data-set defaults, and `ByteImages` batches against the formula.
@Suite struct NormalizationTests {
    @Test func parsesOnePairOrOnePerChannel() throws {
        #expect(try Normalization.parse("0.5,0.25") == Normalization(mean: [0.5], std: [0.25]))
        #expect(try Normalization.parse("1,2,3, 4,5,6") == Normalization(mean: [1, 2, 3], std: [4, 5, 6]))
        for bad in ["", "0.5", "a,b", "1,2,3", "0.5,0", "0.5,-1", "1,nan"] {
            #expect(throws: DatasetError.self, "'\(bad)'") { try Normalization.parse(bad) }
        }
        #expect(try Normalization(mean: 0.1, std: 0.2).expanded(to: 3) == Normalization(mean: [0.1, 0.1, 0.1], std: [0.2, 0.2, 0.2]))
        #expect(throws: DatasetError.self) { try Normalization(mean: [1, 2, 3], std: [1, 1, 1]).expanded(to: 1) }
    }

    @Test func defaultsAreThePyTorchRecipes() {
        #expect(DatasetKind.cifar10.defaultNormalization == Normalization(mean: 0.5, std: 0.5))
        #expect(DatasetKind.mnist.defaultNormalization == Normalization(mean: 0.1307, std: 0.3081))
        #expect(DatasetKind.fashionMNIST.defaultNormalization == Normalization(mean: 0.2860, std: 0.3530))
        #expect(DatasetKind.cifar100.defaultNormalization.mean == [0.5071, 0.4865, 0.4409])
        #expect(DatasetKind(rawValue: "fashion-mnist") == .fashionMNIST)
    }

    /// Every byte of a 2-channel set, in a shuffled batch order, against `(x/255 − m)/s` per channel.
    @Test func fillInputsNormalisesPerChannelInBatchOrder() {
        let shape = [2, 3, 4]
        let pixels = (0..<(5 * 24)).map { UInt8(($0 * 37) % 256) }
        let norm = Normalization(mean: [0.25, 0.75], std: [0.5, 2])
        let set = ByteImages(pixels: pixels, labels: [0, 1, 2, 1, 0], shape: shape, classNames: ["a", "b", "c"], normalization: norm)
        let order: [Int32] = [3, 0, 4]
        var inputs = [Float](repeating: .nan, count: 3 * 24)
        order.withUnsafeBufferPointer { indices in
            inputs.withUnsafeMutableBufferPointer { set.fillInputs(indices: indices, into: $0.baseAddress!) }
        }
        for (slot, image) in order.enumerated() {
            for c in 0..<2 {
                for i in 0..<12 {
                    let x = pixels[Int(image) * 24 + c * 12 + i]
                    #expect(inputs[slot * 24 + c * 12 + i] == (Float(x) / 255 - norm.mean[c]) / norm.std[c])
                }
            }
        }
        let subset = set.selecting([4, 1])
        #expect(subset.count == 2 && subset.label(at: 1) == 1 && Array(subset.pixels.prefix(24)) == Array(pixels[96..<120]))
    }

    /// CIFAR-10 through `ByteImages` gives the network exactly the inputs `CIFAR10` gives.
    @Test func cifar10AsByteImagesMatchesCIFAR10BitForBit() {
        let pixels = (0..<(3 * 3072)).map { UInt8(($0 * 11) % 256) }
        let cifar = CIFAR10(pixels: pixels, labels: [1, 2, 3], classNames: DownloadFixtures.classNames)
        let bytes = ByteImages(cifar)
        #expect(bytes.sampleShape == cifar.sampleShape && bytes.count == 3 && bytes.label(at: 2) == 3)
        let order: [Int32] = [2, 0, 1]
        var a = [Float](repeating: 0, count: 3 * 3072), b = a
        order.withUnsafeBufferPointer { indices in
            a.withUnsafeMutableBufferPointer { cifar.fillInputs(indices: indices, into: $0.baseAddress!) }
            b.withUnsafeMutableBufferPointer { bytes.fillInputs(indices: indices, into: $0.baseAddress!) }
        }
        #expect(a == b)
    }

    @Test func descriptionRoundTripsThroughMetadata() throws {
        let set = ByteImages(pixels: [1, 2, 3, 4], labels: [0, 1, 1, 0], shape: [1, 1, 1], classNames: ["a", "b"], normalization: Normalization(mean: 0.1307, std: 0.3081))
        let description = DatasetDescription(dataset: .mnist, images: set)
        let decoded = DatasetDescription(metadata: [DatasetDescription.metadataKey: description.json])
        #expect(decoded == description)
        #expect(decoded?.shape == [1, 1, 1] && decoded?.classes == 2 && decoded?.dataset == "mnist")
        #expect(description.json.contains("\"dataset\":\"mnist\""))
    }
}
