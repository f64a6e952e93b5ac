import ArgumentParser
import CNNDatasets
import CNNEngine
import CNNExport
import Foundation

/// `cnnprune export`: any model cnnprune loads, written as an ONNX model (opset 17) for inference.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model (any architecture, pruned or not) as an ONNX model for inference.",
        discussion: """
        The ONNX model (opset 17) takes `input`, float32 [batch, C, H, W] with a dynamic batch, already \
        normalised as (pixel/255 - mean)/std, and gives `logits` [batch, classes]. BatchNorm stays a \
        BatchNormalization node with the running statistics; dropout is left out. The normalisation is \
        recorded in metadata_props as cnnprune.normalization: the checkpoint's (cnnprune.dataset), else \
        --normalize, else the --dataset default. The file is written atomically: on any error nothing is left.
        """
    )

    @Option(help: "The model (safetensors, from cnnprune or PyTorch).")
    var model: String

    @Option(help: "The ONNX file to write (e.g. model.onnx).")
    var output: String

    @Option(help: "Input normalisation to record when the model records none: MEAN,STD or M1,M2,M3,S1,S2,S3 (overrides the model's).")
    var normalize: String?

    @Option(help: "The data set whose default normalisation (and image shape, for --arch) applies when the model records none.")
    var dataset: DatasetKind = .cifar10

    @OptionGroup var architecture: ArchitectureOptions

    func validate() throws {
        if let normalize {
            _ = try usage { try Normalization.parse(normalize) }
        }
        let modelPath = URL(fileURLWithPath: model).standardizedFileURL.path
        if URL(fileURLWithPath: output).standardizedFileURL.path == modelPath || OutputPath.sameFile(URL(fileURLWithPath: output), URL(fileURLWithPath: model)) {
            throw ValidationError("--output must not be the model file itself")
        }
    }

    func run() throws {
        try checkOutputFile(output, flag: "--output")
        let loaded = try ModelFile.load(model, fallback: try fallbackGraph())
        let input = ONNXInputNormalization(given: normalize.flatMap { try? Normalization.parse($0) }, metadata: loaded.metadata, dataset: dataset)
        let source = input.source == .given ? "--normalize" : input.source.description
        let exporter = ONNXExporter(normalization: input.normalization,
                                    metadata: ONNXInputNormalization.metadata(modelPath: model, sourceDescription: source, modelMetadata: loaded.metadata))
        let onnx: Onnx_ModelProto
        do {
            onnx = try exporter.model(of: loaded.network)
        } catch let error as ONNXExportError {
            // A normalisation that does not fit is the flag's fault when it comes from the flag.
            if case .normalizationMismatch = error, let normalize { throw CLIError("--normalize \(normalize): \(error.description)") }
            throw CLIError("\(model): \(error.description)")
        }
        let url = URL(fileURLWithPath: output)
        try ONNXModelWriter.write(onnx, to: url)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let operators = Set(onnx.graph.node.map(\.opType)).sorted().joined(separator: ", ")
        let inputShape = loaded.network.architecture.inputShape
        let perChannel = (try? input.normalization.expanded(to: inputShape[0])) ?? input.normalization
        print("wrote \(output): \(loaded.summary), \(onnx.graph.node.count) nodes (\(operators)), opset \(ONNXExporter.opsetVersion), \(bytes) bytes")
        print("input '\(ONNXExporter.inputName)' [batch, \(inputShape.map(String.init).joined(separator: ", "))] normalised with \(perChannel) (\(source)); output '\(ONNXExporter.outputName)'")
    }

    /// The architecture for a file that records none (`--arch`, `--arch-file`), for `--dataset`'s images.
    private func fallbackGraph() throws -> ModelGraph? {
        if let archFile = architecture.archFile { return try ArchitectureChoice.readGraph(archFile) }
        guard architecture.isGiven else { return nil }
        guard let imageShape = dataset.imageShape, let classes = dataset.classCount else {
            throw CLIError("--arch with --dataset folder: the image size is unknown; give the architecture with --arch-file")
        }
        return try architecture.choice.graph(inputShape: imageShape, defaultClasses: classes)
    }
}
