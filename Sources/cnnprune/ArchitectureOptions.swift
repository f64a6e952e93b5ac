import ArgumentParser
import CNNEngine
import Foundation

/// `--arch NAME`, `--arch-file FILE.json`, `--classes N` and `--width-multiplier M`: which
/// network to build when none is loaded from a checkpoint.
struct ArchitectureOptions: ParsableArguments {
    @Option(help: "Architecture to build: \(ModelZoo.names.joined(separator: ", ")) (default: simplecnn).")
    var arch: String?

    @Option(help: "Architecture file (JSON, a ModelGraph: {\"input\": [3, 32, 32], \"layers\": [...]}), instead of --arch.")
    var archFile: String?

    @Option(parsing: .unconditional, help: "Classes of the output layer (default: the data set's, 10 for CIFAR-10).")
    var classes: Int?

    @Option(parsing: .unconditional, help: "Scales every hidden width of a zoo architecture (e.g. 0.5 for a narrow, quick network).")
    var widthMultiplier: Double = 1

    func validate() throws {
        if arch != nil && archFile != nil { throw ValidationError("--arch and --arch-file cannot be combined") }
        if let arch, !ModelZoo.names.contains(arch) {
            throw ValidationError("unknown architecture '\(arch)' (known: \(ModelZoo.names.joined(separator: ", ")))")
        }
        if let classes, !(2...ModelGraph.maximumWidth).contains(classes) {
            throw ValidationError("--classes must be 2…\(ModelGraph.maximumWidth), got \(classes)")
        }
        guard widthMultiplier.isFinite, widthMultiplier > 0, widthMultiplier <= 64 else {
            throw ValidationError("--width-multiplier must be in (0, 64], got \(widthMultiplier)")
        }
        if archFile != nil && widthMultiplier != 1 { throw ValidationError("--width-multiplier applies to --arch, not --arch-file") }
    }

    /// Whether any of these flags was given.
    var isGiven: Bool { arch != nil || archFile != nil || classes != nil || widthMultiplier != 1 }

    /// The architecture asked for, for images of `inputShape` and (unless `--classes`) `defaultClasses` classes.
    func graph(inputShape: [Int], defaultClasses: Int) throws -> ModelGraph {
        if let archFile {
            let graph = try ArchitectureOptions.readGraph(archFile)
            guard graph.inputShape == inputShape else {
                throw CLIError("\(archFile): the architecture takes \(graph.inputShape) inputs, the data set's images are \(inputShape)")
            }
            return graph
        }
        do {
            return try ModelZoo.graph(named: arch ?? "simplecnn", classes: classes ?? defaultClasses, inputShape: inputShape, widthMultiplier: widthMultiplier)
        } catch let error as ModelZooError {
            throw CLIError(error.description)
        }
    }

    /// The network asked for, freshly initialised from `seed`.
    func network(inputShape: [Int], defaultClasses: Int, seed: UInt64) throws -> Network {
        let graph = try graph(inputShape: inputShape, defaultClasses: defaultClasses)
        let architecture: Sequential
        do {
            architecture = try graph.sequential()
        } catch let error as EngineError {
            throw CLIError("\(archFile ?? graph.name ?? "architecture"): \(error.description)")
        }
        do {
            try MemoryBudget.check(architecture, samplesPerWorker: 1, workers: 1, training: false)
        } catch let error as MemoryBudgetError {
            throw CLIError("\(archFile ?? graph.name ?? "architecture"): the network is too large to run here: \(error.description)")
        }
        var generator = SeededGenerator(seed: seed)
        return Network(architecture: architecture, generator: &generator)
    }

    /// The graph to assume for checkpoints that record none and match no known architecture,
    /// for `data`'s images and classes (its test split is read only when a flag was given).
    func fallback(for data: DataOptions) throws -> ModelGraph? {
        guard isGiven else { return nil }
        let test = try data.load(.test)
        return try fallback(inputShape: test.sampleShape, defaultClasses: test.classNames.count)
    }

    /// The graph to assume for checkpoints that record none (`--arch` given with `--model`).
    func fallback(inputShape: [Int], defaultClasses: Int) throws -> ModelGraph? {
        isGiven ? try graph(inputShape: inputShape, defaultClasses: defaultClasses) : nil
    }

    /// Reads and checks an architecture file: one line naming the problem otherwise.
    static func readGraph(_ path: String) throws -> ModelGraph {
        try checkReadableFile(path, what: "architecture file")
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw CLIError("\(path): cannot be read (\(error.localizedDescription))") }
        guard data.count <= 16 << 20 else { throw CLIError("\(path): \(data.count) bytes is too large for an architecture file (16 MiB at most)") }
        let graph: ModelGraph
        do {
            graph = try ModelGraph.decode(data)
        } catch let error as ModelGraphError {
            throw CLIError("\(path): \(error.description)")
        }
        do {
            _ = try graph.sequential()
        } catch let error as EngineError {
            throw CLIError("\(path): \(error.description)")
        }
        return graph
    }
}
