import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Copies a URL's bytes into a local file while hashing them with MD5, reporting progress on
/// the calling thread. `http`, `https` (through `URLSession`) and `file` URLs are read; a
/// server's failure, a transfer shorter than its `Content-Length`, an idle connection and more
/// bytes than `maximumBytes` (announced or received: an endless source such as `/dev/zero`
/// must not fill the disk) are errors.
struct ArchiveFetch {
    /// What was received.
    struct Result {
        var bytes: Int64
        var md5: MD5.Digest
        /// The `Content-Encoding` the server declared, if any (a decompressing client would have changed the bytes).
        var contentEncoding: String?
    }

    var url: URL
    /// Seconds without any data (while connecting or transferring) before giving up.
    var timeout: TimeInterval
    /// The most bytes accepted: the expected file's size, or a cap when that is not known.
    var maximumBytes: Int64

    /// Writes the body to `destination` (created, must not exist). `progress` is called on the
    /// calling thread with the bytes so far and the expected total when known.
    func run(to destination: URL, progress: (Int64, Int64?) -> Void) throws -> Result {
        guard FileManager.default.createFile(atPath: destination.path, contents: nil),
              let output = FileHandle(forWritingAtPath: destination.path) else {
            throw DownloadError.filesystem(path: destination.path, reason: "cannot create the file")
        }
        defer { try? output.close() }
        switch url.scheme?.lowercased() {
        case "file":
            return try copyFile(to: output, progress: progress)
        case "http", "https":
            return try transfer(to: output, progress: progress)
        default:
            throw DownloadError.transfer(url: url.absoluteString, reason: "unsupported URL scheme (use https://, http:// or file://)")
        }
    }

    private func copyFile(to output: FileHandle, progress: (Int64, Int64?) -> Void) throws -> Result {
        let path = url.path
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw DownloadError.transfer(url: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        defer { try? input.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
        var md5 = MD5()
        var bytes: Int64 = 0
        while true {
            let chunk: Data
            // One byte past the limit is enough to know the file is too large.
            let room = max(maximumBytes - bytes, 0)
            let wanted = room >= 1 << 20 ? 1 << 20 : Int(room) + 1
            do { chunk = try input.read(upToCount: wanted) ?? Data() } catch {
                throw DownloadError.transfer(url: path, reason: "read failed after \(bytes) bytes")
            }
            if chunk.isEmpty { break }
            guard bytes + Int64(chunk.count) <= maximumBytes else { throw DownloadError.tooLarge(url: path, limit: maximumBytes) }
            md5.update(chunk)
            do { try output.write(contentsOf: chunk) } catch {
                throw DownloadError.filesystem(path: path, reason: "write failed (disk full?)")
            }
            bytes += Int64(chunk.count)
            progress(bytes, size)
        }
        return Result(bytes: bytes, md5: md5.finalize(), contentEncoding: nil)
    }

    private func transfer(to output: FileHandle, progress: (Int64, Int64?) -> Void) throws -> Result {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout  // idle time: connecting, or between packets
        configuration.timeoutIntervalForResource = 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let receiver = Receiver(output: output, url: url.absoluteString, maximumBytes: maximumBytes)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: queue)
        defer { session.invalidateAndCancel() }
        var request = URLRequest(url: url)
        // Ask for the file as stored: the checksum is of the compressed bytes.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        request.setValue("cnnprune", forHTTPHeaderField: "User-Agent")
        let task = session.dataTask(with: request)
        task.resume()
        while true {
            let snapshot = receiver.wait(upTo: 0.1)
            progress(snapshot.received, snapshot.expected)
            guard snapshot.finished else { continue }
            let urlText = url.absoluteString
            if let status = snapshot.status, !(200..<300).contains(status) {
                throw DownloadError.http(url: urlText, status: status)
            }
            if let failure = snapshot.failure {
                throw ArchiveFetch.describe(failure, url: url, received: snapshot.received, expected: snapshot.expected)
            }
            if let expected = snapshot.expected, snapshot.received != expected {
                throw DownloadError.truncated(url: urlText, received: snapshot.received, expected: expected)
            }
            return Result(bytes: snapshot.received, md5: receiver.digest(), contentEncoding: snapshot.contentEncoding)
        }
    }

    /// The error to report for a failed transfer: offline and unreachable hosts are told apart
    /// from transfers that broke off.
    static func describe(_ failure: Error, url: URL, received: Int64, expected: Int64?) -> DownloadError {
        if let failure = failure as? DownloadError { return failure }
        let host = url.host ?? url.absoluteString
        let code = (failure as? URLError)?.code ?? URLError.Code(rawValue: (failure as NSError).code)
        if received > 0, code != .timedOut, let expected, received < expected {
            return .truncated(url: url.absoluteString, received: received, expected: expected)
        }
        switch code {
        case .cannotFindHost, .dnsLookupFailed:
            return .offline(url: url.absoluteString, reason: "cannot resolve \(host)")
        case .notConnectedToInternet, .cannotConnectToHost:
            return .offline(url: url.absoluteString, reason: "cannot connect to \(host)")
        case .timedOut:
            return received == 0
                ? .offline(url: url.absoluteString, reason: "no answer from \(host)")
                : .transfer(url: url.absoluteString, reason: "stalled after \(received) bytes")
        case .networkConnectionLost:
            return .transfer(url: url.absoluteString, reason: "connection lost after \(received) bytes")
        default:
            let text = (failure as NSError).userInfo[NSLocalizedDescriptionKey] as? String
            return .transfer(url: url.absoluteString, reason: "\(text ?? "\(failure)") after \(received) bytes")
        }
    }
}

/// The URLSession delegate: writes and hashes data on the session's serial queue and hands
/// counts to the waiting thread.
private final class Receiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Snapshot {
        var received: Int64 = 0
        var expected: Int64?
        var status: Int?
        var contentEncoding: String?
        var failure: Error?
        var finished = false
    }

