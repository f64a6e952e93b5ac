import Foundation

/// Per-channel normalisation of 8-bit pixels into network inputs, exactly as torchvision's
/// `ToTensor()` then `Normalize(mean, std)` compute it in Float32: `(x / 255 − mean) / std`.
public struct Normalization: Codable, Equatable, Sendable, CustomStringConvertible {
    /// One mean per channel, or one for all.
    public var mean: [Float]
    /// One standard deviation per channel, or one for all.
    public var std: [Float]

    /// Normalises with `mean` and `std`: one value per channel each, or one for all channels.
    public init(mean: [Float], std: [Float]) {
        precondition(!mean.isEmpty && mean.count == std.count)
        self.mean = mean
        self.std = std
    }

    /// The same mean and std for every channel.
    public init(mean: Float, std: Float) { self.init(mean: [mean], std: [std]) }

    /// Parses a normalisation written `m,s` (every channel) or `m1,…,mC,s1,…,sC` (means, then stds).
    public static func parse(_ text: String) throws -> Normalization {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.map(Float.init)
        guard !parts.isEmpty, values.allSatisfy({ $0 != nil && $0!.isFinite }) else {
            throw DatasetError(path: [.setting(.normalization(text))], problem: [.text("expected comma-separated numbers: MEAN,STD or M1,M2,M3,S1,S2,S3")])
        }
        guard parts.count % 2 == 0 else {
            throw DatasetError(path: [.setting(.normalization(text))], problem: [.text("\(parts.count) numbers; give as many means as stds (MEAN,STD or M1,M2,M3,S1,S2,S3)")])
        }
        let numbers = values.map { $0! }
        let half = numbers.count / 2
        let std = Array(numbers[half...])
        guard std.allSatisfy({ $0 > 0 }) else { throw DatasetError(path: [.setting(.normalization(text))], problem: [.text("every std must be positive")]) }
        return Normalization(mean: Array(numbers[..<half]), std: std)
    }

    /// This normalisation with one mean and std per channel of `channels`; a single pair is
    /// repeated, any other count that is not `channels` is an error.
    public func expanded(to channels: Int) throws -> Normalization {
        if mean.count == channels { return self }
        guard mean.count == 1 else {
            throw DatasetError(path: [.setting(.normalization(nil))], problem: [.text("gives \(mean.count) means and stds, but the images have \(channels) channel\(channels == 1 ? "" : "s")")])
        }
        return Normalization(mean: Array(repeating: mean[0], count: channels), std: Array(repeating: std[0], count: channels))
    }

    /// The normalised value of every byte for every channel: `table[channel * 256 + byte]`.
    public func lookupTable(channels: Int) -> [Float] {
        var table = [Float](repeating: 0, count: channels * 256)
        for c in 0..<channels {
            let m = mean[mean.count == 1 ? 0 : c], s = std[std.count == 1 ? 0 : c]
            for x in 0..<256 { table[c * 256 + x] = (Float(x) / 255 - m) / s }
        }
        return table
    }

    public var description: String {
        func list(_ v: [Float]) -> String { v.map { String(format: "%g", $0) }.joined(separator: ", ") }
        return "mean (\(list(mean))), std (\(list(std)))"
    }
}
