import Foundation
import Store

/// One outbound request, already checked against the allow-list.
public struct OutboundHTTPRequest: Sendable, Equatable {
    public var target: OutboundTarget
    public var method: String
    /// Header names and values as the task gave them (validated: no CR, LF or NUL).
    public var headers: [(name: String, value: String)]
    public var body: Data
    public var timeoutMs: Milliseconds

    public static func == (a: Self, b: Self) -> Bool {
        a.target == b.target && a.method == b.method && a.body == b.body && a.timeoutMs == b.timeoutMs
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }
}

public struct OutboundHTTPResponse: Sendable, Equatable {
    public var status: Int
    /// The body's first bytes (the caller may stop reading after a few KiB).
    public var bodyPrefix: Data
    /// Response headers, names lowercased (the last value of a repeated name).
    public var headers: [String: String]

    public init(status: Int, bodyPrefix: Data, headers: [String: String] = [:]) {
        self.status = status
        self.bodyPrefix = bodyPrefix
        self.headers = headers
    }
}

public enum HTTPCallError: Error, Sendable, Equatable {
    /// No response within the request's timeout.
    case timeout
    /// DNS, connect, TLS or protocol failure.
    case transport(String)
}

/// The node's HTTP client, behind a protocol so this module opens no sockets.
public protocol HTTPCaller: Sendable {
    /// Resolves a host name to its addresses (A and AAAA).
    func resolve(host: String) async throws(HTTPCallError) -> [IPAddress]
    /// Sends the request to `request.target.address` (never re-resolving the host), with
    /// `Host: <host>[:port]`, TLS SNI and certificate checks against the host name for https,
    /// redirects NOT followed, and `timeoutMs` for the whole exchange. Honours cancellation.
    func send(_ request: OutboundHTTPRequest) async throws(HTTPCallError) -> OutboundHTTPResponse
}
