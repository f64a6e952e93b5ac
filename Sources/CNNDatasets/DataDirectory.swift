import Foundation

/// Where the CIFAR-10 files are looked for: `--data DIR`, else `$CIFAR10_DIR`, else
/// `./data/cifar-10-batches-bin`.
public enum DataDirectory {
    /// The environment variable naming the CIFAR-10 folder when `--data` is not given.
    public static let environmentVariable = "CIFAR10_DIR"
    /// The folder used when neither `--data` nor the environment variable is given, relative to the working directory.
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
