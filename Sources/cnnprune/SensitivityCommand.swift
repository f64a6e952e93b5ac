import ArgumentParser
import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import CNNStudy
import Foundation

/// `cnnprune sensitivity`: Distiller's sensitivity analysis — each prunable layer on its own.
struct SensitivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "Accuracy against the fraction of each layer's channels pruned (0 %, 10 %, … 90 %), one layer at a time.",
        discussion: """
        For every prunable layer (conv1, conv2, fc1) on its own, ranks the units once with the \
        criterion and masks the lowest-ranked 0 %, 10 %, … 90 % of them (weights and bias zeroed, no \
        fine-tuning), measuring test accuracy each time, as Distiller's sensitivity analysis does. \
        Writes sensitivity.json, sensitivity.csv, sensitivity.svg and sensitivity.png into --output.
        """
    )

    @Option(help: "The model (safetensors, from cnnprune or PyTorch); several, comma-separated, analyse each alike (its files in --output/model-<i>/) and add sensitivity-models.json/.csv/.svg/.png: each layer's mean with 95 % intervals over the models.")
    var model: String

    @OptionGroup var data: DataOptions

    @Option(help: "The criterion that ranks each layer's units (\(ImportanceCriteria.names.joined(separator: ", "))).")
    var criterion: String = "l1"

    @OptionGroup var calibrationOptions: CalibrationOptions

    @Flag(help: "Zero the weights only and keep the biases (the exercise's zeroing).")
    var keepBias = false

    @Flag(help: "Include groups coupled through residual sums (other networks than the SimpleCNN); without it they are listed as not prunable.")
    var pruneResidual = false

    @OptionGroup var threading: ThreadOptions

    /// `--arch`, `--arch-file`, `--classes`, `--width-multiplier`: the architecture of a model file
    /// that records none and matches no known one.
    @OptionGroup(title: "Architecture (for files that record none)") var architecture: ArchitectureOptions

    @Option(help: "Directory for sensitivity.json, .csv, .svg and .png.")
    var output: String = "runs/sensitivity"

    func validate() throws {
        let count = try parseCriteria(criterion, seed: calibrationOptions.seed).count
        guard count == 1 else { throw ValidationError("sensitivity takes one criterion, got \(count)") }
    }

    func run() throws { try runOneOrSeveral() }

    /// Analyses the one model of `--model` into `--output` (`SensitivityStudy`); returns its
    /// layers' curves and its classes, for a several-model summary.
    func studyOne() throws -> (curves: [ModelCurve], classes: Int) {
        try runStudy { loaded, status, start in
            let layerStudy = loaded.simpleCNN != nil && ImportanceCriteria.layerStudyNames.contains(criterion)
            if !layerStudy && keepBias {
                throw CLIError("--keep-bias zeroes a SimpleCNN layer's weights only; a channel group is masked whole (filters, biases and BatchNorms)")
            }
            if !layerStudy { _ = try ChannelGroups(loaded.network.architecture) }
            let study = SensitivityStudy(criterion: try parseCriteria(criterion, seed: calibrationOptions.seed)[0], calibration: calibrationOptions.set,
                                         keepBias: keepBias, threads: threading.threads, modelPath: model, datasetName: data.dataset.displayName)
            let (test, images) = try testImages(for: loaded, seed: calibrationOptions.seed, status: status)
            let directory = URL(fileURLWithPath: output)
            return layerStudy
                ? try study.runLayers(of: loaded.network, test: test, images: images, progress: status, output: directory, start: start)
                : try study.runGroups(of: loaded, allowResidual: pruneResidual, test: test, images: images, progress: status, output: directory,
                                      start: start, explanation: { $0.whyNotPrunableWithFlag(allowResidual: pruneResidual) })
        }
    }
}

extension ChannelGroup {
    /// `whyNotPrunable(allowResidual:)` with the flag that would allow a group coupled through
    /// residual sums.
    func whyNotPrunableWithFlag(allowResidual: Bool) -> String? {
        guard let why = whyNotPrunable(allowResidual: allowResidual) else { return nil }
        return isBlockedByResidualCoupling(allowResidual: allowResidual) ? why + "; pass --prune-residual" : why
    }
}
