import Foundation
import Synchronization
import Testing

/// Membership changes with real processes (issue 7): 3 → 5 → 3 voters under a steady write load.
extension ClusterTests {
    @Test func theClusterGrowsToFiveAndShrinksToThreeWithoutLosingAnAcknowledgedWrite() async throws {
        let cluster = try LocalCluster(size: 5, extraConfig: ["initialVoters": [1, 2, 3], "snapshotEntries": 40, "snapshotGrowth": 0])
        for id in 1...3 { try cluster.start(id) }
        let first = try await cluster.waitForLeader(among: [1, 2, 3])
        try await cluster.createQueue("grow", via: first)

        // The writer goes through n3, which stays a member throughout (it forwards to the leader).
        let writer = SteadyWriter(cluster: cluster, node: 3, queue: "grow")
        let load = Task { await writer.run() }
        defer { load.cancel() }
        try await writer.waitForAcknowledged(atLeast: 5)

        for id in [4, 5] {
            try cluster.start(id)
            let added = try await cluster.membershipCall("POST", "/v1/cluster/members", body: ["id": id], via: 3)
            #expect((added["learners"] as? [Int])?.contains(id) == true)
            let promoted = try await cluster.membershipCall("POST", "/v1/cluster/members/\(id):promote", via: 3)
            #expect((promoted["voters"] as? [Int])?.contains(id) == true, "n\(id) must become a voter once caught up")
        }
        let grown = try await cluster.membershipCall("POST", "/v1/cluster/transfer", body: ["to": 4], via: 3)
        #expect((grown["voters"] as? [Int]) == [1, 2, 3, 4, 5])
        #expect(try await cluster.waitForLeader(among: [1, 2, 3, 4, 5]) == 4, "leadership moves to n4 on request")

        for id in [1, 2] {
            let shrunk = try await cluster.membershipCall("DELETE", "/v1/cluster/members/\(id)", via: 3)
            #expect((shrunk["voters"] as? [Int])?.contains(id) == false)
        }
        // B8: requests to a node that was removed (still running, as after an operator's removal).
        let viaRemoved = try await cluster.checkRemovedNodeAnswers(removed: 1, queue: "grow")
        cluster.kill9(1)
        cluster.kill9(2)
        // Writes go on after the removals (bounded wait, no timing assumption).
        let before = await writer.acknowledged.count
        try await writer.waitForAcknowledged(atLeast: before + 5)
        load.cancel()
        _ = await load.value
        let acknowledged = await writer.acknowledged

        let leader = try await cluster.waitForLeader(among: [3, 4, 5])
        let commit = await cluster.status(leader)?.commitIndex ?? 0
        for id in [3, 4, 5] {
            try await cluster.waitUntilApplied(node: id, index: commit)
            let stored = try await cluster.taskIDs(queue: "grow", on: id)
            #expect(acknowledged.isSubset(of: stored), "n\(id) lost \(acknowledged.subtracting(stored).count) acknowledged writes")
            if let viaRemoved { #expect(stored.contains(viaRemoved), "n\(id) lacks the write acknowledged by the removed n1") }
        }
        let members = try await HTTP.send("GET", "http://\(cluster.api(leader))/v1/cluster")
        let roles = ((members.json?["members"] as? [[String: Any]]) ?? []).compactMap { $0["role"] as? String }
        #expect(roles.filter { $0 == "voter" }.count == 3)
    }

    @Test func membershipRequestsAreValidated() async throws {
        let cluster = try LocalCluster(size: 4, extraConfig: ["initialVoters": [1, 2, 3]])
        for id in 1...3 { try cluster.start(id) }
        let leader = try await cluster.waitForLeader(among: [1, 2, 3])
        let base = "http://\(cluster.api(leader))"
        let unknown = try await HTTP.send("POST", "\(base)/v1/cluster/members", body: HTTP.json(["id": 9]))
        #expect(unknown.status == 400)
        let existing = try await HTTP.send("POST", "\(base)/v1/cluster/members", body: HTTP.json(["id": 2]))
        #expect(existing.status == 409)
        let notLearner = try await HTTP.send("POST", "\(base)/v1/cluster/members/4:promote")
        #expect(notLearner.status == 409)
        let badVerb = try await HTTP.send("POST", "\(base)/v1/cluster/members/2:explode")
        #expect(badVerb.status == 404)
        let junk = try await HTTP.send("DELETE", "\(base)/v1/cluster/members/abc")
        #expect(junk.status == 400)
        let extraField = try await HTTP.send("POST", "\(base)/v1/cluster/members", body: HTTP.json(["id": 4, "x": 1]))
        #expect(extraField.status == 400)
        let nonVoter = try await HTTP.send("POST", "\(base)/v1/cluster/transfer", body: HTTP.json(["to": 4]))
        #expect(nonVoter.status == 409)
        #expect(try await HTTP.send("GET", "\(base)/healthz").status == 200)
    }
}

/// Creates tasks through one node until cancelled, remembering the acknowledged (201) ones.
actor SteadyWriter {
    let cluster: LocalCluster
    let node: Int
    let queue: String
    private(set) var acknowledged: Set<String> = []

    init(cluster: LocalCluster, node: Int, queue: String) {
        self.cluster = cluster
        self.node = node
        self.queue = queue
    }

    /// Waits (at most 30 s) until `count` writes have been acknowledged.
    func waitForAcknowledged(atLeast count: Int) async throws {
        let deadline = Date().addingTimeInterval(30)
        while acknowledged.count < count {
            guard Date() < deadline else {
                throw ClusterError.timeout("only \(acknowledged.count) of \(count) writes acknowledged in 30 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func run() async {
        var i = 0
        while !Task.isCancelled {
            i += 1
            let body = HTTP.json(["name": "w-\(i)", "kind": "http", "payload": ["url": "http://127.0.0.1:9/x"],
                                  "scheduleTime": "2099-01-01T00:00:00Z"])
            if let reply = try? await HTTP.send("POST", "http://\(cluster.api(node))/v1/queues/\(queue)/tasks", body: body, timeout: 5),
               reply.status == 201, let id = reply.json?["id"] as? String {
                acknowledged.insert(id)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension LocalCluster {
    /// B8, a request to a node that was removed but still runs: it answers its health check, and
    /// a write or a linearizable read through it either succeeds (the write forwarded to the
    /// leader it last knew, never applied locally) or is refused as retryable (503/504) — never a
    /// 500, never a hang past the node's own 10 s request timeout. Returns the id of a write it
    /// acknowledged, which the remaining members must hold.
    func checkRemovedNodeAnswers(removed: Int, queue: String) async throws -> String? {
        let base = "http://\(api(removed))"
        let health = try await HTTP.send("GET", "\(base)/healthz", timeout: 5)
        #expect(health.status == 200, "the removed n\(removed) must stay healthy")
        let body = HTTP.json(["name": "via-removed-n\(removed)", "kind": "http", "payload": ["url": "http://127.0.0.1:9/x"],
                              "scheduleTime": "2099-01-01T00:00:00Z"])
        let write = try await HTTP.send("POST", "\(base)/v1/queues/\(queue)/tasks", body: body, timeout: 25)
        #expect([201, 503, 504].contains(write.status), "a write via the removed n\(removed): \(write.status) \(String(decoding: write.body, as: UTF8.self))")
        let read = try await HTTP.send("GET", "\(base)/v1/queues/\(queue)", timeout: 25)
        #expect([200, 503, 504].contains(read.status), "a linearizable read via the removed n\(removed): \(read.status) \(String(decoding: read.body, as: UTF8.self))")
        return write.status == 201 ? write.json?["id"] as? String : nil
    }

    /// A membership request, retried while the cluster is busy with the previous change or the
    /// learner is still catching up (409/503), up to 30 s.
    func membershipCall(_ method: String, _ path: String, body: [String: Any]? = nil, via node: Int) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(30)
        var last = ""
        while Date() < deadline {
            let reply = try await HTTP.send(method, "http://\(api(node))\(path)", body: body.map { HTTP.json($0) }, timeout: 10)
            if reply.status == 200, let json = reply.json { return json }
            last = "\(reply.status) \(String(decoding: reply.body, as: UTF8.self))"
            guard [409, 503, 504].contains(reply.status) else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ClusterError.setup("\(method) \(path): \(last)")
    }
}
