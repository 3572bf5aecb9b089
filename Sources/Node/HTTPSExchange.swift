import Executor
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTPS request to a node's API, for the CLI (`--cacert`): Foundation's URLSession on
/// Linux cannot be told to trust a private CA, so HTTPS goes through SwiftNIO and NIOSSL
/// (`NIOHTTPCaller.exchange`), trusting only the given CA. The server's certificate must name
/// the host asked for (its IP address when the server is given as an IP literal).
public enum HTTPSExchange {
    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        /// Names lowercased.
        public var headers: [String: String]
    }

    public enum Failure: Error, CustomStringConvertible {
        case badAddress(String)
        case tooLong(Int)
        case transport(String)
        public var description: String {
            switch self {
            case .badAddress(let server): "bad address \(server)"
            case .tooLong(let limit): "the answer exceeds \(limit) bytes"
            case .transport(let why): why
            }
        }
    }

    /// Answers longer than this are refused (never cut short silently).
    public static let maxAnswerBytes = 256 << 20

    public static func send(method: String, server: String, path: String, body: Data?, headers: [String: String],
                            caFile: String, timeout: Double) async throws -> Reply {
        guard let (host, port) = CommandForwarding.hostAndPort(server) else { throw Failure.badAddress(server) }
        let literal = try? SocketAddress(ipAddress: host, port: port)
        let tls = try ClientTLS.trusting(caFile: caFile, serverHostname: literal == nil ? host : nil)
        var fields = HTTPHeaders()
        fields.add(name: "Host", value: server)
        fields.add(name: "Connection", value: "close")
        fields.add(name: "Content-Length", value: String(body?.count ?? 0))
        for (name, value) in headers { fields.add(name: name, value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: fields)
        let response: OutboundHTTPResponse
        do {
            response = try await NIOHTTPCaller.exchange(
                group: MultiThreadedEventLoopGroup.singleton, head: head, body: body ?? Data(), limit: maxAnswerBytes,
                timeout: .milliseconds(Int64(max(timeout, 0.001) * 1000)), connectTimeout: .seconds(5), target: server, tls: tls
            ) { bootstrap in
                if let literal { return bootstrap.connect(to: literal) }
                return bootstrap.connect(host: host, port: port)
            }
        } catch {
            throw Failure.transport("\(error)")
        }
        guard response.bodyPrefix.count < maxAnswerBytes else { throw Failure.tooLong(maxAnswerBytes) }
        return Reply(status: response.status, body: response.bodyPrefix, headers: response.headers)
    }
}
