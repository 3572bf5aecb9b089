import API
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Executor
import NIOHTTP1
import NIOPosix
import Raft

/// Forwards a write that reached a follower to the leader's API and relays its answer: any
/// node accepts any request. A forwarded request carries `Trireme-Forwarded-By`, and a node
/// never forwards such a request again (no loops while leadership moves).
struct Forwarder: Sendable {
    let selfID: UInt64
    let timeout: TimeInterval
    let group: any EventLoopGroup
    /// TLS clusters: the leader's API is HTTPS and its certificate must name the leader's node id.
    let tls: NodeTLS?
    let apiAddresses: [NodeID: String]
    /// A write's answer is small (the created resource); anything longer is refused, not cut.
    static let maxAnswerBytes = 32 << 20

    init(selfID: UInt64, timeout: TimeInterval, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
         tls: NodeTLS? = nil, apiAddresses: [NodeID: String] = [:]) {
        self.tls = tls
        self.apiAddresses = apiAddresses
        self.selfID = selfID
        self.timeout = timeout
        self.group = group
    }

    struct Answer: Sendable {
        var status: Int
        var body: Data
        var contentType: String?
        var raftIndex: UInt64?
        var raftTerm: String?
    }

    /// One exchange with the leader over SwiftNIO (a fresh connection, TCP_NODELAY, no resolver
    /// round for an IP literal). URLSession, used before, timed out under load (NSURLError
    /// -1001) and capped forwarded creates at a fifth of what the leader takes directly.
    func forward(method: HTTPRequest.Method, path: String, body: ByteBuffer, contentType: String?, idempotencyKey: String?,
                 authorization: String? = nil, to leaderAPI: String) async throws(APIError) -> Answer {
        guard let (host, port) = CommandForwarding.hostAndPort(leaderAPI) else {
            throw APIError(.unavailable, "leader address \(leaderAPI) is unusable")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: leaderAPI)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        // The leader judges the request as the client sent it.
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if let idempotencyKey { headers.add(name: APIHeader.idempotencyKey, value: idempotencyKey) }
        // Checked here already (AuthMiddleware); the leader checks it again with its own tokens.
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        headers.add(name: APIHeader.forwardedBy, value: String(selfID))
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method.rawValue), uri: path, headers: headers)
        let literal = try? SocketAddress(ipAddress: host, port: port)
        var clientTLS: ClientTLS?
        if let tls {
            guard let leader = apiAddresses.first(where: { $0.value == leaderAPI })?.key else {
                throw APIError(.unavailable, "leader address \(leaderAPI) is not a member's API address")
            }
            clientTLS = tls.toNode(leader)
        }
        let response: OutboundHTTPResponse
        do {
            response = try await NIOHTTPCaller.exchange(
                group: group, head: head, body: Data(body.readableBytesView), limit: Self.maxAnswerBytes,
                timeout: .milliseconds(Int64(timeout * 1000)), connectTimeout: .seconds(2), target: leaderAPI,
                tls: clientTLS
            ) { bootstrap in
                if let literal { return bootstrap.connect(to: literal) }
                return bootstrap.connect(host: host, port: port)
            }
        } catch {
            // The leader may have received and applied it: the outcome is unknown.
            throw APIError(.unavailable, "forwarding to the leader at \(leaderAPI) failed: \(error)",
                           outcome: .unknown, leader: leaderAPI)
        }
        guard response.bodyPrefix.count < Self.maxAnswerBytes else {
            throw APIError(.unavailable, "the leader's answer exceeds \(Self.maxAnswerBytes) bytes", outcome: .unknown, leader: leaderAPI)
        }
        return Answer(
            status: response.status, body: response.bodyPrefix,
            contentType: response.headers["content-type"],
            raftIndex: response.headers[APIHeader.raftIndex.lowercased()].flatMap(UInt64.init),
            raftTerm: response.headers[APIHeader.raftTerm.lowercased()])
    }
}
