import Foundation

/// Raw sockets for what URLSession will not send: slow heads, huge headers, pipelining, bare CRs.
enum RawHTTP {
    struct Outcome {
        /// The status of the first answer, nil when none came.
        var status: Int?
        /// The server closed the connection (read returned 0) within the read bound.
        var closed: Bool
        var text: String
    }

    /// A listening socket on 127.0.0.1 that nobody accepts on (connections wait in its backlog).
    static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError.setup("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            close(fd)
            throw ClusterError.setup("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A connected socket to `host:port` whose reads give up after `readBoundSeconds` (a bound
    /// on a hung test, not a timing assertion).
    static func connect(_ hostPort: String, readBoundSeconds: Int = 10) throws -> Int32 {
        guard let colon = hostPort.lastIndex(of: ":"), let port = UInt16(hostPort[hostPort.index(after: colon)...]) else {
            throw ClusterError.setup("bad address \(hostPort)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError.setup("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(String(hostPort[..<colon]))
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw ClusterError.setup("connect to \(hostPort) failed")
        }
        var bound = timeval(tv_sec: readBoundSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Writes all of `bytes`; false when the peer closed first.
    @discardableResult
    static func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Reads until the server closes or the read bound passes.
    static func readAll(_ fd: Int32) -> Outcome {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        var closed = false
        while received.count < 1 << 20 {
            let n = read(fd, &chunk, chunk.count)
            if n == 0 || (n < 0 && errno == ECONNRESET) {
                closed = true
                break
            }
            if n < 0 { break }  // the read bound passed
            received += chunk[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        let status = text.hasPrefix("HTTP/1.1 ") ? Int(text.dropFirst(9).prefix(3)) : nil
        return Outcome(status: status, closed: closed, text: text)
    }

    /// One exchange on a fresh connection: send `bytes`, read until close.
    static func exchange(_ hostPort: String, _ bytes: [UInt8]) throws -> Outcome {
        let fd = try connect(hostPort)
        defer { close(fd) }
        write(fd, bytes)
        return readAll(fd)
    }

    /// SHA-256 hex of a token, through `trireme token hash` (exercises the CLI helper too).
    static func sha256Hex(_ token: String) -> String {
        guard let binary = try? LocalCluster.locateBinary() else { return "" }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["token", "hash", token]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
