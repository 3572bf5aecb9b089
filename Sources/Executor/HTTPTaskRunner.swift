import Foundation
import Store

/// The `http` kind (a Cloud Tasks HTTP target). Payload, JSON:
/// `{"url": "http://127.0.0.1:8080/hook", "method": "POST", "headers": {"k": "v"},
///   "body": "text" | "bodyBase64": "…", "timeoutMs": 5000}`.
/// A 2xx answer succeeds (result: `{"status": 200, "body": "<first KiB>"}`); any other
/// status (3xx included: redirects are never followed), a transport error, a refused target or a
/// timeout fails the attempt (retried).
public struct HTTPTaskRunner: TaskRunner {
    struct Payload: Decodable {
        var url: String
        var method: String?
        var headers: [String: String]?
        var body: String?
        var bodyBase64: String?
        var timeoutMs: Int64?
    }

    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    /// Set by the node for every request; a task may not set or spoof them.
    static let reservedHeaders: Set<String> = ["host", "content-length", "transfer-encoding", "connection"]
    static let resultBodyBytesMax = 1_024

    let caller: any HTTPCaller
    let allowList: OutboundAllowList

    public init(caller: any HTTPCaller, allowList: OutboundAllowList = .loopbackOnly) {
        self.caller = caller
        self.allowList = allowList
    }

    public func run(_ task: TaskRecord) async -> TaskOutcome {
        let request: OutboundHTTPRequest
        do throws(OutboundRejection) {
            request = try await prepare(task)
        } catch {
            return .failed("http target refused: \(error)")
        }
        do throws(HTTPCallError) {
            let response = try await caller.send(request)
            let snippet = String(decoding: response.bodyPrefix.prefix(Self.resultBodyBytesMax), as: UTF8.self)
            if (300..<400).contains(response.status) {
                // Never followed: the Location could name any host, and following it would skip the
                // allow-list (a 302 from an allowed target to 169.254.169.254 is the classic bypass).
                let location = response.headers["location"].map { " to \($0.prefix(200))" } ?? ""
                return .failed("HTTP \(response.status): redirect\(location) not followed")
            }
            guard (200..<300).contains(response.status) else {
                return .failed("HTTP \(response.status): \(snippet.prefix(200))")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let result = (try? encoder.encode(ResultSummary(status: response.status, body: snippet))) ?? Data()
            return .succeeded(result: result, counters: [:])
        } catch {
            switch error {
            case .timeout: return .failed("HTTP timeout after \(request.timeoutMs) ms")
            case .transport(let reason): return .failed("HTTP transport error: \(reason.prefix(300))")
            }
        }
    }

    struct ResultSummary: Encodable {
        var status: Int
        var body: String
    }

    /// Decodes and checks the payload, resolves the host if it is a name, and applies the
    /// allow-list to every address.
    func prepare(_ task: TaskRecord) async throws(OutboundRejection) -> OutboundHTTPRequest {
        guard let payload = try? JSONDecoder().decode(Payload.self, from: task.payload) else {
            throw .malformedURL("payload is not {\"url\": …} JSON")
        }
        let url = try OutboundURL.parse(payload.url)
        // Scheme and user info first: no DNS query for a URL that is refused anyway.
        try allowList.checkShape(url)
        let addresses: [IPAddress]
        if let literal = url.literalAddress {
            addresses = [literal]
        } else {
            do {
                addresses = try await caller.resolve(host: url.host)
            } catch {
                throw .noAddress
            }
        }
        let target = try allowList.check(url, resolved: addresses)
        let method = (payload.method ?? "POST").uppercased()
        guard Self.methods.contains(method) else { throw .malformedURL("method \(method.prefix(20)) not supported") }
        var body = Data((payload.body ?? "").utf8)
        if let base64 = payload.bodyBase64 {
            guard payload.body == nil, let decoded = Data(base64Encoded: base64) else { throw .malformedURL("bad bodyBase64") }
            body = decoded
        }
        let timeout = min(max(payload.timeoutMs ?? task.dispatchDeadlineMs, 1), max(task.dispatchDeadlineMs, 1))
        return OutboundHTTPRequest(target: target, method: method, headers: try headers(payload.headers ?? [:], task: task),
                                   body: body, timeoutMs: timeout)
    }

    func headers(_ given: [String: String], task: TaskRecord) throws(OutboundRejection) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for (name, value) in given.sorted(by: { $0.key < $1.key }) {
            let lower = name.lowercased()
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte),
                  !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw .malformedURL("bad header '\(name.prefix(40))'")
            }
            if Self.reservedHeaders.contains(lower) || lower.hasPrefix("x-trireme-") { continue }
            result.append((name, value))
        }
        result.append(("X-Trireme-Task-ID", task.id))
        result.append(("X-Trireme-Queue", task.queue))
        result.append(("X-Trireme-Attempt", String(task.attempts)))
        return result
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
