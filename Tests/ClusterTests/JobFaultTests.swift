import Foundation
import Testing

/// Jobs under faults: a node killed -9 while it runs map tasks, and a job cancelled mid-way.
/// Both use the test-only `testDelayMs` parameter (each task first sleeps, cancellably) so the
/// fault lands while tasks are running, whatever the machine's speed.
extension ClusterTests {
    /// Leases of 15 s: a debug-build map of a 160 KiB split takes 4–9 s on a starved test
    /// machine (load 24 on 2 cores), and while two maps hold the cooperative pool the
    /// executor's lease renewals (same pool) wait, so shorter leases expire on live nodes.
    static var faultConfig: [String: Any] { [
        "testTaskKinds": true, "executorSlots": 2, "leaseDurationMs": 15_000, "executorHeartbeatMs": 300,
        "executorLivenessMs": 3_000,
    ] }

    @Test func aWordCountJobSurvivesKillingANodeThatRunsItsMapTasks() async throws {
        let data = try JobData()
        defer { data.remove() }
        let corpus = JobData.corpus(lines: 70_000, seed: 21)
        try data.write("in/corpus.txt", corpus)
        var config = Self.faultConfig
        config["dataRoot"] = data.root.path
        config["jobSplitBytes"] = 160 * 1024
        let cluster = try LocalCluster(extraConfig: config)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()

        let id = try await JobClient.create("wordcount", [
            "inputFile": "in/corpus.txt", "output": "out/wc/counts", "numShards": 3, "tempLocation": "tmp", "testDelayMs": 1_000,
        ], cluster: cluster, node: leader)
        // Watch the running map tasks until every node's executor has had one, then kill a
        // follower while it holds one.
        var executors = Set<String>()
        var victim: (node: Int, task: String)?
        let deadline = Date().addingTimeInterval(60)
        while victim == nil && Date() < deadline {
            let running = await JobClient.tasks(id, cluster: cluster).filter {
                ($0["id"] as? String)?.contains("-map-") == true && ["leased", "running"].contains($0["state"] as? String ?? "")
            }
            executors.formUnion(running.compactMap { $0["executor"] as? String })
            if executors.count == 3, let task = running.first(where: { ($0["executor"] as? String) != "n\(leader)" }),
               let executor = task["executor"] as? String, let node = Int(executor.dropFirst()), let taskID = task["id"] as? String {
                victim = (node, taskID)
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let (node, lostTask) = try #require(victim, "every node ran map tasks: \(executors)")
        cluster.kill9(node)

        let job = try await JobClient.waitUntilTerminal(id, cluster: cluster, seconds: 90)
        #expect(job["state"] as? String == "DONE", "\(job)")
        let tasks = await JobClient.tasks(id, cluster: cluster)
        let lost = tasks.first { $0["id"] as? String == lostTask }
        #expect((lost?["attempts"] as? Int ?? 0) >= 2, "the killed node's map ran again elsewhere: \(lost ?? [:])")
        let outDir = data.root.appendingPathComponent("out/wc")
        let names = JobClient.names(outDir)
        #expect(names == ["counts-00000-of-00003", "counts-00001-of-00003", "counts-00002-of-00003"],
                "every shard exactly once, no temp or partial file left: \(names)")
        var counted: [String: Int] = [:]
        for name in names {
            for line in try String(contentsOf: outDir.appendingPathComponent(name), encoding: .utf8).split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let n = Int(parts[1].dropFirst()), counted[String(parts[0])] == nil else {
                    Issue.record("bad or repeated output line \(line)")
                    continue
                }
                counted[String(parts[0])] = n
            }
        }
        #expect(counted == JobData.referenceCount(corpus))
        #expect(try await JobClient.waitUntilGone(data.root.appendingPathComponent("tmp/\(id)"), seconds: 20), "temp dir removed")
    }

    /// Cancelling stops the running tasks in their executors (each node has two slots, all
    /// held by the cancelled job's ten-minute sleeps: a second job can only finish if the
    /// cancellation reached them), ends CANCELLED and removes the job's temp directory.
    @Test func cancellingAJobStopsItsRunningTasksAndRemovesItsTempDirectory() async throws {
        let data = try JobData()
        defer { data.remove() }
        try data.write("in/corpus.txt", JobData.corpus(lines: 8_000, seed: 3))
        var config = Self.faultConfig
        config["dataRoot"] = data.root.path
        config["jobSplitBytes"] = 16 * 1024
        let cluster = try LocalCluster(extraConfig: config)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let follower = cluster.members.map(\.id).first { $0 != leader } ?? 1

        let id = try await JobClient.create("wordcount", [
            "inputFile": "in/corpus.txt", "output": "out/slow", "tempLocation": "tmp", "testDelayMs": 600_000,
        ], cluster: cluster, node: follower)
        let temp = data.root.appendingPathComponent("tmp/\(id)")
        #expect(FileManager.default.fileExists(atPath: temp.path), "planning created the temp dir")
        var running = 0
        let deadline = Date().addingTimeInterval(30)
        while running < 6 && Date() < deadline {
            running = await JobClient.tasks(id, cluster: cluster).filter { ["leased", "running"].contains($0["state"] as? String ?? "") }.count
            if running < 6 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(running >= 6, "every slot of the three nodes runs one of the job's tasks")

        let cancel = try await HTTP.send("POST", "http://\(cluster.api(follower))/v1/jobs/\(id):cancel")
        #expect(cancel.status == 200, "\(String(decoding: cancel.body, as: UTF8.self))")
        #expect(["CANCELLING", "CANCELLED"].contains(cancel.json?["state"] as? String ?? ""), "\(cancel.json ?? [:])")
        let job = try await JobClient.waitUntilTerminal(id, cluster: cluster, seconds: 30)
        #expect(job["state"] as? String == "CANCELLED", "\(job)")
        #expect(try await JobClient.waitUntilGone(temp, seconds: 20), "the cancelled job's temp dir is removed")
        let tasks = await JobClient.tasks(id, cluster: cluster)
        #expect(tasks.allSatisfy { $0["state"] as? String == "cancelled" }, "\(tasks.map { $0["state"] ?? "?" })")
        #expect(JobClient.names(data.root.appendingPathComponent("out")).isEmpty, "no output")

        let next = try await JobClient.create("wordcount", ["inputFile": "in/corpus.txt", "output": "out/fast"],
                                              cluster: cluster, node: leader)
        let done = try await JobClient.waitUntilTerminal(next, cluster: cluster, seconds: 60)
        #expect(done["state"] as? String == "DONE", "the slots were freed: \(done)")
    }
}
