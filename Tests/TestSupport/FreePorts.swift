import Foundation
import Synchronization

/// Free loopback ports for nodes that bind them later, sometimes a minute later (a node added
/// to a running cluster). Never from the kernel's ephemeral range: a port from there (what
/// binding port 0 gives) can meanwhile become the local port of one of the thousands of
/// outgoing connections a test makes, and the late node then fails with EADDRINUSE. Ports are
/// picked at random below that range, checked by binding them, and never handed out twice in
/// one test process.
public enum FreePorts {
    private static let handedOut = Mutex<Set<Int>>([])

    /// The first port of the kernel's ephemeral range (32768 when it cannot be read).
    public static var ephemeralStart: Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32_768
    }

    public static func take(_ count: Int) throws(FreePortsError) -> [Int] {
        let candidates = 10_000..<max(ephemeralStart, 10_001)
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        var ports: [Int] = []
        var tries = 0
        while ports.count < count {
            tries += 1
            guard tries <= 10_000 else { throw FreePortsError(message: "no free loopback port below \(candidates.upperBound)") }
            let port = Int.random(in: candidates)
            let fresh = handedOut.withLock { taken in taken.insert(port).inserted }
            guard fresh else { continue }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw FreePortsError(message: "socket() failed") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(fd)
                continue
            }
            sockets.append(fd)
            ports.append(port)
        }
        return ports
    }
}

public struct FreePortsError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
