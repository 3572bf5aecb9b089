import Foundation
import Testing

/// Tasks actually run: the leader's scheduler assigns, executors on every node deliver to an
/// HTTP sink and report through the log. `TRIREME_TASKS=1000` runs the big variant.
extension ClusterTests {
    @Test func httpTasksOverThreeQueuesRunExactlyOnceOnEveryNode() async throws {
        let sink = try await HTTPSink()
        let cluster = try LocalCluster()
        try cluster.startAll()
        _ = try await cluster.waitForLeader()
        let count = ProcessInfo.processInfo.environment["TRIREME_TASKS"].flatMap(Int.init) ?? 300
        let queues = ["qa", "qb", "qc"]
        for (i, queue) in queues.enumerated() {
            let reply = try await HTTP.send("POST", "http://\(cluster.api(i + 1))/v1/queues", body: HTTP.json(["name": queue]))
            #expect(reply.status == 201)
        }
        let ids = try await TaskClient.create(count, in: queues, cluster: cluster) { i in
            ["kind": "http", "name": "t\(i)", "payload": ["url": "\(sink.url)/deliver/\(i)", "body": "task \(i)"]]
        }
        #expect(ids.count == count)

        let tasks = try await TaskClient.waitUntilSettled(ids.count, in: queues, state: "succeeded", cluster: cluster, seconds: 60)
        #expect(tasks.count == count, "succeeded \(tasks.count) of \(count)")
        #expect(tasks.allSatisfy { ($0["attempts"] as? Int) == 1 }, "every task runs once")
        let deliveries = sink.deliveries()
        let delivered = Dictionary(grouping: deliveries.compactMap(\.taskId), by: { $0 })
        #expect(Set(delivered.keys).isSuperset(of: Set(ids.map(\.id))), "the sink saw every task")
        let duplicates = delivered.values.filter { $0.count > 1 }.count
        #expect(duplicates == 0, "duplicate deliveries in a fault-free run: \(duplicates)")
        let nodes = Set(deliveries.compactMap(\.node))
        #expect(nodes == Set(cluster.members.map { "n\($0.id)" }), "every node's executor ran work: \(nodes)")

        // The internal command endpoint takes nothing unsigned or wrongly signed.
        for signature in [nil, String(repeating: "ab", count: 32)] {
            let forged = try await HTTP.send("POST", "http://\(cluster.api(1))/v1/internal/commands", body: Data([0, 0, 0, 1, 7]),
                                             contentType: "application/octet-stream",
                                             headers: signature.map { ["Trireme-Signature": $0] } ?? [:])
            #expect(forged.status == 401)
        }
        let status = try await HTTP.send("GET", "http://\(cluster.api(1))/v1/cluster")
        let listed = (status.json?["executors"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        #expect(Set(listed) == Set(cluster.members.map { "n\($0.id)" }))
    }

    @Test func aFailingTargetIsRetriedWithBackoffThenDead() async throws {
        let sink = try await HTTPSink()
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let queue = HTTP.json(["name": "flaky", "retryConfig": ["maxAttempts": 3, "minBackoffMs": 100, "maxBackoffMs": 400]])
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues", body: queue).status == 201)
        let ids = try await TaskClient.create(1, in: ["flaky"], cluster: cluster) { _ in
            ["kind": "http", "payload": ["url": "\(sink.url)/fail/1"]]
        }
        let dead = try await TaskClient.waitUntilSettled(1, in: ["flaky"], state: "dead", cluster: cluster, seconds: 30)
        #expect(dead.count == 1)
        #expect(dead.first?["attempts"] as? Int == 3)
        #expect((dead.first?["lastError"] as? String)?.contains("HTTP 500") == true, "\(dead.first ?? [:])")
        let times = sink.deliveries().filter { $0.taskId == ids.first?.id }.map(\.timeMs).sorted()
        #expect(times.count == 3, "three deliveries, got \(times.count)")
        // Retry n waits at least min·2^(n-1): 100 ms, then 200 ms (a lower bound, not a speed).
        for (gap, floor) in zip(zip(times.dropFirst(), times).map { $0 - $1 }, [100.0, 200.0]) {
            #expect(gap >= floor - 2, "retry came after \(gap) ms, backoff is \(floor) ms")
        }
        let redrive = try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues/flaky/tasks/\(ids[0].id):redrive")
        #expect(redrive.status == 200, "\(String(decoding: redrive.body, as: UTF8.self))")
    }

    @Test func aTaskOfAKilledNodeIsRedispatchedAfterItsLeaseAndCompletesOnce() async throws {
        let cluster = try LocalCluster(extraConfig: [
            "testTaskKinds": true, "leaseDurationMs": 2_000, "executorHeartbeatMs": 200, "executorLivenessMs": 1_000,
        ])
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues", body: HTTP.json(["name": "long"])).status == 201)
        let ids = try await TaskClient.create(1, in: ["long"], cluster: cluster) { _ in ["kind": "sleep", "payload": ["ms": 3_000]] }
        let id = try #require(ids.first?.id)

        // Wait until it runs somewhere, then kill that node.
        var runner: Int?
        let deadline = Date().addingTimeInterval(20)
        while runner == nil && Date() < deadline {
            let task = try await HTTP.send("GET", "http://\(cluster.api(leader))/v1/queues/long/tasks/\(id)").json
            if task?["state"] as? String == "running", let executor = task?["executor"] as? String {
                runner = Int(executor.dropFirst())
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let killed = try #require(runner, "the task never started")
        cluster.kill9(killed)
        let survivors = cluster.members.map(\.id).filter { $0 != killed }
        let newLeader = try await cluster.waitForLeader(among: survivors, notIn: [killed], seconds: 15)

        let done = try await TaskClient.waitUntilSettled(1, in: ["long"], state: "succeeded", cluster: cluster, via: newLeader, seconds: 40)
        #expect(done.count == 1)
        #expect(done.first?["attempts"] as? Int == 2, "\(done.first ?? [:])")
    }
}

/// Client-side helpers for task tests.
enum TaskClient {
    struct Created: Sendable {
        var id: String
        var queue: String
    }

    /// Creates `count` tasks round-robin over `queues`, through every node in turn, 8 at a time.
    static func create(_ count: Int, in queues: [String], cluster: LocalCluster,
                       body: @escaping @Sendable (Int) -> [String: Any]) async throws -> [Created] {
        let apis = cluster.members.map(\.id).filter(cluster.isRunning).map(cluster.api)
        return try await withThrowingTaskGroup(of: Created?.self) { group in
            var created: [Created] = []
            for i in 0..<count {
                if i >= 8, let next = try await group.next() { if let next { created.append(next) } }
                let queue = queues[i % queues.count]
                let api = apis[i % apis.count]
                let data = HTTP.json(body(i))
                group.addTask {
                    let reply = try await HTTP.send("POST", "http://\(api)/v1/queues/\(queue)/tasks", body: data)
                    guard reply.status == 201, let id = reply.json?["id"] as? String else { return nil }
                    return Created(id: id, queue: queue)
                }
            }
            for try await next in group { if let next { created.append(next) } }
            return created
        }
    }

    /// Polls (bounded) until `count` tasks over `queues` are in `state`; returns them.
    static func waitUntilSettled(_ count: Int, in queues: [String], state: String, cluster: LocalCluster, via node: Int? = nil,
                                 seconds: Double) async throws -> [[String: Any]] {
        let api = cluster.api(node ?? cluster.members.map(\.id).first(where: cluster.isRunning) ?? 1)
        let deadline = Date().addingTimeInterval(seconds)
        var tasks: [[String: Any]] = []
        while Date() < deadline {
            tasks = []
            for queue in queues {
                let reply = try await HTTP.send("GET", "http://\(api)/v1/queues/\(queue)/tasks?state=\(state)&pageSize=1000")
                tasks += (reply.json?["tasks"] as? [[String: Any]]) ?? []
            }
            if tasks.count >= count { return tasks }
            try await Task.sleep(for: .milliseconds(100))
        }
        return tasks
    }
}
