import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 server on 127.0.0.1 and an ephemeral port, for download tests: it serves
/// canned replies by path, one connection at a time, and closes each connection after replying.
final class DownloadTestServer: @unchecked Sendable {
    enum Reply: Sendable {
        /// 200 with the body and its true length.
        case body(Data)
        /// 200 announcing `claimed` bytes, sending `body` (shorter), then closing.
        case truncated(Data, claimed: Int)
        /// An empty reply with this status.
        case status(Int)
        /// 200 announcing `claimed` bytes, sending `body`, then waiting (up to 10 s) for the client to give up.
        case stall(Data, claimed: Int)
        /// Reads the request and never answers (up to 10 s).
        case silent
    }

    let port: UInt16
    private let listener: Int32
    private let routes: [String: Reply]
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var paths: [String] = []

    /// The paths requested so far.
    var requestedPaths: [String] { lock.withLock { paths } }

    init(routes: [String: Reply]) throws {
        self.routes = routes
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in serve() }.start()
    }

    /// `http://127.0.0.1:PORT/path`.
    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    /// Stops accepting and waits for the serving thread to end.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        finished.wait()
        close(listener)
    }

    private func serve() {
        defer { finished.signal() }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.containsHeaderEnd {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            request += buffer.prefix(count)
        }
        let firstLine = String(decoding: request.prefix { $0 != 0x0D }, as: UTF8.self).split(separator: " ")
        let path = firstLine.count > 1 ? String(firstLine[1]) : "/"
        lock.withLock { paths.append(path) }
        switch routes[path] ?? .status(404) {
        case .body(let body):
            send(connection, header(200, length: body.count))
            send(connection, body)
        case .truncated(let body, let claimed):
            send(connection, header(200, length: claimed))
            send(connection, body)
        case .status(let code):
            send(connection, header(code, length: 0))
        case .stall(let body, let claimed):
            send(connection, header(200, length: claimed))
            send(connection, body)
            waitForClose(connection)
        case .silent:
            waitForClose(connection)
        }
    }

    /// Blocks until the client closes the connection, or 10 s pass.
    private func waitForClose(_ connection: Int32) {
        var descriptor = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 512)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard poll(&descriptor, 1, 100) >= 0 else { return }
            if descriptor.revents != 0 && recv(connection, &buffer, buffer.count, Int32(MSG_DONTWAIT)) <= 0 { return }
        }
    }

    private func header(_ status: Int, length: Int) -> Data {
        let reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Error"
        return Data("HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/octet-stream\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n".utf8)
    }

    private func send(_ connection: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let count = Glibc.send(connection, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if count <= 0 { return }
                sent += count
            }
        }
    }
}

private extension Array where Element == UInt8 {
    var containsHeaderEnd: Bool {
        count >= 4 && indices.dropLast(3).contains { self[$0] == 0x0D && self[$0 + 1] == 0x0A && self[$0 + 2] == 0x0D && self[$0 + 3] == 0x0A }
    }
}
