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

    /// The architecture these flags choose, as CNNEngine's value.
    var choice: ArchitectureChoice { ArchitectureChoice(name: arch, file: archFile, classes: classes, widthMultiplier: widthMultiplier) }

    /// Whether any of these flags was given.
    var isGiven: Bool { choice.isGiven }

    /// Whether the flags ask for the exercise's SimpleCNN: none given, or `--arch simplecnn` at
    /// its own widths with the data set's classes.
    var isExerciseSimpleCNN: Bool { !isGiven || (arch == "simplecnn" && widthMultiplier == 1 && classes == nil) }

    /// The graph to assume for checkpoints that record none and match no known architecture,
    /// for `data`'s images and classes (its test split is read only when a flag was given).
    func fallback(for data: DataOptions) throws -> ModelGraph? {
        guard isGiven else { return nil }
        let test = try data.load(.test)
        return try choice.fallback(inputShape: test.sampleShape, defaultClasses: test.classNames.count)
    }
}
