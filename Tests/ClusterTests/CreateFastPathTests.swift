import Foundation
import Testing
import TestSupport

/// `CreateFastPath`: the leader answers `POST /v1/queues/{queue}/tasks` on the connection's
/// event loop. The same create with a query string (which the fast path declines) goes through
/// Hummingbird's route, so each case compares the two answers on a live cluster, and reads the
/// fast path's counter in `/metrics` to know which path answered.
@Suite(.serialized, .ownThreads) struct CreateFastPathTests {
    static let routed = "?via=router"

    @Test func theFastPathAnswersAsTheRouteDoes() async throws {
        let (cluster, leader) = try await Self.clusterWithPausedQueue("fp")
        let base = "http://\(cluster.api(leader))"
        let body: [String: Any] = ["kind": "http", "payload": ["url": "http://127.0.0.1:9/", "body": "x"], "dispatchDeadlineMs": 5_000]

        // A plain create: the fast path answers, with everything the route's answer carries.
        let before = try await fastPathCount(cluster, leader)
        let fast = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks", body: HTTP.json(body), headers: ["X-Request-Id": "fast-1"])
        let lines = try await metricsText(cluster, leader).split(separator: "\n").filter { $0.contains("fast") }
        #expect(try await fastPathCount(cluster, leader) == before + 1, "the fast path took the create: \(lines)")
        let routed = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks\(Self.routed)", body: HTTP.json(body),
                                         headers: ["X-Request-Id": "routed-1"])
        #expect(try await fastPathCount(cluster, leader) == before + 1, "a create with a query goes through the route")
        #expect(fast.status == 201 && routed.status == 201)
        try #require(fast.json != nil && routed.json != nil, "\(String(decoding: fast.body, as: UTF8.self))")
        let fastTask = try #require(fast.json), routedTask = try #require(routed.json)
        #expect(Set(fastTask.keys) == Set(routedTask.keys))
        // Ids and times differ; scheduleTime is the create time when none is given.
        for key in fastTask.keys where !["id", "createTime", "scheduleTime"].contains(key) {
            #expect("\(fastTask[key] ?? "nil")" == "\(routedTask[key] ?? "nil")", "field \(key)")
        }
        #expect(fast.headers["x-request-id"] == "fast-1" && routed.headers["x-request-id"] == "routed-1")
        for name in ["content-type", "trireme-raft-index", "trireme-raft-term", "x-trireme-index", "date", "server"] {
            #expect(fast.headers[name] != nil && routed.headers[name] != nil, "header \(name): \(fast.headers) vs \(routed.headers)")
        }
        #expect(fast.headers["content-type"] == routed.headers["content-type"])
        #expect(fast.headers["trireme-raft-index"] == fast.headers["x-trireme-index"])
        let fastIndex = try #require(fast.headers["trireme-raft-index"].flatMap { UInt64($0) })
        let routedIndex = try #require(routed.headers["trireme-raft-index"].flatMap { UInt64($0) })
        #expect(fastIndex < routedIndex)
        // The task is stored as answered, and readable from every node (the write was applied).
        for member in cluster.members {
            let read = try await HTTP.send("GET", "http://\(cluster.api(member.id))/v1/queues/fp/tasks/\(fastTask["id"] as? String ?? "")")
            #expect(read.status == 200, "n\(member.id)")
            #expect(read.json?["payload"] as? [String: String] == ["url": "http://127.0.0.1:9/", "body": "x"])
        }

        // Rejections after the proposal: the fast path words them as the route does.
        let named = body.merging(["name": "once"]) { $1 }
        #expect(try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks", body: HTTP.json(named)).status == 201)
        let count = try await fastPathCount(cluster, leader)
        let fastConflict = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks", body: HTTP.json(named))
        let routedConflict = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks\(Self.routed)", body: HTTP.json(named))
        #expect(fastConflict.status == 409 && routedConflict.status == 409)
        #expect(fastConflict.body == routedConflict.body, "\(String(decoding: fastConflict.body, as: UTF8.self))")
        let fastMissing = try await HTTP.send("POST", "\(base)/v1/queues/nope/tasks", body: HTTP.json(body))
        let routedMissing = try await HTTP.send("POST", "\(base)/v1/queues/nope/tasks\(Self.routed)", body: HTTP.json(body))
        #expect(fastMissing.status == 404 && fastMissing.body == routedMissing.body)
        #expect(Set(fastMissing.headers.keys) == Set(routedMissing.headers.keys), "\(fastMissing.headers) vs \(routedMissing.headers)")
        #expect(Set(fastConflict.headers.keys) == Set(routedConflict.headers.keys))
        #expect(try await fastPathCount(cluster, leader) == count + 2, "both rejections were the fast path's")

