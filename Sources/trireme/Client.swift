import API
import Foundation
import Node
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small JSON-over-HTTP client for the CLI. Tries the given nodes in order until one answers;
/// any node accepts any request (followers forward writes to the leader).
struct APIClient: Sendable {
    let servers: [String]
    let timeout: TimeInterval
    /// `--cacert` / `TRIREME_CACERT`: the cluster speaks HTTPS and its certificates come from this CA.
    var caFile: String? = nil
    /// Sent as `Authorization: Bearer <token>` when set.
    var token: String? = nil

    struct Reply: Sendable {
        var status: Int
        var body: Data
        var headers: [String: String]
        var server: String
    }

    enum ClientError: Error, CustomStringConvertible {
        /// Every server tried, in order, with why it failed.
        case unreachable([(server: String, why: String)])
        case api(status: Int, APIError)
        case unexpected(status: Int, String)

        var description: String {
            switch self {
            case .unreachable(let failures):
                let lines = failures.map { "  \($0.server): \($0.why)" }.joined(separator: "\n")
                return "no node answered (tried \(failures.count)):\n\(lines)\n"
                    + "Try: `trireme cluster status --server HOST:PORT` to see which nodes are up; name a running node with "
                    + "--server HOST:PORT (comma-separated for several) or TRIREME_SERVER; a local cluster starts with `cluster/up.sh`."
            case .api(let status, let error):
                return "error \(status) \(error.code.rawValue): \(error.message)" + (error.field.map { " (field: \($0))" } ?? "")
                    + (error.outcome == .unknown ? "\nThe write may still have happened; retry with the same --idempotency-key." : "")
            case .unexpected(let status, let text):
                return "unexpected answer \(status): \(text.prefix(500))"
            }
        }
    }

    func send(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var failures: [(server: String, why: String)] = []
        var headers = headers
        if let token { headers["Authorization"] = "Bearer \(token)" }
        for server in servers {
            if let caFile {
                do {
                    let reply = try await HTTPSExchange.send(method: method, server: server, path: path, body: body,
                                                             headers: headers.merging(body == nil ? [:] : ["Content-Type": "application/json"]) { a, _ in a },
                                                             caFile: caFile, timeout: timeout)
                    return Reply(status: reply.status, body: reply.body, headers: reply.headers, server: server)
                } catch {
                    failures.append((server, "\(error)"))
                }
                continue
            }
            guard let url = URL(string: "http://\(server)\(path)") else {
                failures.append((server, "not a HOST:PORT address"))
                continue
            }
            var request = URLRequest(url: url, timeoutInterval: timeout)
            request.httpMethod = method
            request.httpBody = body
            if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            do {
                let (data, response) = try await URLSession.shared.data(for: request)
                guard let http = response as? HTTPURLResponse else {
                    failures.append((server, "answered, but not with HTTP (is this a Trireme API address, not a peer port?)"))
                    continue
                }
                var replyHeaders: [String: String] = [:]
                for (key, value) in http.allHeaderFields {
                    if let key = key as? String, let value = value as? String { replyHeaders[key.lowercased()] = value }
                }
                return Reply(status: http.statusCode, body: data, headers: replyHeaders, server: server)
            } catch {
                failures.append((server, Self.explain(error, timeout: timeout)))
            }
        }
        throw ClientError.unreachable(failures)
    }

    /// What a failed connection means, in words (URLSession's own text says little on Linux).
    static func explain(_ error: any Error, timeout: TimeInterval) -> String {
        guard let error = error as? URLError else { return error.localizedDescription }
        switch error.code {
        case .cannotConnectToHost:
            return "connection refused: nothing listens there (node not running, or a wrong port)"
        case .timedOut:
            return "no answer within \(timeout.formatted()) s (node overloaded, paused or cut off? try a larger --timeout)"
        case .cannotFindHost, .dnsLookupFailed:
            return "unknown host name"
        case .networkConnectionLost:
            return "the connection dropped before the answer (the node may have stopped)"
        case .notConnectedToInternet:
            return "no network route to it"
        default:
            return error.localizedDescription
        }
    }

    /// Sends and decodes a 2xx JSON answer, or throws the API's error.
    func call<T: Decodable>(_ method: String, _ path: String, body: (any Encodable)? = nil,
                            headers: [String: String] = [:], as type: T.Type) async throws -> (T, Reply) {
        let data = try body.map { try JSONEncoder().encode($0) }
        let reply = try await send(method, path, body: data, headers: headers)
        guard (200..<300).contains(reply.status) else {
            if let error = try? JSONDecoder().decode(APIErrorBody.self, from: reply.body) {
                throw ClientError.api(status: reply.status, error.error)
            }
            throw ClientError.unexpected(status: reply.status, String(decoding: reply.body, as: UTF8.self))
        }
        return (try JSONDecoder().decode(T.self, from: reply.body), reply)
    }
}

/// Percent-encodes one path segment.
func segment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? text
}

extension APIClient {
    /// Long-polls `path` (`?waitIndex=&wait=`, see README "Watch") from the index `after`
    /// carried, until the answer differs from `after`'s body (a wake-up may be spurious) or
    /// `seconds` have passed (then nil). Asks the node that answered `after` first.
    func waitForChange<T: Decodable>(_ path: String, after: Reply, seconds: Double, as type: T.Type) async throws -> (T, Reply)? {
        var last = after
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            guard let index = last.headers[APIHeader.index.lowercased()] else {
                throw ClientError.unexpected(status: last.status, "the node at \(last.server) sent no \(APIHeader.index) header (an older version?)")
            }
            let waitMs = max(1, Int(min(remaining, 60) * 1000))
            let separator = path.contains("?") ? "&" : "?"
            let pinned = APIClient(servers: [last.server] + servers.filter { $0 != last.server }, timeout: timeout + Double(waitMs) / 1000,
                                   caFile: caFile, token: token)
            let (value, reply) = try await pinned.call("GET", "\(path)\(separator)waitIndex=\(index)&wait=\(waitMs)ms", as: T.self)
            if reply.body != last.body { return (value, reply) }
            last = reply
        }
    }
}
