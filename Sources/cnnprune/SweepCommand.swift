import ArgumentParser
import CNNCharts
import CNNDatasets
import CNNEngine
import CNNPruning
import Foundation

/// `cnnprune sweep`: rank a layer's units, mask the K least important, measure test accuracy
/// for each K.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Accuracy after masking the K least important channels of a layer, for a range of K.",
        discussion: """
        Ranks the layer's output channels (or fc1's neurons) with each criterion, then for each K \
        evaluates a fresh copy of the model with the K lowest-ranked units' weights and bias zeroed \
        on the 10,000 test images. Writes sweep.json, sweep.csv, sweep.svg and sweep.png into --output \
        and prints a table and a chart.

        Criteria: \(ImportanceCriteria.names.joined(separator: ", ")).
        """
    )

    @Option(help: "The model (safetensors, from cnnprune or PyTorch).")
    var model: String

    @OptionGroup var data: DataOptions

    @Option(help: "The layer to prune: \(SimpleCNN.prunableLayers.joined(separator: ", ")).")
    var layer: String = "conv2"

    @Option(help: "Criteria, comma-separated, in the order to report them (\(ImportanceCriteria.names.joined(separator: ", "))).")
    var criterion: String = "mean-activation"

    @Option(help: "Numbers of units to prune: START:STOP:STEP (STOP excluded, like Python's range) or a comma list. Default: 16 counts from 0 (0:32:2 for conv2).")
    var k: String?

    @OptionGroup var calibrationOptions: CalibrationOptions

    @Flag(help: "Zero the weights only and keep the biases (the exercise's zeroing).")
    var keepBias = false

    @Flag(help: "Run the exercise's loop exactly: one model pruned in place and cumulatively, re-ranked on the test set before each K, weights zeroed, biases kept.")
    var seedCompatible = false

    @OptionGroup var threading: ThreadOptions

    @Option(help: "Directory for sweep.json, sweep.csv, sweep.svg and sweep.png.")
    var output: String = "runs/sweep"

    func validate() throws {
        try validateLayerName(layer)
        _ = try parseCriteria(criterion, seed: calibrationOptions.seed)
        if let k { _ = try parseCounts(k) }
        if seedCompatible, let set = calibrationOptions.calibration, try parseCalibration(set) != .test {
            throw ValidationError("--seed-compatible ranks on the test set, as the exercise does; drop --calibration \(set)")
        }
    }

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let status = StatusLine()
        defer { status.clear() }
        let loaded = try loadModel(model)
        let network = loaded.network
        let prunable = try pruningStep { try PrunableLayer(named: layer, in: network.architecture) }
        let counts = try k.map(parseCounts) ?? PruningCounts.defaultCounts(units: prunable.unitCount)
        try pruningStep { try PruningCounts.validate(counts, for: prunable) }
        let criteria = try parseCriteria(criterion, seed: calibrationOptions.seed)
        let calibration: CalibrationSet = seedCompatible ? .test : calibrationOptions.set

        status.show("reading the CIFAR-10 test set")
        let test = try data.load(.test)
        let images = CalibrationImages(data: data, test: test, seed: calibrationOptions.seed, threads: threading.threads, status: status)
        let requests = criteria.map { criterion in
            SweepRequest(criterion: criterion, calibration: calibration,
                         method: seedCompatible ? .exerciseLoop : .rankOnce(keepBias: keepBias),
                         label: seedCompatible ? "\(criterion.name) (exercise's loop)" : criterion.name)
        }
        status.show("evaluating \(requests.count) × \(counts.count) masked models on \(grouped(test.count)) test images")
        let result = try pruningStep {
            try LayerSweep.run(network: network, layer: prunable, requests: requests, counts: counts, evaluationData: test,
                               threads: threading.threads, statistics: images.provider(for: prunable))
        }
        status.clear()
        let sweeps = result.sweeps
        let baseline = result.baseline.accuracy
        let classes = network.architecture.outputShape.reduce(1, *)
        let how = seedCompatible ? "the exercise's loop" : (keepBias ? "bias kept" : "weights and bias zeroed")
        let chart = ReportFiles.accuracyChart(
            title: "Pruning \(prunable.name): \(how), ranked on \(calibrationTitle(calibration, criteria))",
            layer: prunable, sweeps: sweeps, classes: classes)
        let document = ReportFiles.sweepDocument(
            model: model, layer: prunable, calibration: calibration, sweeps: sweeps, evaluationImages: test.count,
            baseline: baseline, seconds: seconds(since: start), seedCompatible: seedCompatible, keepBias: keepBias)
        let files = try ReportFiles.write(document, csv: ReportFiles.sweepCSV(sweeps), chart: chart,
                                          to: URL(fileURLWithPath: output), base: "sweep")

        print("Pruning \(prunable.name) (\(prunable.unitCount) \(prunable.unitName)s) of \(model): test accuracy \(format(baseline, 2)) % unpruned")
        print("Ranking: \(criteria.map(\.name).joined(separator: ", ")) on \(calibration.label)"
              + (criteria.allSatisfy { $0.need == .none } ? " (unused: these criteria read the weights only)" : ""))
        print("Masking: \(ReportFiles.methodDescription(requests[0].method))")
        print("")
        print(ReportFiles.table(sweeps))
        print("")
        print(chart.terminalText(width: 78, height: 22))
        print("")
        print("Wrote \(files.joined(separator: ", ")) in \(format(seconds(since: start), 2)) s")
    }

    private func calibrationTitle(_ set: CalibrationSet, _ criteria: [any ImportanceCriterion]) -> String {
        if criteria.allSatisfy({ $0.need == .none }) { return "weights" }
        switch set {
        case .test: return "the test set"
        case .training: return "the training set"
        case .trainingSubset(let n): return "\(grouped(n)) train images"
        }
    }
}

