import Foundation
import Testing

/// Part of `ClusterTests` so that only one multi-process cluster runs at a time.
extension ClusterTests {
    @Test func idempotencyKeyReturnsTheFirstOutcomeAndRefusesADifferentRequest() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues", body: HTTP.json(["name": "q"])).status == 201)
        let body = HTTP.json(["kind": "http", "payload": ["url": "http://127.0.0.1:9/a"]])
        let first = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/queues/q/tasks", body: body,
                                        headers: ["Idempotency-Key": "key-1"])
        let retry = try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues/q/tasks", body: body,
                                        headers: ["Idempotency-Key": "key-1"])
        #expect(first.status == 201)
        #expect(retry.status == 201)
        #expect(first.json?["id"] as? String != nil)
        #expect(first.json?["id"] as? String == retry.json?["id"] as? String, "a retried create must return the first task")
        let other = try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues/q/tasks",
                                        body: HTTP.json(["kind": "http", "payload": ["url": "http://127.0.0.1:9/b"]]),
                                        headers: ["Idempotency-Key": "key-1"])
        #expect(other.status == 409)
        #expect(other.errorCode == "ABORTED")
        let list = try await HTTP.send("GET", "http://\(cluster.api(follower))/v1/queues/q/tasks")
        #expect(((list.json?["tasks"] as? [[String: Any]]) ?? []).count == 1)
    }

    @Test func sigtermStopsGracefullyAndARestartResumesFromDisk() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues", body: HTTP.json(["name": "keep"])).status == 201)
        let before = await cluster.status(leader)
        for member in cluster.members {
            let status = await cluster.terminate(member.id)
            #expect(status == 0, "n\(member.id) must exit 0 on SIGTERM:\n\(cluster.log(member.id).suffix(1500))")
        }
        try cluster.startAll()
        let newLeader = try await cluster.waitForLeader()
        let after = await cluster.status(newLeader)
        #expect((after?.term ?? 0) > (before?.term ?? 0), "term never goes backwards across restarts")
        let queue = try await HTTP.send("GET", "http://\(cluster.api(newLeader))/v1/queues/keep")
        #expect(queue.status == 200)
    }
}
