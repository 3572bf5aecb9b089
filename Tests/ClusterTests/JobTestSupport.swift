import Foundation
import Testing

/// Helpers for the job cluster tests: task listings of one job, a minimal RFC 4180 parser
/// (independent of the Preprocess module's) and directory checks.
extension JobClient {
    /// Creates a job through `node`; returns its id (records an issue and throws on refusal).
    static func create(_ template: String, _ parameters: [String: Any], cluster: LocalCluster, node: Int) async throws -> String {
        let started = Date()
        let reply = try await HTTP.send("POST", "http://\(cluster.api(node))/v1/jobs",
                                        body: HTTP.json(["template": template, "parameters": parameters]))
        let took = Date().timeIntervalSince(started)
        #expect(reply.status == 201, """
            \(String(decoding: reply.body, as: UTF8.self)) after \(took) s; node logs:
            \(cluster.members.map { "n\($0.id): " + cluster.log($0.id).split(separator: "\n").filter { !$0.contains("internal/commands") && !$0.contains("GET /v1/cluster") }.joined(separator: "\n    ") }.joined(separator: "\n"))
            """)
        guard let id = reply.json?["id"] as? String else { throw ClusterError.setup("job not created: \(reply.status)") }
        return id
    }

    /// Every task of `job` (they live in the `_jobs` queue), from the first running node that
    /// answers; empty if none does.
    static func tasks(_ job: String, cluster: LocalCluster) async -> [[String: Any]] {
        for member in cluster.members where cluster.isRunning(member.id) {
            var out: [[String: Any]] = []
            var token: String?
            var complete = false
            for _ in 0..<50 {
                var url = "http://\(cluster.api(member.id))/v1/queues/_jobs/tasks?pageSize=1000"
                if let token { url += "&pageToken=\(token)" }
                guard let reply = try? await HTTP.send("GET", url, timeout: 5), reply.status == 200, let json = reply.json else { break }
                out += ((json["tasks"] as? [[String: Any]]) ?? []).filter { $0["jobId"] as? String == job }
                token = json["nextPageToken"] as? String
                if token == nil || token == "" {
                    complete = true
                    break
                }
            }
            if complete { return out }
        }
        return []
    }

    /// Names in `dir`, sorted (empty when it does not exist).
    static func names(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    /// Polls (bounded) until `path` no longer exists; returns whether it is gone.
    static func waitUntilGone(_ path: URL, seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !FileManager.default.fileExists(atPath: path.path) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return !FileManager.default.fileExists(atPath: path.path)
    }
}

/// A deterministic generator for test data (64-bit LCG, high bits).
struct TestRandom {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(bound))
    }
    mutating func pick<T>(_ items: [T]) -> T { items[next(items.count)] }
}

/// RFC 4180, written for these tests: records of fields; quoted fields may hold `,`, `""`, CR
/// and LF; records end in LF or CRLF; a field that is never closed marks the record malformed
/// (the tests never generate one). Whole text in memory: test data is a few MB.
enum SimpleCSV {
    static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var afterQuote = false
        let bytes = Array(text.utf8)
        var i = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll()
            afterQuote = false
        }
        while i < bytes.count {
            let b = bytes[i]
            if quoted {
                if b == 0x22 {
                    if i + 1 < bytes.count && bytes[i + 1] == 0x22 {
                        field.append(0x22)
                        i += 1
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    field.append(b)
                }
            } else if b == 0x22 && field.isEmpty && !afterQuote {
                quoted = true
            } else if b == 0x2C {
                endField()
            } else if b == 0x0A || (b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A) {
                if b == 0x0D { i += 1 }
                endField()
                if !(fields.count == 1 && fields[0].isEmpty) { records.append(fields) }
                fields = []
            } else {
                field.append(b)
            }
            i += 1
        }
        if !field.isEmpty || !fields.isEmpty {
            endField()
            records.append(fields)
        }
        return records
    }

    static func line(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: ",")
    }
}
