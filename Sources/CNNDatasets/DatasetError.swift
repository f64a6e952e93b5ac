/// What is wrong with a data set file or folder, as one line naming it: `path: problem`.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file or folder at fault.
    public var path: String
    /// What is wrong with it (the record, image or byte offset where it applies).
    public var problem: String

    /// A problem with the file at `path`, described by `problem`.
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
