import Foundation

/// Where the CIFAR-10 files are looked for: `--data DIR`, else `$CIFAR10_DIR`, else
/// `./data/cifar-10-batches-bin`.
public enum DataDirectory {
    public static let environmentVariable = "CIFAR10_DIR"
    public static let defaultPath = "data/cifar-10-batches-bin"

    /// The directory to use, and a phrase saying where it came from (for error messages).
    public static func resolve(explicit: String?) -> (url: URL, source: String) {
        if let explicit, !explicit.isEmpty { return (URL(fileURLWithPath: explicit), "--data") }
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty {
            return (URL(fileURLWithPath: env), "$\(environmentVariable)")
        }
        return (URL(fileURLWithPath: defaultPath), "the default location")
    }
}
