import Foundation

/// Reading a data set's files whole, with errors that say whether a file is missing, a folder
/// or unreadable, and transparent gunzip for `.gz` files.
public enum DatasetFile {
    /// The largest decompressed size accepted from one `.gz` file (MNIST's largest is 47 MB).
    public static let decompressedLimit = 1 << 31

    /// The bytes of `url`.
    public static func read(_ url: URL) throws -> Data {
        do {
            return try CIFAR10.contents(of: url)
        } catch let error as CIFAR10Error {
            switch error {
            case .missingFile(let path): throw DatasetError(path, "no such file")
            case .unreadable(let path, let reason): throw DatasetError(path, "cannot be read (\(reason))")
            default: throw DatasetError(url.path, error.description)
            }
        }
    }

    /// `name` in `directory`, or `name.gz` when only that exists; an error naming both when
    /// neither does.
    public static func locate(_ name: String, in directory: URL) throws -> URL {
        let plain = directory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: plain.path) { return plain }
        let gzipped = directory.appendingPathComponent(name + ".gz")
        if FileManager.default.fileExists(atPath: gzipped.path) { return gzipped }
        throw DatasetError(plain.path, "no such file (nor \(name).gz)")
    }

    /// The bytes of `url` as an array, gunzipped when its name ends in `.gz`, decompressed
    /// straight into an array sized from the gzip trailer (no second copy of the data).
    public static func readBytes(_ url: URL) throws -> [UInt8] {
        let data = try read(url)
        guard url.pathExtension == "gz" else { return [UInt8](data) }
        return try gunzipBytes(data, file: url.path)
    }

    /// Decompresses a gzip file held in memory, refusing more than `limit` bytes of output.
    public static func gunzipBytes(_ data: Data, file: String, limit: Int = decompressedLimit) throws -> [UInt8] {
        var out: [UInt8] = []
        if data.count >= 18 {
            // ISIZE: the uncompressed size modulo 2^32 (of the last member), a capacity hint only,
            // bounded by deflate's largest expansion (1,032:1) so a forged trailer cannot reserve much.
            let e = data.endIndex
            let size = Int(data[e - 4]) | Int(data[e - 3]) << 8 | Int(data[e - 2]) << 16 | Int(data[e - 1]) << 24
            out.reserveCapacity(min(size, limit, data.count * 1032))
        }
        do {
            let inflater = try GzipInflater()
            try inflater.push(data) { chunk in
                guard out.count + chunk.count <= limit else { throw DatasetError(file, "decompresses to more than \(limit) bytes") }
                out.append(contentsOf: chunk)
            }
            try inflater.finish()
            return out
        } catch let error as GzipError {
            throw DatasetError(file, "is not a valid gzip file (\(error.description))")
        }
    }
}