    private let output: FileHandle
    private let url: String
    private let maximumBytes: Int64
    private let condition = NSCondition()
    private var state = Snapshot()
    private var md5 = MD5()

    init(output: FileHandle, url: String, maximumBytes: Int64) {
        self.output = output
        self.url = url
        self.maximumBytes = maximumBytes
    }

    /// The state after at most `seconds` of waiting for a change.
    func wait(upTo seconds: TimeInterval) -> Snapshot {
        condition.lock()
        defer { condition.unlock() }
        if !state.finished { _ = condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
        return state
    }

    func digest() -> MD5.Digest {
        condition.lock()
        defer { condition.unlock() }
        var copy = md5
        return copy.finalize()
    }

    private func update(_ change: (inout Snapshot) -> Void) {
        condition.lock()
        change(&state)
        condition.broadcast()
        condition.unlock()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        let http = response as? HTTPURLResponse
        let status = http?.statusCode
        let tooLarge = response.expectedContentLength > maximumBytes
        update {
            $0.status = status
            $0.expected = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
            $0.contentEncoding = http?.value(forHTTPHeaderField: "Content-Encoding")
            if tooLarge { $0.failure = DownloadError.tooLarge(url: url, limit: maximumBytes) }
        }
        if let status, !(200..<300).contains(status) {
            completionHandler(.cancel)
        } else if tooLarge {
            completionHandler(.cancel)
        } else {
            completionHandler(.allow)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        condition.lock()
        let refused = state.failure != nil || state.received + Int64(data.count) > maximumBytes
        condition.unlock()
        if refused {
            update { if $0.failure == nil { $0.failure = DownloadError.tooLarge(url: url, limit: maximumBytes) } }
            dataTask.cancel()
            return
        }
        do {
            try output.write(contentsOf: data)
        } catch {
            update { $0.failure = DownloadError.filesystem(path: "", reason: "write failed (disk full?)") }
            dataTask.cancel()
            return
        }
        condition.lock()
        md5.update(data)
        state.received += Int64(data.count)
        condition.broadcast()
        condition.unlock()
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        update {
            if $0.failure == nil, let error, !(($0.status.map { !(200..<300).contains($0) }) ?? false) {
                $0.failure = error
            }
            $0.finished = true
        }
    }
}
