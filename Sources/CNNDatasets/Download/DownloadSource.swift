import Foundation

extension DatasetDownload {
    /// Where to fetch `dataset` from, as the user writes it: a URL with a scheme (`https://`,
    /// `file://`), else a local path (a folder for MNIST and Fashion-MNIST, whose four files it
    /// holds); nil for an empty text or an unreadable URL.
    /// - Parameters:
    ///   - text: the URL or path.
    ///   - dataset: the data set fetched.
    public static func sourceURL(_ text: String, for dataset: DatasetKind) -> URL? {
        if text.contains("://") { return URL(string: text) }
        return text.isEmpty ? nil : URL(fileURLWithPath: text, isDirectory: dataset == .mnist || dataset == .fashionMNIST)
    }
}