        // An idempotent retry answers the first task, on either path.
        let key = ["Idempotency-Key": "fp-key-1"]
        let first = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks", body: HTTP.json(body), headers: key)
        let again = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks", body: HTTP.json(body), headers: key)
        let viaRoute = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks\(Self.routed)", body: HTTP.json(body), headers: key)
        #expect(first.status == 201 && again.status == 201 && viaRoute.status == 201)
        #expect(first.json?["id"] as? String != nil)
        #expect(again.json?["id"] as? String == first.json?["id"] as? String)
        #expect(viaRoute.json?["id"] as? String == first.json?["id"] as? String)

        // Bodies the fast path declines still get the route's errors.
        let bad = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks", body: Data(#"{"kind": "http", "extra": 1}"#.utf8))
        #expect(bad.status == 400 && bad.errorCode != nil)
        let text = try await HTTP.send("POST", "\(base)/v1/queues/fp/tasks", body: HTTP.json(body), contentType: "text/plain")
        #expect(text.status == 415)

        // A follower forwards: its own fast path never answers a write it does not lead.
        let follower = try #require(cluster.members.map(\.id).first { $0 != leader })
        let forwarded = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/queues/fp/tasks", body: HTTP.json(body))
        #expect(forwarded.status == 201)
        #expect(try await fastPathCount(cluster, follower) == 0)

        // The request metrics count fast answers under the route's label, as the route's own.
        let samples = ObservabilityTests.samples(try await metricsText(cluster, leader))
        let created = samples[#"trireme_http_requests_total{route="/v1/queues/{queue}/tasks",method="POST",status="201"}"#] ?? 0
        #expect(created >= 6, "fast and routed 201s under one label")
        #expect((samples[#"trireme_http_requests_total{route="/v1/queues/{queue}/tasks",method="POST",status="409"}"#] ?? 0) == 2)
    }

