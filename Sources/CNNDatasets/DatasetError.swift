/// What is wrong with a data set file or folder, as one line naming it: `path: problem`.
///
/// Some problems are about a reader setting (the normalisation, the test fraction, the image
/// size, which data set to read): ``description`` names it in the library's words, and
/// ``description(naming:)`` in a caller's (a command line names its flags).
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file or folder at fault.
    public var path: String
    /// What is wrong with it (the record, image or byte offset where it applies).
    public var problem: String
    /// The message as pieces, when it names settings.
    var wording: Wording?

    /// A problem with the file at `path`, described by `problem`.
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    /// A problem whose path or text names reader settings.
    init(path: [Wording.Piece], problem: [Wording.Piece]) {
        let wording = Wording(path: path, problem: problem)
        self.path = Wording.render(path) { $0.description }
        self.problem = Wording.render(problem) { $0.description }
        self.wording = wording
    }

    public var description: String { "\(path): \(problem)" }

    /// The message with every setting it names said by `name` (e.g. as a command-line flag).
    /// - Parameters:
    ///   - name: the words for a setting, in place of its ``DatasetSetting/description``.
    public func description(naming name: (DatasetSetting) -> String) -> String {
        guard let wording else { return description }
        return "\(Wording.render(wording.path, name)): \(Wording.render(wording.problem, name))"
    }

    /// A message made of text and the settings it names.
    struct Wording: Equatable, Sendable {
        enum Piece: Equatable, Sendable {
            case text(String)
            case setting(DatasetSetting)
        }
        var path: [Piece]
        var problem: [Piece]

        static func render(_ pieces: [Piece], _ name: (DatasetSetting) -> String) -> String {
            pieces.map { piece in
                switch piece {
                case .text(let text): return text
                case .setting(let setting): return name(setting)
                }
            }.joined()
        }
    }
}

/// A setting of a data set reader that an error can name: what to change for the data to read.
public enum DatasetSetting: Equatable, Sendable, CustomStringConvertible {
    /// Which data set the files are read as.
    case dataset(DatasetKind)
    /// The input normalisation, with the text it was parsed from, if any.
    case normalization(String?)
    /// The fraction of each class held out for testing, if one was given.
    case testFraction(Double?)
    /// The size every image is resized to.
    case imageSize

    /// The setting in the library's words: `the CIFAR-100 reader`, `normalisation '0.5,x'`,
    /// `test fraction 0.2`, `an image size`.
    public var description: String {
        switch self {
        case .dataset(let kind): return "the \(kind.displayName) reader"
        case .normalization(let text): return "normalisation" + (text.map { " '\($0)'" } ?? "")
        case .testFraction(let fraction): return fraction.map { "test fraction \($0)" } ?? "a test fraction"
        case .imageSize: return "an image size"
        }
    }
}
