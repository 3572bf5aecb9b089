import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import TestSupport
#endif

/// Issue 10: authentication, roles and the bad-input catalogue B1–B10 of RELIABILITY.md §3.5
/// against one live three-node cluster (`SecurityCluster`). Every case is named, expects a 4xx
/// (or a closed connection), and then checks the node it hit is still healthy: `/healthz`
/// answers and a write still commits. Serialized: the connection-limit case must not make other
/// cases' connections count against the per-client limit.
@Suite(.serialized, .ownThreads) struct SecurityTests {
    typealias Cluster = SecurityCluster

    struct Call: Sendable, CustomTestStringConvertible {
        var name: String
        var method = "POST"
        var path: String
        var token: String?
        var body: Data?
        var contentType = "application/json"
        var expected: Int
        var code: String?
        var node = 2
        var testDescription: String { name }
    }

    static func json(_ object: Any) -> Data { HTTP.json(object) }
    static let task = json(["kind": "sleep", "payload": ["ms": 1]])

    // MARK: authentication and roles

    static let auth: [Call] = [
        Call(name: "no token", method: "GET", path: "/v1/queues", expected: 401, code: "UNAUTHENTICATED"),
        Call(name: "unknown token", method: "GET", path: "/v1/queues", token: "trm_guess", expected: 401, code: "UNAUTHENTICATED"),
        Call(name: "token with a suffix", method: "GET", path: "/v1/queues", token: Cluster.viewer + "x", expected: 401),
        Call(name: "no token on an unknown path", method: "GET", path: "/v1/nothing", expected: 401),
        Call(name: "no token creating a task", path: "/v1/queues/q1/tasks", body: task, expected: 401, node: 3),
        Call(name: "viewer creates a queue", path: "/v1/queues", token: Cluster.viewer, body: json(["name": "v"]), expected: 403,
             code: "PERMISSION_DENIED"),
        Call(name: "viewer creates a task", path: "/v1/queues/q1/tasks", token: Cluster.viewer, body: task, expected: 403),
        Call(name: "viewer creates a job", path: "/v1/jobs", token: Cluster.viewer, body: json(["template": "wordcount"]), expected: 403),
        Call(name: "viewer adds a member", path: "/v1/cluster/members", token: Cluster.viewer, body: json(["id": 9]), expected: 403),
        Call(name: "viewer creates a schedule", path: "/v1/schedules", token: Cluster.viewer, body: json(["name": "s"]), expected: 403),
        Call(name: "submitter creates a queue", path: "/v1/queues", token: Cluster.submitter, body: json(["name": "s"]), expected: 403),
        Call(name: "submitter in a queue it may not use", path: "/v1/queues/q2/tasks", token: Cluster.submitter, body: task, expected: 403),
        Call(name: "submitter deletes a queue", method: "DELETE", path: "/v1/queues/q1", token: Cluster.submitter, expected: 403),
        Call(name: "submitter purges a queue", path: "/v1/queues/q1:purge", token: Cluster.submitter, expected: 403),
        Call(name: "submitter pauses a queue", path: "/v1/queues/q1:pause", token: Cluster.submitter, expected: 403, node: 1),
        Call(name: "submitter transfers leadership", path: "/v1/cluster/transfer", token: Cluster.submitter, body: json(["to": 2]),
             expected: 403),
        Call(name: "submitter removes a member", method: "DELETE", path: "/v1/cluster/members/3", token: Cluster.submitter, expected: 403),
        Call(name: "unsigned internal command batch", path: "/v1/internal/commands", token: Cluster.admin, body: Data([1, 2, 3]),
             contentType: "application/octet-stream", expected: 401),
        Call(name: "unsigned snapshot download", method: "GET", path: "/v1/internal/snapshots/x/data", expected: 401),
        Call(name: "no token on metrics that are not public", method: "GET", path: "/metrics", expected: 401),
        Call(name: "viewer reads metrics that are not public", method: "GET", path: "/metrics", token: Cluster.viewer, expected: 200),
    ]

    @Test(arguments: auth)
    func authentication(_ c: Call) async throws {
        try await check(c)
    }

