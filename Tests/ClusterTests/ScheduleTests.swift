import Foundation
import Testing

/// Schedules CRUD and firing, task attempts, dead tasks and redrive, and 405s, against three
/// real nodes.
extension ClusterTests {
    @Test func schedulesAreManagedThroughTheAPIAndFireOncePerSlot() async throws {
        let sink = try await FlakySink()
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1
        let api = "http://\(cluster.api(follower))"
        for queue in ["cron", "other"] {
            #expect(try await HTTP.send("POST", "\(api)/v1/queues", body: HTTP.json(["name": queue])).status == 201)
        }

        // Every minute: the first fire comes at the next minute boundary (< 60 s away).
        let task: [String: Any] = ["kind": "http", "payload": ["url": "\(sink.url)/ok/cron"]]
        let created = try await HTTP.send("POST", "\(api)/v1/schedules", body: HTTP.json(
            ["name": "every-minute", "cron": "* * * * *", "timeZone": "Europe/Berlin", "queue": "cron", "task": task]))
        #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
        #expect(created.json?["state"] as? String == "ENABLED")
        #expect(created.json?["nextFireTime"] is String)

        try await checkScheduleErrors(api: api, task: task)
        try await checkScheduleChanges(api: api, task: task)
        try await checkMethodNotAllowed(api: api)

        // The schedule fires: a task for a whole-minute slot, delivered and succeeded, once.
        let fired = try await TaskClient.waitUntilSettled(1, in: ["cron"], state: "succeeded", cluster: cluster, seconds: 75)
        let first = try #require(fired.first, "no fire within 75 s")
        let id = try #require(first["id"] as? String)
        #expect(id.hasPrefix("every-minute@"), "a fire's task id names its slot: \(id)")
        let slot = try #require(Int64(id.dropFirst("every-minute@".count)))
        #expect(slot % 60_000 == 0, "slots are whole minutes")
        let schedule = try await HTTP.send("GET", "http://\(cluster.api(leader))/v1/schedules/every-minute").json
        #expect(schedule?["lastFireTime"] is String)
        let all = try await HTTP.send("GET", "\(api)/v1/queues/cron/tasks?pageSize=100").json?["tasks"] as? [[String: Any]] ?? []
        let ids = all.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == ids.count && ids.allSatisfy { $0.hasPrefix("every-minute@") })
    }

    /// Validation: 400 naming the field, 404, 409.
    private func checkScheduleErrors(api: String, task: [String: Any]) async throws {
        let valid: [String: Any] = ["name": "other", "cron": "0 3 * * *", "queue": "cron", "task": task]
        let cases: [(change: [String: Any], status: Int, field: String?)] = [
            (["name": "every-minute"], 409, nil),
            (["timeZone": "Mars/Olympus_Mons"], 400, "timeZone"),
            (["cron": "61 * * * *"], 400, "cron"),
            (["cron": "* * *"], 400, "cron"),
            (["queue": "nope"], 404, nil),
            (["bogus": 1], 400, "bogus"),
            (["task": ["kind": "http", "bogus": 1]], 400, "task.bogus"),
            (["task": ["payload": [:] as [String: Any]]], 400, "task.kind"),
            (["name": "bad name!"], 400, "name"),
            (["paused": "yes"], 400, "paused"),
        ]
        for (change, status, field) in cases {
            let body = valid.merging(change) { $1 }
            let reply = try await HTTP.send("POST", "\(api)/v1/schedules", body: HTTP.json(body))
            #expect(reply.status == status, "\(change): \(String(decoding: reply.body, as: UTF8.self))")
            if let field { #expect((reply.json?["error"] as? [String: Any])?["field"] as? String == field, "\(change)") }
        }
        for missing in ["name", "cron", "queue", "task"] {
            let reply = try await HTTP.send("POST", "\(api)/v1/schedules", body: HTTP.json(valid.filter { $0.key != missing }))
            #expect(reply.status == 400 && (reply.json?["error"] as? [String: Any])?["field"] as? String == missing, "\(missing)")
        }
        #expect(try await HTTP.send("GET", "\(api)/v1/schedules/nope").status == 404)
        #expect(try await HTTP.send("DELETE", "\(api)/v1/schedules/nope").status == 404)
        #expect(try await HTTP.send("POST", "\(api)/v1/schedules/every-minute:explode").status == 404)
    }

    /// Get, list, patch, pause, resume, delete.
    private func checkScheduleChanges(api: String, task: [String: Any]) async throws {
        // Its own queue: should a slot fall in this second, its task cannot disturb "cron".
        let body: [String: Any] = ["name": "nightly", "cron": "0 3 * * *", "queue": "other", "task": task]
        #expect(try await HTTP.send("POST", "\(api)/v1/schedules", body: HTTP.json(body)).status == 201)
        let list = try await HTTP.send("GET", "\(api)/v1/schedules?pageSize=1")
        #expect((list.json?["schedules"] as? [[String: Any]])?.count == 1)
        #expect(list.json?["nextPageToken"] is String)
        let names = ((try await HTTP.send("GET", "\(api)/v1/schedules").json?["schedules"] as? [[String: Any]]) ?? [])
            .compactMap { $0["name"] as? String }
        #expect(names == ["every-minute", "nightly"])

        let patched = try await HTTP.send("PATCH", "\(api)/v1/schedules/nightly",
                                          body: HTTP.json(["cron": "30 4 * * *", "timeZone": "America/New_York"]))
        #expect(patched.status == 200, "\(String(decoding: patched.body, as: UTF8.self))")
        #expect(patched.json?["cron"] as? String == "30 4 * * *")
        #expect(patched.json?["timeZone"] as? String == "America/New_York")
        #expect((patched.json?["task"] as? [String: Any])?["kind"] as? String == "http", "unchanged fields stay")
        #expect(try await HTTP.send("PATCH", "\(api)/v1/schedules/nightly", body: HTTP.json(["name": "renamed"])).status == 400)

        let paused = try await HTTP.send("POST", "\(api)/v1/schedules/nightly:pause")
        #expect(paused.json?["state"] as? String == "PAUSED")
        #expect(paused.json?["nextFireTime"] == nil)
        let resumed = try await HTTP.send("POST", "\(api)/v1/schedules/nightly:resume")
        #expect(resumed.json?["state"] as? String == "ENABLED")
        #expect(resumed.json?["nextFireTime"] is String)

        #expect(try await HTTP.send("DELETE", "\(api)/v1/schedules/nightly").status == 200)
        #expect(try await HTTP.send("GET", "\(api)/v1/schedules/nightly").status == 404)
    }

    private func checkMethodNotAllowed(api: String) async throws {
        for (method, path, allowed) in [("PUT", "/v1/schedules", "GET, POST"), ("DELETE", "/v1/queues", "GET, POST"),
                                        ("PATCH", "/v1/queues/cron/tasks/x/attempts", "GET")] {
            let reply = try await HTTP.send(method, "\(api)\(path)")
            #expect(reply.status == 405, "\(method) \(path)")
            #expect(reply.errorCode == "METHOD_NOT_ALLOWED")
            #expect(reply.headers["allow"] == allowed)
        }
        #expect(try await HTTP.send("GET", "\(api)/v1/nothing-here").status == 404)
    }

    @Test func attemptsShowFailuresThenSuccessAndDeadTasksRedrive() async throws {
        let sink = try await FlakySink()
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1
        let queue = HTTP.json(["name": "flaky", "retryConfig": ["maxAttempts": 2, "minBackoffMs": 100, "maxBackoffMs": 200]])
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues", body: queue).status == 201)

        // 500 then 200: two attempts, failed then succeeded, each with its own fence.
        let once = try await TaskClient.create(1, in: ["flaky"], cluster: cluster) { _ in
            ["kind": "http", "payload": ["url": "\(sink.url)/flaky/1"]]
        }
        let done = try await TaskClient.waitUntilSettled(1, in: ["flaky"], state: "succeeded", cluster: cluster, seconds: 30)
        #expect(done.count == 1)
        let attempts = try await Self.attempts(cluster, follower, "flaky", try #require(once.first?.id))
        #expect(attempts.map { $0["attempt"] as? Int } == [1, 2])
        #expect(attempts.map { $0["outcome"] as? String } == ["failed", "succeeded"])
        #expect((attempts.first?["error"] as? String)?.contains("500") == true, "\(attempts)")
        let fences = attempts.compactMap { $0["fence"] as? Int }
        #expect(fences.count == 2 && fences[0] < fences[1])
        #expect(attempts.allSatisfy { $0["endTime"] is String && $0["executor"] is String && $0["durationMs"] is Int })

        // Always 500: dead after 2 attempts, listed as dead, redriven, dead again after 2 more.
        let doomed = try await TaskClient.create(1, in: ["flaky"], cluster: cluster) { _ in
            ["kind": "http", "payload": ["url": "\(sink.url)/fail/1"]]
        }
        let id = try #require(doomed.first?.id)
        let dead = try await TaskClient.waitUntilSettled(1, in: ["flaky"], state: "dead", cluster: cluster, seconds: 30)
        #expect(dead.compactMap { $0["id"] as? String } == [id])
        let redriven = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/queues/flaky/tasks/\(id):redrive")
        #expect(redriven.status == 200, "\(String(decoding: redriven.body, as: UTF8.self))")
        var history: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            history = try await Self.attempts(cluster, leader, "flaky", id)
            if history.count == 4 && history.last?["outcome"] is String { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(history.map { $0["attempt"] as? Int } == [1, 2, 3, 4], "attempt numbers go on across a redrive")
        #expect(history.allSatisfy { $0["outcome"] as? String == "failed" })
        let stale = try await HTTP.send("GET", "http://\(cluster.api(follower))/v1/queues/flaky/tasks/\(id)/attempts?consistency=stale")
        #expect(stale.status == 200)
        #expect(try await HTTP.send("GET", "http://\(cluster.api(leader))/v1/queues/other/tasks/\(id)/attempts").status == 404)

        // A target slower than the dispatch deadline: each attempt ends deadline_exceeded.
        let slow = try await TaskClient.create(1, in: ["flaky"], cluster: cluster) { _ in
            ["kind": "http", "dispatchDeadlineMs": 300, "payload": ["url": "\(sink.url)/slow/1"]]
        }
        let slowID = try #require(slow.first?.id)
        let slowDead = try await TaskClient.waitUntilSettled(2, in: ["flaky"], state: "dead", cluster: cluster, seconds: 30)
        #expect(slowDead.contains { $0["id"] as? String == slowID })
        let slowAttempts = try await Self.attempts(cluster, leader, "flaky", slowID)
        #expect(slowAttempts.map { $0["outcome"] as? String } == ["deadline_exceeded", "deadline_exceeded"], "\(slowAttempts)")
    }

    static func attempts(_ cluster: LocalCluster, _ node: Int, _ queue: String, _ id: String) async throws -> [[String: Any]] {
        let reply = try await HTTP.send("GET", "http://\(cluster.api(node))/v1/queues/\(queue)/tasks/\(id)/attempts")
        #expect(reply.status == 200, "\(String(decoding: reply.body, as: UTF8.self))")
        return reply.json?["attempts"] as? [[String: Any]] ?? []
    }
}

/// An HTTP target whose `/flaky/…` paths answer 500 the first time and 200 afterwards;
/// `/fail/…` always 500; `/slow/…` answers 200 after 2 s; anything else 200. A Python `http.server` on a free loopback port,
/// killed when the value is released.
final class FlakySink: Sendable {
    private let server: PythonServer

    static let script = #"""
    import sys, threading, time
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
    seen, lock = set(), threading.Lock()
    class Handler(BaseHTTPRequestHandler):
        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if self.path.startswith("/slow"):
                time.sleep(2)
            with lock:
                first = self.path not in seen
                seen.add(self.path)
            failing = self.path.startswith("/fail") or (self.path.startswith("/flaky") and first)
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        do_GET = do_POST = do_PUT = do_DELETE = handle_any
        def log_message(self, *args):
            pass
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """#

    init() async throws {
        server = try await PythonServer(name: "flaky", script: Self.script)
    }

    var url: String { server.url }
}
