import Executor
import Foundation

/// Host name → addresses through the system resolver (`getaddrinfo`, A and AAAA). Blocks: call
/// it only on a thread that may block (`NIOThreadPool`), never on an event loop.
enum Resolver {
    static func lookup(_ host: String) throws(HTTPCallError) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &list)
        guard code == 0, let first = list else {
            throw .transport("cannot resolve \(host.prefix(100)): \(String(cString: gai_strerror(code)))")
        }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            if let address = Self.address(entry.pointee), !addresses.contains(address) { addresses.append(address) }
            next = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw .transport("\(host.prefix(100)) has no addresses") }
        return addresses
    }

    private static func address(_ info: addrinfo) -> IPAddress? {
        guard let sockaddr = info.ai_addr else { return nil }
        switch info.ai_family {
        case AF_INET:
            return sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                .v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr))
            }
        case AF_INET6:
            let bytes = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
            }
            guard bytes.count == 16 else { return nil }
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return .fromIPv6(high: high, low: low)
        default:
            return nil
        }
    }
}
