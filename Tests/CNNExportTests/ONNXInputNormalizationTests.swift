import CNNDatasets
import CNNEngine
import CNNExport
import Testing

/// `ONNXInputNormalization`: the given normalisation wins, then the recorded one, then the default.
@Suite struct ONNXInputNormalizationTests {
    @Test func givenThenRecordedThenDefault() {
        let recorded = DatasetDescription(dataset: .mnist, images: ByteImages(pixels: [0], labels: [0], shape: [1, 1, 1], classNames: ["a"],
                                                                                normalization: Normalization(mean: 0.1, std: 0.2)))
        let metadata = [DatasetDescription.metadataKey: recorded.json]
        let given = Normalization(mean: 0.3, std: 0.4)
        let chosen = ONNXInputNormalization(given: given, metadata: metadata, dataset: .cifar10)
        #expect(chosen.normalization == given && chosen.source == .given)
        let fromFile = ONNXInputNormalization(given: nil, metadata: metadata, dataset: .cifar10)
        #expect(fromFile.normalization == Normalization(mean: 0.1, std: 0.2) && fromFile.source.description == "recorded in the model (mnist)")
        let fallback = ONNXInputNormalization(given: nil, metadata: [:], dataset: .cifar100)
        #expect(fallback.normalization == DatasetKind.cifar100.defaultNormalization)
        #expect(fallback.source.description == "the cifar100 default; the model records none")
        let properties = ONNXInputNormalization.metadata(modelPath: "/a/m.safetensors", sourceDescription: "s", modelMetadata: metadata)
        #expect(properties == ["cnnprune.source_model": "m.safetensors", "cnnprune.normalization_source": "s", DatasetDescription.metadataKey: recorded.json])
    }
}