    /// Pipelined requests on one connection, fast and routed mixed, are answered in order; the
    /// connection stays usable after each and closes after `Connection: close`.
    @Test func pipelinedCreatesAreAnsweredInOrder() async throws {
        let (cluster, leader) = try await Self.clusterWithPausedQueue("pp")
        let base = "http://\(cluster.api(leader))"
        func post(_ path: String, _ body: String, close: Bool = false) -> String {
            "POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
                + (close ? "Connection: close\r\n" : "") + "\r\n" + body
        }
        let task = #"{"kind":"http","payload":{"url":"http://127.0.0.1:9/"}}"#
        let before = try await fastPathCount(cluster, leader)
        let requests = [
            post("/v1/queues/pp/tasks", task),                      // fast: 201, the rest held behind it
            "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",             // route: 200
            post("/v1/queues/missing/tasks", task),                 // 404 (rejected by the store)
            post("/v1/queues/pp/tasks", #"{"kind":"http","bogus":1}"#),  // declined, route: 400
            post("/v1/queues/pp/tasks\(Self.routed)", task),        // route: 201
            post("/v1/queues/pp/tasks", task),                      // 201
            post("/v1/queues/pp/tasks", task, close: true),         // route (Connection header): 201, then closed
        ]
        // One write, so the server reads the requests back to back (pipelined).
        let outcome = try RawHTTP.exchange(cluster.api(leader), Array(requests.joined().utf8))
        let statuses = outcome.text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
        #expect(statuses == [201, 200, 404, 400, 201, 201, 201], "\(outcome.text.prefix(3_000))")
        #expect(outcome.closed)
        // The fast path writes its answer as bytes past Hummingbird's codec and NIO's encoder:
        // the first answer (the fast path's) has the routed create's status line and header
        // names, spelled alike, and its Content-Length frames its body exactly.
        let parsed = outcome.text.components(separatedBy: "HTTP/1.1 ").dropFirst().map(Self.parse)
        if parsed.count == 7 {
            let fast = parsed[0], routed = parsed[4]
            #expect(fast.statusLine == "201 Created" && routed.statusLine == "201 Created")
            #expect(fast.names.sorted() == routed.names.sorted(), "\(fast.names) vs \(routed.names)")
            #expect(fast.fields["Content-Length"] == String(fast.body.utf8.count), "\(fast)")
            #expect(fast.fields["Content-Type"] == routed.fields["Content-Type"])
            #expect(parsed[2].names.sorted() == ["Content-Length", "Content-Type", "Date", "Server", "X-Request-Id", "X-Trireme-Index"],
                    "the 404 (either path's): \(parsed[2])")
        }
        // The first is the fast path's for sure (the rest are held behind it); a later create
        // may be too, or go to the route when Hummingbird had not yet answered the one before
        // it. Either way the answers above are in order.
        let taken = try await fastPathCount(cluster, leader) - before
        #expect((1...3).contains(taken), "\(taken)")
        let list = try await HTTP.send("GET", "\(base)/v1/queues/pp/tasks")
        #expect((list.json?["tasks"] as? [Any])?.count == 4)

        // Creates alone, pipelined: each is held behind the one before and then taken by the
        // fast path in turn (nothing of Hummingbird's is outstanding), in order of the log.
        let again = try await fastPathCount(cluster, leader)
        let creates = (0..<4).map { _ in post("/v1/queues/pp/tasks", task) }.joined() + "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        let burst = try RawHTTP.exchange(cluster.api(leader), Array(creates.utf8))
        let answers = burst.text.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(answers.compactMap { Int($0.prefix(3)) } == [201, 201, 201, 201, 200], "\(burst.text.prefix(3_000))")
        let indexes = answers.compactMap { answer in
            answer.split(separator: "\r\n").first { $0.lowercased().hasPrefix("trireme-raft-index:") }
                .flatMap { UInt64($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        }
        #expect(indexes.count == 4 && indexes == indexes.sorted() && Set(indexes).count == 4, "\(indexes)")
        #expect(try await fastPathCount(cluster, leader) == again + 4)
    }

    /// One answer of a raw exchange, split at its "HTTP/1.1 ": status line, header names in
    /// order (as spelled on the wire), fields by name, body.
    struct RawAnswer: CustomStringConvertible {
        var statusLine: String
        var names: [String]
        var fields: [String: String]
        var body: String
        var description: String { "\(statusLine) \(fields) \(body.prefix(100))" }
    }

    static func parse(_ answer: String) -> RawAnswer {
        let headEnd = answer.range(of: "\r\n\r\n")
        let head = headEnd.map { String(answer[..<$0.lowerBound]) } ?? answer
        let lines = head.components(separatedBy: "\r\n")
        var names: [String] = []
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            names.append(name)
            fields[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return RawAnswer(statusLine: lines.first ?? "", names: names, fields: fields,
                         body: headEnd.map { String(answer[$0.upperBound...]) } ?? "")
    }

    /// A running cluster and its leader, with a paused queue `name` (no executor touches its tasks).
    private static func clusterWithPausedQueue(_ name: String) async throws -> (LocalCluster, Int) {
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let base = "http://\(cluster.api(leader))"
        try #require(try await HTTP.send("POST", "\(base)/v1/queues", body: HTTP.json(["name": name])).status == 201)
        try #require(try await HTTP.send("POST", "\(base)/v1/queues/\(name):pause").status == 200)
        return (cluster, leader)
    }

    private func metricsText(_ cluster: LocalCluster, _ node: Int) async throws -> String {
        let scrape = try await HTTP.send("GET", "http://\(cluster.api(node))/metrics")
        return String(decoding: scrape.body, as: UTF8.self)
    }

    private func fastPathCount(_ cluster: LocalCluster, _ node: Int) async throws -> Double {
        ObservabilityTests.samples(try await metricsText(cluster, node))["trireme_http_create_fast_path_total"] ?? 0
    }
}
