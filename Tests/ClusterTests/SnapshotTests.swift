import Foundation
import Testing

/// Log compaction and InstallSnapshot with real processes (issue 7). Snapshots are taken every
/// 40 applied entries here, so a few hundred writes compact the log several times.
extension ClusterTests {
    static var snapshotConfig: [String: Any] { ["snapshotEntries": 40, "snapshotGrowth": 0] }

    @Test func aFollowerThatMissedCompactedEntriesCatchesUpThroughASnapshot() async throws {
        let cluster = try LocalCluster(extraConfig: Self.snapshotConfig)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1
        try await cluster.createQueue("snap", via: leader)
        cluster.kill9(follower)
        let created = try await cluster.createTasks(200, queue: "snap", via: leader)
        let compacted = try await cluster.waitForSnapshotIndex(atLeast: 120, on: leader)
        #expect(compacted >= 120, "the leader must have compacted its log past the stopped follower")

        try cluster.start(follower)
        try await cluster.waitUntilApplied(node: follower, index: compacted)
        let files = cluster.snapshotFiles(follower)
        #expect(!files.isEmpty, "the follower must have installed a snapshot file from the leader")
        #expect(try await cluster.taskIDs(queue: "snap", on: follower) == created)
        // And it keeps replicating normally after the install.
        let more = try await cluster.createTasks(5, queue: "snap", via: leader, prefix: "after")
        let last = await cluster.status(leader)?.commitIndex ?? 0
        try await cluster.waitUntilApplied(node: follower, index: last)
        #expect(try await cluster.taskIDs(queue: "snap", on: follower) == created.union(more))
    }

    @Test func aFollowerWhoseDataDirectoryWasWipedRejoinsFromASnapshot() async throws {
        let cluster = try LocalCluster(extraConfig: Self.snapshotConfig)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1
        try await cluster.createQueue("wipe", via: leader)
        let created = try await cluster.createTasks(150, queue: "wipe", via: leader)
        _ = try await cluster.waitForSnapshotIndex(atLeast: 80, on: leader)

        cluster.kill9(follower)
        try FileManager.default.removeItem(at: cluster.root.appendingPathComponent("n\(follower)"))
        try cluster.start(follower)
        let commit = await cluster.status(leader)?.commitIndex ?? 0
        try await cluster.waitUntilApplied(node: follower, index: commit)
        #expect(try await cluster.taskIDs(queue: "wipe", on: follower) == created)
    }

    @Test func theLogStaysBoundedUnderALongWriteLoad() async throws {
        let cluster = try LocalCluster(extraConfig: Self.snapshotConfig)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.createQueue("bounded", via: leader)
        var largest: UInt64 = 0
        for round in 0..<6 {
            _ = try await cluster.createTasks(60, queue: "bounded", via: leader, prefix: "r\(round)")
            for member in cluster.members {
                guard let status = await cluster.snapshotStatus(member.id) else { continue }
                largest = max(largest, status.lastIndex - status.snapshotIndex)
            }
        }
        // Three snapshot intervals (two kept behind the compaction point, one being filled) plus
        // what a batch in flight adds: never the whole history of 360+ entries. The longest
        // interval is n3's: staggered to 1.5 × 40 entries.
        #expect(largest > 0)
        #expect(largest <= 3 * 60 + 40, "a node kept \(largest) entries in its log")
        for member in cluster.members {
            #expect(cluster.snapshotFiles(member.id).count <= 3, "n\(member.id) keeps at most three snapshots")
        }
    }
}

extension LocalCluster {
    func createQueue(_ name: String, via node: Int) async throws {
        let reply = try await HTTP.send("POST", "http://\(api(node))/v1/queues", body: HTTP.json(["name": name]))
        guard reply.status == 201 else { throw ClusterError.setup("create queue \(name): \(reply.status)") }
    }

    /// Creates named tasks one by one (each answered after commit); returns their ids.
    func createTasks(_ count: Int, queue: String, via node: Int, prefix: String = "t") async throws -> Set<String> {
        var ids: Set<String> = []
        for i in 0..<count {
            let body = HTTP.json(["name": "\(prefix)-\(i)", "kind": "http", "payload": ["url": "http://127.0.0.1:9/x"],
                                  "scheduleTime": "2099-01-01T00:00:00Z"])
            let reply = try await HTTP.send("POST", "http://\(api(node))/v1/queues/\(queue)/tasks", body: body)
            guard reply.status == 201, let id = reply.json?["id"] as? String else {
                throw ClusterError.setup("create task \(i): \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
            }
            ids.insert(id)
        }
        return ids
    }

    /// Every task id in a queue, read from `node`'s own replica.
    func taskIDs(queue: String, on node: Int) async throws -> Set<String> {
        var ids: Set<String> = []
        var token: String?
        for _ in 0..<100 {
            var url = "http://\(api(node))/v1/queues/\(queue)/tasks?consistency=stale&pageSize=100"
            if let token { url += "&pageToken=\(token)" }
            let reply = try await HTTP.send("GET", url)
            guard reply.status == 200, let json = reply.json else { throw ClusterError.setup("list tasks on n\(node): \(reply.status)") }
            for task in (json["tasks"] as? [[String: Any]]) ?? [] {
                if let id = task["id"] as? String { ids.insert(id) }
            }
            token = json["nextPageToken"] as? String
            if token == nil || token == "" { break }
        }
        return ids
    }

    struct SnapshotStatus {
        var snapshotIndex: UInt64
        var lastIndex: UInt64
        var appliedIndex: UInt64
    }

    func snapshotStatus(_ node: Int) async -> SnapshotStatus? {
        guard let reply = try? await HTTP.send("GET", "http://\(api(node))/v1/cluster?consistency=stale", timeout: 1),
              let json = reply.json,
              let snapshot = (json["snapshotIndex"] as? NSNumber)?.uint64Value,
              let last = (json["lastIndex"] as? NSNumber)?.uint64Value,
              let applied = (json["appliedIndex"] as? NSNumber)?.uint64Value
        else { return nil }
        return SnapshotStatus(snapshotIndex: snapshot, lastIndex: last, appliedIndex: applied)
    }

    func waitForSnapshotIndex(atLeast index: UInt64, on node: Int, seconds: Double = 30) async throws -> UInt64 {
        let deadline = Date().addingTimeInterval(seconds)
        var seen: UInt64 = 0
        while Date() < deadline {
            seen = await snapshotStatus(node)?.snapshotIndex ?? 0
            if seen >= index { return seen }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterError.timeout("n\(node) compacted only to \(seen), expected ≥ \(index):\n\(log(node).suffix(2000))")
    }

    func waitUntilApplied(node: Int, index: UInt64, seconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        var seen: UInt64 = 0
        while Date() < deadline {
            seen = await snapshotStatus(node)?.appliedIndex ?? 0
            if seen >= index { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterError.timeout("n\(node) applied only \(seen) of \(index):\n\(log(node).suffix(3000))")
    }

    /// The snapshot data files in a node's data directory.
    func snapshotFiles(_ node: Int) -> [String] {
        let dir = root.appendingPathComponent("n\(node)/snapshots").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("snap-") && $0.hasSuffix(".db") }
    }
}
