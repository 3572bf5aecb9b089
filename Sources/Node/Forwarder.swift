import API
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Forwards a write that reached a follower to the leader's API and relays its answer: any
/// node accepts any request. A forwarded request carries `Trireme-Forwarded-By`, and a node
/// never forwards such a request again (no loops while leadership moves).
struct Forwarder: Sendable {
    let selfID: UInt64
    let timeout: TimeInterval
    let session: URLSession

    init(selfID: UInt64, timeout: TimeInterval) {
        self.selfID = selfID
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = 64
        self.session = URLSession(configuration: configuration)
    }

    struct Answer: Sendable {
        var status: Int
        var body: Data
        var contentType: String?
        var raftIndex: UInt64?
        var raftTerm: String?
    }

    func forward(method: HTTPRequest.Method, path: String, body: ByteBuffer, contentType: String?, idempotencyKey: String?,
                 to leaderAPI: String) async throws(APIError) -> Answer {
        guard let url = URL(string: "http://\(leaderAPI)\(path)") else {
            throw APIError(.unavailable, "leader address \(leaderAPI) is unusable")
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method.rawValue
        if body.readableBytes > 0 {
            request.httpBody = Data(body.readableBytesView)
        }
        // The leader judges the request as the client sent it.
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let idempotencyKey { request.setValue(idempotencyKey, forHTTPHeaderField: APIHeader.idempotencyKey) }
        request.setValue(String(selfID), forHTTPHeaderField: APIHeader.forwardedBy)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            // The leader may have received and applied it: the outcome is unknown.
            throw APIError(.unavailable, "forwarding to the leader at \(leaderAPI) failed: \(error.localizedDescription)",
                           outcome: .unknown, leader: leaderAPI)
        }
        guard let http = response as? HTTPURLResponse else {
            throw APIError(.unavailable, "the leader gave no HTTP answer", outcome: .unknown, leader: leaderAPI)
        }
        return Answer(
            status: http.statusCode, body: data,
            contentType: http.value(forHTTPHeaderField: "Content-Type"),
            raftIndex: http.value(forHTTPHeaderField: APIHeader.raftIndex).flatMap(UInt64.init),
            raftTerm: http.value(forHTTPHeaderField: APIHeader.raftTerm))
    }
}