    @Test func rolesAllowWhatTheyShouldThroughEveryNode() async throws {
        let cluster = try await Cluster.get()
        for node in 1...3 {
            #expect(try await cluster.send("GET", node, "/healthz").status == 200, "healthz is open")
            #expect(try await cluster.send("GET", node, "/v1/queues", token: Cluster.viewer).status == 200)
            let created = try await cluster.send("POST", node, "/v1/queues/q1/tasks", token: Cluster.submitter, json: ["kind": "sleep"])
            #expect(created.status == 201, "a submitter's task through n\(node) (forwarded by followers)")
            let name = "adm\(node)-\(UUID().uuidString.prefix(8))"
            #expect(try await cluster.send("POST", node, "/v1/queues", token: Cluster.admin, json: ["name": name]).status == 201)
            #expect(try await cluster.send("DELETE", node, "/v1/queues/\(name)", token: Cluster.admin).status == 200)
        }
        let denied = try await cluster.send("GET", 1, "/v1/queues")
        #expect(denied.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
    }

    @Test func adminActionsAndRefusalsAreAuditedByNameNeverByToken() async throws {
        let cluster = try await Cluster.get()
        let name = "audited-\(UUID().uuidString.prefix(8))"
        #expect(try await cluster.send("POST", 1, "/v1/queues", token: Cluster.admin, json: ["name": name]).status == 201)
        #expect(try await cluster.send("POST", 1, "/v1/queues/\(name):pause", token: Cluster.admin).status == 200)
        #expect(try await cluster.send("POST", 1, "/v1/queues", token: "trm_wrong-\(name)", json: ["name": "x"]).status == 401)
        #expect(try await cluster.send("POST", 1, "/v1/queues/\(name):purge", token: Cluster.viewer).status == 403)
        let lines = cluster.auditLines()
        #expect(lines.contains { $0.contains("who=ops") && $0.contains("path=/v1/queues") && $0.contains("status=201") })
        #expect(lines.contains { $0.contains("who=ops") && $0.contains("/v1/queues/\(name):pause") })
        #expect(lines.contains { $0.contains("status=401") && $0.contains("unknown token") })
        #expect(lines.contains { $0.contains("who=dash") && $0.contains("status=403") && $0.contains(":purge") })
        let everything = cluster.cluster.members.map { cluster.cluster.log($0.id) }.joined()
        for secret in [Cluster.admin, Cluster.submitter, Cluster.viewer, "trm_wrong-\(name)"] {
            #expect(!everything.contains(secret), "a token never reaches the log")
        }
    }

    /// `trireme --token` reaches a node with authentication on; without it the CLI says 401;
    /// `trireme token new` prints a token and a config entry whose hash matches it.
    @Test func theCLISendsItsTokenAndMintsNewOnes() async throws {
        let cluster = try await Cluster.get()
        let server = cluster.cluster.api(2)
        let denied = try await CLI.run(cluster.cluster.binary, ["queue", "list", "--server", server])
        #expect(denied.status != 0 && denied.output.contains("UNAUTHENTICATED"), "\(denied.output)")
        let allowed = try await CLI.run(cluster.cluster.binary, ["queue", "list", "--server", server, "--token", Cluster.viewer])
        #expect(allowed.status == 0 && allowed.output.contains("q1"), "\(allowed.output)")
        let minted = try await CLI.run(cluster.cluster.binary, ["token", "new", "--name", "x", "--role", "submitter", "--queue", "q1"])
        let token = minted.output.split(separator: "\n").first { $0.hasPrefix("token:") }.map { $0.dropFirst(6).trimmingCharacters(in: .whitespaces) }
        let minted2 = try #require(token)
        #expect(minted.output.contains("\"sha256\":\"\(RawHTTP.sha256Hex(minted2))\""), "\(minted.output)")
        #expect(minted.output.contains("\"role\":\"submitter\"") && minted.output.contains("\"queues\":[\"q1\"]"))
    }

    // MARK: B1–B6: bodies, numbers, times, identifiers

