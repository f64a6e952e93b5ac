import Foundation

/// Which network to build when none is loaded from a file: a zoo architecture by name (with
/// its classes and a width multiplier), or an architecture file (a ``ModelGraph`` as JSON).
///
/// ```swift
/// let choice = ArchitectureChoice(name: "resnet20", widthMultiplier: 0.5)
/// let network = try choice.network(inputShape: [3, 32, 32], defaultClasses: 10, seed: 1)
/// ```
public struct ArchitectureChoice: Sendable, Equatable {
    /// A ``ModelZoo`` name; nil with no ``file``: `simplecnn`.
    public var name: String?
    /// An architecture file (JSON), instead of ``name``.
    public var file: String?
    /// The output layer's classes; nil: the data's.
    public var classes: Int?
    /// Scales every hidden width of a zoo architecture.
    public var widthMultiplier: Double

    /// The largest architecture file read, in bytes.
    public static let maximumFileBytes = 16 << 20

    /// A choice of these settings (see the properties).
    /// - Parameters:
    ///   - name: a zoo architecture's name.
    ///   - file: an architecture file, instead of `name`.
    ///   - classes: the output layer's classes; nil: the data's.
    ///   - widthMultiplier: scales every hidden width of a zoo architecture.
    public init(name: String? = nil, file: String? = nil, classes: Int? = nil, widthMultiplier: Double = 1) {
        self.name = name
        self.file = file
        self.classes = classes
        self.widthMultiplier = widthMultiplier
    }

    /// Whether anything differs from the default (the SimpleCNN for the data's classes).
    public var isGiven: Bool { name != nil || file != nil || classes != nil || widthMultiplier != 1 }

    /// The architecture for images of `inputShape` and (unless ``classes``) `defaultClasses` classes.
    /// - Parameters:
    ///   - inputShape: one image's `[channels, height, width]`.
    ///   - defaultClasses: the classes when ``classes`` is nil.
    /// - Throws: ``ArchitectureError`` or ``InputPathError`` for the file, ``ModelZooError`` for a zoo name.
    public func graph(inputShape: [Int], defaultClasses: Int) throws -> ModelGraph {
        if let file {
            let graph = try ArchitectureChoice.readGraph(file)
            guard graph.inputShape == inputShape else {
                throw ArchitectureError(subject: file, reason: "the architecture takes \(graph.inputShape) inputs, the data set's images are \(inputShape)")
            }
            return graph
        }
        return try ModelZoo.graph(named: name ?? "simplecnn", classes: classes ?? defaultClasses, inputShape: inputShape, widthMultiplier: widthMultiplier)
    }

    /// The network, freshly initialised from `seed`, checked to fit in memory for one image.
    /// - Parameters:
    ///   - inputShape: one image's `[channels, height, width]`.
    ///   - defaultClasses: the classes when ``classes`` is nil.
    ///   - seed: seeds the initial weights.
    /// - Throws: as ``graph(inputShape:defaultClasses:)``, and ``ArchitectureError`` when the
    ///   graph cannot be built or is too large.
    public func network(inputShape: [Int], defaultClasses: Int, seed: UInt64) throws -> Network {
        let graph = try graph(inputShape: inputShape, defaultClasses: defaultClasses)
        let subject = file ?? graph.name ?? "architecture"
        let architecture: Sequential
        do {
            architecture = try graph.sequential()
        } catch let error as EngineError {
            throw ArchitectureError(subject: subject, reason: error.description)
        }
        do {
            try MemoryBudget.check(architecture, samplesPerWorker: 1, workers: 1, training: false)
        } catch let error as MemoryBudgetError {
            throw ArchitectureError(subject: subject, reason: "the network is too large to run here: \(error.description)")
        }
        var generator = SeededGenerator(seed: seed)
        return Network(architecture: architecture, generator: &generator)
    }

    /// The graph to assume for model files that record none: nil unless ``isGiven``.
    /// - Parameters:
    ///   - inputShape: one image's `[channels, height, width]`.
    ///   - defaultClasses: the classes when ``classes`` is nil.
    public func fallback(inputShape: [Int], defaultClasses: Int) throws -> ModelGraph? {
        isGiven ? try graph(inputShape: inputShape, defaultClasses: defaultClasses) : nil
    }

    /// Reads and checks an architecture file (at most ``maximumFileBytes``; it must build).
    /// - Parameters:
    ///   - path: the JSON file.
    /// - Throws: ``InputPathError`` when `path` is not a readable file, ``ArchitectureError`` naming it otherwise.
    public static func readGraph(_ path: String) throws -> ModelGraph {
        try InputPath.check(path, what: "architecture file")
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ArchitectureError(subject: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        guard data.count <= maximumFileBytes else {
            throw ArchitectureError(subject: path, reason: "\(data.count) bytes is too large for an architecture file (16 MiB at most)")
        }
        let graph: ModelGraph
        do {
            graph = try ModelGraph.decode(data)
        } catch let error as ModelGraphError {
            throw ArchitectureError(subject: path, reason: error.description)
        }
        do {
            _ = try graph.sequential()
        } catch let error as EngineError {
            throw ArchitectureError(subject: path, reason: error.description)
        }
        return graph
    }
}

/// Why a chosen architecture cannot be built: `subject: reason`, the subject being its file or name.
public struct ArchitectureError: Error, Equatable, CustomStringConvertible {
    /// The architecture file or name.
    public var subject: String
    /// What is wrong, as one line.
    public var reason: String

    /// The error for `subject`, which cannot be built because of `reason`.
    /// - Parameters:
    ///   - subject: the architecture file or name.
    ///   - reason: what is wrong, as one line.
    public init(subject: String, reason: String) {
        self.subject = subject
        self.reason = reason
    }

    /// `subject: reason`.
    public var description: String { "\(subject): \(reason)" }
}
