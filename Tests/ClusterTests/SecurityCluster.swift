import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One three-node cluster with authentication and small limits, shared by every security test
/// case (started on first use, killed at process exit): each case is a named test, but the
/// cluster starts once.
///
/// Tokens: `ops` (admin), `ci` (submitter, queues `q1` and `health`), `dash` (viewer). Limits:
/// 64 KiB bodies, 4 KiB headers, 2 KiB URLs, JSON depth 16, 24 connections per client, 3 s idle
/// and 1 s body-read timeouts; `/metrics` not public (it needs a token).
/// HTTP tasks may reach only 203.0.113.0/24 (documentation addresses: never contacted), so every
/// loopback spelling is refused; a canary file lies next to the data root and a canary socket
/// listens on 127.0.0.1.
final class SecurityCluster: Sendable {
    static let admin = "trm_admin-token-for-tests-0000000000000000000001"
    static let submitter = "trm_submitter-token-for-tests-00000000000000002"
    static let viewer = "trm_viewer-token-for-tests-0000000000000000003"

    let cluster: LocalCluster
    let folder: URL
    let dataRoot: URL
    let canaryFile: URL
    let canaryFD: Int32
    let canaryPort: Int

    private static let shared = Mutex<Task<SecurityCluster, any Error>?>(nil)

    /// The suite's cluster, started once (concurrent first callers share the start).
    static func get() async throws -> SecurityCluster {
        let task = shared.withLock { task in
            if let task { return task }
            let started = Task { try await SecurityCluster() }
            task = started
            return started
        }
        let cluster = try await task.value
        started.withLock { $0 = cluster }
        return cluster
    }

    private init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("trireme-security-\(UUID().uuidString)")
        dataRoot = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: dataRoot, withIntermediateDirectories: true)
        canaryFile = folder.appendingPathComponent("canary.txt")
        try Data("CANARY-SECRET\n".utf8).write(to: canaryFile)
        // Access time before modification time: any later read moves it (relatime), which the
        // path tests check.
        var times = [timeval(tv_sec: time(nil) - 3_600, tv_usec: 0), timeval(tv_sec: time(nil), tv_usec: 0)]
        _ = utimes(canaryFile.path, &times)
        try Data("inside\n".utf8).write(to: dataRoot.appendingPathComponent("in.txt"))
        let many = dataRoot.appendingPathComponent("many")
        try FileManager.default.createDirectory(at: many, withIntermediateDirectories: true)
        for i in 0..<12 { try Data("word \(i)\n".utf8).write(to: many.appendingPathComponent("f\(i).txt")) }
        try FileManager.default.createSymbolicLink(atPath: dataRoot.appendingPathComponent("link.txt").path,
                                                   withDestinationPath: canaryFile.path)
        try FileManager.default.linkItem(atPath: canaryFile.path, toPath: dataRoot.appendingPathComponent("hard.txt").path)
        (canaryFD, canaryPort) = try RawHTTP.listen()
        let token: (String, String, String, [String]?) -> [String: Any] = { name, token, role, queues in
            var entry: [String: Any] = ["name": name, "sha256": RawHTTP.sha256Hex(token), "role": role]
            if let queues { entry["queues"] = queues }
            return entry
        }
        let security: [String: Any] = [
            "tokens": [token("ops", Self.admin, "admin", nil), token("ci", Self.submitter, "submitter", ["q1", "health"]),
                       token("dash", Self.viewer, "viewer", nil)],
            "maxHeaderBytes": 4_096, "maxURLBytes": 2_048, "maxConnectionsPerClient": 24,
            "idleTimeoutMs": 3_000, "requestReadTimeoutMs": 1_000, "maxJSONDepth": 16, "maxTasksPerBatch": 8,
        ]
        cluster = try LocalCluster(extraConfig: [
            "security": security, "maxRequestBytes": 65_536, "dataRoot": dataRoot.path, "testTaskKinds": true,
            "allowedTargets": ["203.0.113.0/24"], "logLevel": "info", "metricsPublic": false,
        ])
        cluster.statusToken = Self.viewer
        atexit { SecurityCluster.releaseAtExit() }
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        for queue in ["q1", "q2", "health"] {
            let reply = try await send("POST", 1, "/v1/queues", token: Self.admin, json: ["name": queue, "retryConfig": ["maxAttempts": 1]])
            guard reply.status == 201 || reply.status == 409 else { throw ClusterError.setup("queue \(queue): \(reply.status)") }
        }
        // Health writes go to a paused queue: they are committed, never run.
        _ = try await send("POST", 1, "/v1/queues/health:pause", token: Self.admin)
    }

    private static let started = Mutex<SecurityCluster?>(nil)

    private static func releaseAtExit() {
        guard let shared = started.withLock({ $0 }) else { return }
        close(shared.canaryFD)
        // TRIREME_KEEP_LOGS=1 keeps the folder (node logs) for a post-mortem.
        if ProcessInfo.processInfo.environment["TRIREME_KEEP_LOGS"] != nil {
            for member in shared.cluster.members { shared.cluster.kill9(member.id) }
            print("security cluster logs kept in \(shared.cluster.root.path)")
            return
        }
        shared.cluster.shutdown()
        try? FileManager.default.removeItem(at: shared.folder)
    }

    func url(_ node: Int, _ path: String) -> String { "http://\(cluster.api(node))\(path)" }

    /// One request; a 503 "not applied" (no leader: an election on a CPU-starved machine) is
    /// retried, as a client should, for up to 10 s, unless `retryUnavailable` is false.
    func send(_ method: String, _ node: Int, _ path: String, token: String? = nil, json: Any? = nil,
              body: Data? = nil, contentType: String? = "application/json", headers: [String: String] = [:],
              retryUnavailable: Bool = true) async throws -> HTTP.Reply {
        var all = headers
        if let token { all["Authorization"] = "Bearer \(token)" }
        let data = body ?? json.map { HTTP.json($0) }
        let deadline = Date().addingTimeInterval(10)
        while true {
            let reply = try await HTTP.send(method, url(node, path), body: data, contentType: contentType, headers: all)
            let notApplied = ((reply.json?["error"] as? [String: Any])?["outcome"] as? String) == "not_applied"
            guard retryUnavailable, reply.status == 503, notApplied, Date() < deadline else { return reply }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The node answers `/healthz` and still takes a write (through a follower too).
    func healthy(_ node: Int) async -> String? {
        guard let health = try? await HTTP.send("GET", url(node, "/healthz"), timeout: 5), health.status == 200 else {
            return "n\(node) /healthz did not answer 200"
        }
        let task: [String: Any] = ["kind": "sleep", "payload": ["ms": 1]]
        guard let write = try? await send("POST", node, "/v1/queues/health/tasks", token: Self.admin, json: task),
              write.status == 201 else {
            return "n\(node) refused a write afterwards"
        }
        return nil
    }

    /// Connections that reached the canary socket so far (drains its backlog).
    func canaryHits() -> Int {
        _ = fcntl(canaryFD, F_SETFL, fcntl(canaryFD, F_GETFL) | O_NONBLOCK)
        var count = 0
        while true {
            let client = accept(canaryFD, nil, nil)
            guard client >= 0 else { return count }
            close(client)
            count += 1
        }
    }

    func auditLines() -> [String] {
        cluster.members.flatMap { cluster.log($0.id).split(separator: "\n").map(String.init) }.filter { $0.contains("trireme.audit") }
    }
}