    static let bodies: [Call] = [
        Call(name: "B1 truncated JSON", path: "/v1/queues/q1/tasks", body: Data(#"{"kind": "sleep""#.utf8), expected: 400),
        Call(name: "B1 wrong content type", path: "/v1/queues/q1/tasks", body: task, contentType: "text/plain", expected: 415),
        Call(name: "B1 invalid UTF-8", path: "/v1/queues/q1/tasks", body: Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]), expected: 400),
        Call(name: "B1 null instead of an object", path: "/v1/queues/q1/tasks", body: Data("null".utf8), expected: 400),
        Call(name: "B1 array instead of an object", path: "/v1/queues/q1/tasks", body: Data("[]".utf8), expected: 400),
        Call(name: "B1 unknown field", path: "/v1/queues/q1/tasks", body: json(["kind": "sleep", "extra": 1]), expected: 400),
        Call(name: "B1 empty body", path: "/v1/queues/q1/tasks", body: Data(), expected: 400),
        Call(name: "B2 nesting 10^4 deep", path: "/v1/queues/q1/tasks",
             body: Data((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8), expected: 400),
        Call(name: "B2 nesting 10^5 deep (over the body cap)", path: "/v1/queues/q1/tasks",
             body: Data(String(repeating: "[", count: 100_000).utf8), expected: 413),
        Call(name: "B2 nesting inside the payload", path: "/v1/queues/q1/tasks",
             body: Data((#"{"kind":"sleep","payload":"# + String(repeating: #"{"a":"#, count: 200) + "1" + String(repeating: "}", count: 201)).utf8),
             expected: 400),
        Call(name: "B2 nesting 20 deep (over this node's maxJSONDepth 16, under the default 32)", path: "/v1/queues/q1/tasks",
             body: Data((#"{"kind":"sleep","payload":"# + String(repeating: "[", count: 19) + String(repeating: "]", count: 19) + "}").utf8),
             expected: 400),
        Call(name: "B2 huge string", path: "/v1/queues/q1/tasks", body: json(["kind": String(repeating: "k", count: 200_000)]), expected: 413),
        Call(name: "B3 body above the cap", path: "/v1/queues/q1/tasks",
             body: json(["kind": "sleep", "payload": ["blob": String(repeating: "x", count: 70_000)]]), expected: 413),
        Call(name: "B4 Int64.max + 1", path: "/v1/queues/q1/tasks",
             body: Data(#"{"kind":"sleep","dispatchDeadlineMs":9223372036854775808}"#.utf8), expected: 400),
        Call(name: "B4 negative deadline", path: "/v1/queues/q1/tasks", body: json(["kind": "sleep", "dispatchDeadlineMs": -5]), expected: 400),
        Call(name: "B4 1e309", path: "/v1/queues/q1/tasks", body: Data(#"{"kind":"sleep","dispatchDeadlineMs":1e309}"#.utf8), expected: 400),
        Call(name: "B4 NaN as a string", path: "/v1/queues/q1/tasks", body: Data(#"{"kind":"sleep","dispatchDeadlineMs":"NaN"}"#.utf8),
             expected: 400),
        Call(name: "B4 max attempts below -1", path: "/v1/queues", token: Cluster.admin,
             body: json(["name": "neg", "retryConfig": ["maxAttempts": -2]]), expected: 400),
        Call(name: "B4 negative backoff", path: "/v1/queues", token: Cluster.admin,
             body: json(["name": "neg", "retryConfig": ["minBackoffMs": -1]]), expected: 400),
        Call(name: "B4 priority-like overflow in rate limits", path: "/v1/queues", token: Cluster.admin,
             body: Data(#"{"name":"neg","rateLimits":{"maxDispatchesPerSecond":1e400}}"#.utf8), expected: 400),
        Call(name: "B5 year 10000", path: "/v1/queues/q1/tasks", body: json(["kind": "sleep", "scheduleTime": "10000-01-01T00:00:00Z"]),
             expected: 400),
        Call(name: "B5 not ISO 8601", path: "/v1/queues/q1/tasks", body: json(["kind": "sleep", "scheduleTime": "next tuesday"]), expected: 400),
        Call(name: "B5 29 February of a common year", path: "/v1/queues/q1/tasks",
             body: json(["kind": "sleep", "scheduleTime": "2027-02-29T00:00:00Z"]), expected: 400),
        Call(name: "B5 30 February", path: "/v1/queues/q1/tasks", body: json(["kind": "sleep", "scheduleTime": "2026-02-30T00:00:00Z"]),
             expected: 400),
        Call(name: "B6 empty queue name", path: "/v1/queues", token: Cluster.admin, body: json(["name": ""]), expected: 400),
        Call(name: "B6 10k-character queue name", path: "/v1/queues", token: Cluster.admin,
             body: json(["name": String(repeating: "q", count: 10_000)]), expected: 400),
        Call(name: "B6 dot-dot queue name", path: "/v1/queues", token: Cluster.admin, body: json(["name": ".."]), expected: 400),
        Call(name: "B6 slash in a queue name", path: "/v1/queues", token: Cluster.admin, body: json(["name": "a/b"]), expected: 400),
        Call(name: "B6 NUL in a queue name", path: "/v1/queues", token: Cluster.admin, body: json(["name": "a\u{0}b"]), expected: 400),
        Call(name: "B6 control character in a task name", path: "/v1/queues/q1/tasks", body: json(["kind": "sleep", "name": "t\n1"]),
             expected: 400),
        Call(name: "B6 fullwidth confusable queue name", path: "/v1/queues", token: Cluster.admin, body: json(["name": "ｑ１"]), expected: 400),
        Call(name: "B6 combining accent in a queue name", path: "/v1/queues", token: Cluster.admin, body: json(["name": "qe\u{301}"]),
             expected: 400),
    ]

    @Test(arguments: bodies)
    func badBodies(_ c: Call) async throws {
        var call = c
        if call.token == nil { call.token = Cluster.submitter }
        try await check(call)
    }

    /// A job whose plan would create more tasks than `maxTasksPerBatch` (8 here; 12 inputs) is
    /// refused before anything is proposed; a smaller one is taken.
    @Test func aJobPlanningMoreTasksThanTheBatchLimitIsRefused() async throws {
        let cluster = try await Cluster.get()
        let many = try await cluster.send("POST", 2, "/v1/jobs", token: Cluster.submitter,
                                          json: ["template": "wordcount", "parameters": ["inputFile": "many/*.txt", "output": "out/many"]])
        #expect(many.status == 400 && String(decoding: many.body, as: UTF8.self).contains("maxTasksPerBatch"),
                "\(String(decoding: many.body, as: UTF8.self))")
        let few = try await cluster.send("POST", 2, "/v1/jobs", token: Cluster.submitter,
                                         json: ["template": "wordcount", "parameters": ["inputFile": "many/f1*.txt", "output": "out/few"]])
        #expect(few.status == 201, "\(String(decoding: few.body, as: UTF8.self))")
        #expect(await cluster.healthy(2) == nil)
    }

    /// B6: an idempotency key reused with a different payload.
    @Test func anIdempotencyKeyReusedWithAnotherPayloadIsRefused() async throws {
        let cluster = try await Cluster.get()
        let key = ["Idempotency-Key": "key-\(UUID().uuidString)"]
        let first = try await cluster.send("POST", 2, "/v1/queues/q1/tasks", token: Cluster.submitter, json: ["kind": "sleep"], headers: key)
        #expect(first.status == 201)
        let second = try await cluster.send("POST", 2, "/v1/queues/q1/tasks", token: Cluster.submitter,
                                            json: ["kind": "sleep", "payload": ["other": true]], headers: key)
        #expect((400..<500).contains(second.status), "\(second.status)")
        #expect(await cluster.healthy(2) == nil)
    }

    // MARK: B9: paths

    struct PathCase: Sendable, CustomTestStringConvertible {
        var name: String
        var parameter: String
        /// `CANARY` is replaced by the canary's absolute path.
        var value: String
        var testDescription: String { name }
    }

    static let paths: [PathCase] = [
        PathCase(name: "dot-dot to the canary", parameter: "inputFile", value: "../canary.txt"),
        PathCase(name: "dot-dot inside then out", parameter: "inputFile", value: "sub/../../canary.txt"),
        PathCase(name: "absolute path to the canary", parameter: "inputFile", value: "CANARY"),
        PathCase(name: "/etc/passwd", parameter: "inputFile", value: "/etc/passwd"),
        PathCase(name: "percent-encoded traversal", parameter: "inputFile", value: "%2e%2e%2fcanary.txt"),
        PathCase(name: "double-encoded traversal", parameter: "inputFile", value: "%252e%252e%252fcanary.txt"),
        PathCase(name: "NUL byte", parameter: "inputFile", value: "in.txt\u{0}../canary.txt"),
        PathCase(name: "symlink inside the root pointing out", parameter: "inputFile", value: "link.txt"),
        PathCase(name: "glob matching the outside symlink", parameter: "inputFile", value: "l*.txt"),
        PathCase(name: "hard link to the canary", parameter: "inputFile", value: "hard.txt"),
        PathCase(name: "output outside the root", parameter: "output", value: "../escaped/out"),
        PathCase(name: "absolute output elsewhere", parameter: "output", value: "/tmp/trireme-escape/out"),
        PathCase(name: "temp location outside the root", parameter: "tempLocation", value: "../tmp"),
    ]

    @Test(arguments: paths)
    func pathTraversal(_ c: PathCase) async throws {
        let cluster = try await Cluster.get()
        var parameters = ["inputFile": "in.txt", "output": "out/x"]
        parameters[c.parameter] = c.value.replacingOccurrences(of: "CANARY", with: cluster.canaryFile.path)
        let before = Self.accessTime(cluster.canaryFile)
        let reply = try await cluster.send("POST", 3, "/v1/jobs", token: Cluster.admin,
                                           json: ["template": "wordcount", "parameters": parameters])
        #expect(reply.status == 400, "\(c.name): \(String(decoding: reply.body, as: UTF8.self))")
        #expect(Self.accessTime(cluster.canaryFile) == before, "the canary was read")
        #expect(!FileManager.default.fileExists(atPath: cluster.folder.appendingPathComponent("escaped").path))
        #expect(await cluster.healthy(3) == nil)
    }

    /// The canary's access time (a read moves it forward on relatime mounts, since the suite
    /// sets it before the modification time).
    static func accessTime(_ url: URL) -> Int {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return -1 }
        return Int(st.st_atim.tv_sec) * 1_000_000_000 + Int(st.st_atim.tv_nsec)
    }

    // MARK: B10: SSRF

    static let ssrf: [(String, String)] = [
        ("loopback", "http://127.0.0.1:PORT/"), ("decimal loopback", "http://2130706433:PORT/"),
        ("hex loopback", "http://0x7f000001:PORT/"), ("octal loopback", "http://017700000001:PORT/"),
        ("short loopback", "http://127.1:PORT/"), ("IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:PORT/"),
        ("IPv6 loopback", "http://[::1]:PORT/"), ("unspecified", "http://0.0.0.0:PORT/"),
        ("metadata", "http://169.254.169.254/latest/meta-data/"), ("RFC 1918", "http://10.0.0.1:PORT/"),
        ("ULA", "http://[fd00::1]:PORT/"), ("CGNAT", "http://100.64.0.1:PORT/"),
        ("userinfo trick", "http://203.0.113.7@127.0.0.1:PORT/"), ("file scheme", "file:///etc/passwd"),
        ("gopher scheme", "gopher://127.0.0.1:PORT/_x"), ("ftp scheme", "ftp://127.0.0.1:PORT/"),
    ]

    @Test(arguments: ssrf)
    func ssrfTargetsAreRefusedAtCreation(_ name: String, _ url: String) async throws {
        let cluster = try await Cluster.get()
        let target = url.replacingOccurrences(of: "PORT", with: "\(cluster.canaryPort)")
        let reply = try await cluster.send("POST", 1, "/v1/queues/q1/tasks", token: Cluster.submitter,
                                           json: ["kind": "http", "payload": ["url": target]])
        #expect(reply.status == 400, "\(name): \(String(decoding: reply.body, as: UTF8.self))")
        #expect(cluster.canaryHits() == 0)
        #expect(await cluster.healthy(1) == nil)
    }

    /// A name is resolved when the attempt runs, and its address checked then: `localhost`
    /// resolves to loopback, which this cluster does not allow. The attempt fails; the canary
    /// sees nothing.
    @Test func aNameResolvingToLoopbackFailsItsAttemptWithoutAConnection() async throws {
        let cluster = try await Cluster.get()
        let created = try await cluster.send("POST", 1, "/v1/queues/q1/tasks", token: Cluster.submitter,
                                             json: ["kind": "http", "payload": ["url": "http://localhost:\(cluster.canaryPort)/"]])
        #expect(created.status == 201)
        let id = try #require(created.json?["id"] as? String)
        var lastError: String?
        let deadline = Date().addingTimeInterval(30)
        while lastError == nil && Date() < deadline {
            let task = try await cluster.send("GET", 1, "/v1/queues/q1/tasks/\(id)", token: Cluster.viewer)
            lastError = task.json?["lastError"] as? String
            if lastError == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(lastError?.contains("http target refused") == true, "\(lastError ?? "no attempt within the bound")")
        #expect(cluster.canaryHits() == 0)
    }

    // MARK: helpers

    func check(_ c: Call) async throws {
        let cluster = try await Cluster.get()
        let reply = try await cluster.send(c.method, c.node, c.path, token: c.token, body: c.body, contentType: c.contentType)
        let text = String(decoding: reply.body.prefix(300), as: UTF8.self)
        #expect(reply.status == c.expected, "\(c.name): \(text)")
        if let code = c.code { #expect(reply.errorCode == code, "\(c.name): \(text)") }
        if reply.status == 401, !c.path.hasPrefix("/v1/internal/") {
            #expect(reply.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        }
        #expect(await cluster.healthy(c.node) == nil)
    }
}
