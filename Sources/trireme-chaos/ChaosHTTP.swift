import API
import Chaos
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Nanoseconds on the wall clock, the one clock the workload and the fault scripts share.
func nowNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// One request to one node, classified the way the history needs it.
struct ChaosHTTP: Sendable {
    struct Reply: Sendable {
        var status: Int
        var body: Data
    }

    let timeout: TimeInterval

    /// The raw exchange; throws only for transport errors (refused, reset, timed out).
    func send(_ method: String, server: String, path: String, body: Data? = nil,
              headers: [String: String] = [:]) async throws -> Reply {
        guard let url = URL(string: "http://\(server)\(path)") else { throw ChaosError.setup("bad address \(server)\(path)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw ChaosError.setup("not an HTTP response") }
        return Reply(status: http.statusCode, body: data)
    }

    /// Outcome as a history records it: 2xx ok; a transport error, or a 5xx whose error says
    /// `outcome: unknown` (or cannot be read), unknown; any other error answer a definite failure.
    func classify(_ reply: Result<Reply, any Error>) -> (ClientOp.Outcome, String?) {
        switch reply {
        case .failure(let error):
            return (.unknown, "transport: \(String(describing: error).prefix(120))")
        case .success(let reply) where (200..<300).contains(reply.status):
            return (.ok, nil)
        case .success(let reply):
            let text = String(decoding: reply.body.prefix(200), as: UTF8.self)
            guard let error = try? JSONDecoder().decode(APIErrorBody.self, from: reply.body) else {
                return (reply.status >= 500 ? .unknown : .fail, "HTTP \(reply.status) \(text)")
            }
            return (error.error.outcome == .unknown ? .unknown : .fail, "HTTP \(reply.status) \(error.error.code.rawValue)")
        }
    }

    /// Sends, retrying transport errors and 5xx on the given servers in turn until `deadline`;
    /// for setup and final reads, never for recorded operations.
    func insist(_ method: String, servers: [String], path: String, body: Data? = nil,
                headers: [String: String] = [:], deadline: ContinuousClock.Instant) async throws -> Reply {
        var attempt = 0
        var last = "no attempt"
        while ContinuousClock.now < deadline {
            let server = servers[attempt % servers.count]
            attempt += 1
            do {
                let reply = try await send(method, server: server, path: path, body: body, headers: headers)
                if reply.status < 500 { return reply }
                last = "\(server): HTTP \(reply.status) \(String(decoding: reply.body.prefix(200), as: UTF8.self))"
            } catch {
                last = "\(server): \(error)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ChaosError.unavailable("\(method) \(path): \(last)")
    }

    func decode<T: Decodable>(_ type: T.Type, _ reply: Reply, what: String) throws -> T {
        guard (200..<300).contains(reply.status) else {
            throw ChaosError.unavailable("\(what): HTTP \(reply.status) \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: reply.body)
        } catch {
            throw ChaosError.unavailable("\(what): undecodable answer: \(error)")
        }
    }
}

enum ChaosError: Error, CustomStringConvertible {
    case setup(String)
    case unavailable(String)

    var description: String {
        switch self {
        case .setup(let why): "setup: \(why)"
        case .unavailable(let why): "cluster unavailable: \(why)"
        }
    }
}
