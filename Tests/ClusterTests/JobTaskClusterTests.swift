import Foundation
import Testing

/// Tasks of kind `job` (issue 11): each launches a job run, exactly once per run, and ends with
/// the job's outcome; the executor's slot is free while the job runs.
extension ClusterTests {
    /// One slot per node: a `job` task that held its slot while its job ran would starve the
    /// job's own tasks (three job tasks would hold every slot of the cluster).
    static var jobTaskConfig: [String: Any] { [
        "testTaskKinds": true, "executorSlots": 1, "leaseDurationMs": 4_000, "executorHeartbeatMs": 300,
        "executorLivenessMs": 2_000,
    ] }

    static func jobTask(_ template: String, _ parameters: [String: Any]) -> [String: Any] {
        ["kind": "job", "payload": ["template": template, "parameters": parameters]]
    }

    static func createTask(_ queue: String, _ body: [String: Any], cluster: LocalCluster, node: Int) async throws -> String {
        let reply = try await HTTP.send("POST", "http://\(cluster.api(node))/v1/queues/\(queue)/tasks", body: HTTP.json(body))
        #expect(reply.status == 201, "\(String(decoding: reply.body, as: UTF8.self))")
        guard let id = reply.json?["id"] as? String else { throw ClusterError.setup("task not created: \(reply.status)") }
        return id
    }

    static func getJSON(_ url: String) async -> [String: Any]? {
        guard let reply = try? await HTTP.send("GET", url, timeout: 5), reply.status == 200 else { return nil }
        return reply.json
    }

    /// Every task of `queue` from `node` (one page is enough for these tests).
    static func queueTasks(_ queue: String, cluster: LocalCluster, node: Int) async -> [[String: Any]] {
        (await getJSON("http://\(cluster.api(node))/v1/queues/\(queue)/tasks?pageSize=1000")?["tasks"] as? [[String: Any]]) ?? []
    }

    static func jobs(cluster: LocalCluster, node: Int) async -> [[String: Any]] {
        (await getJSON("http://\(cluster.api(node))/v1/jobs?pageSize=1000")?["jobs"] as? [[String: Any]]) ?? []
    }

    static func attempts(_ queue: String, _ task: String, cluster: LocalCluster, node: Int) async -> [[String: Any]] {
        (await getJSON("http://\(cluster.api(node))/v1/queues/\(queue)/tasks/\(task)/attempts")?["attempts"] as? [[String: Any]]) ?? []
    }

    static func date(_ text: Any?) -> Date? {
        guard let text = text as? String else { return nil }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Ten `job` tasks through a 2/s queue on one-slot nodes (no deadlock), a follower that
    /// launched a running job killed -9: every task succeeds with exactly one run; meanwhile a
    /// minutely schedule launches a job whose output path comes from its fire time and zone.
    @Test func tenJobTasksAtTwoPerSecondEachRunTheirJobOnceThoughTheLaunchingNodeIsKilled() async throws {
        let data = try JobData()
        defer { data.remove() }
        for i in 0..<10 { try data.write("in/doc-\(i).txt", "alpha beta beta gamma \(i)\n") }
        var config = Self.jobTaskConfig
        config["dataRoot"] = data.root.path
        let cluster = try LocalCluster(extraConfig: config)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let api = "http://\(cluster.api(leader))"
        let queue = try await HTTP.send("POST", "\(api)/v1/queues", body: HTTP.json([
            "name": "launches", "rateLimits": ["maxDispatchesPerSecond": 2, "maxBurstSize": 1],
        ]))
        #expect(queue.status == 201)
        // A schedule that launches a job every minute, its output path filled from the fire
        // time in a zone 14 hours ahead of UTC (checked at the end, while the rest runs).
        let cron = try await HTTP.send("POST", "\(api)/v1/queues", body: HTTP.json(["name": "cron"]))
        #expect(cron.status == 201)
        let schedule = try await HTTP.send("POST", "\(api)/v1/schedules", body: HTTP.json([
            "name": "minutely", "cron": "* * * * *", "timeZone": "Pacific/Kiritimati", "queue": "cron",
            "task": Self.jobTask("wordcount", ["inputFile": "in/doc-0.txt", "output": "out/cron/{{date}}/{{hour}}{{minute}}/counts",
                                               "numShards": 1, "tempLocation": "tmp"]),
        ]))
        #expect(schedule.status == 201, "\(String(decoding: schedule.body, as: UTF8.self))")
        var ids: [String] = []
        for i in 0..<10 {
            ids.append(try await Self.createTask("launches", Self.jobTask("wordcount", [
                "inputFile": "in/doc-\(i).txt", "output": "out/\(i)/counts", "numShards": 1, "tempLocation": "tmp",
                "testDelayMs": 1_500,
            ]), cluster: cluster, node: leader))
        }
        // Kill a follower whose executor launched a job that is still running.
        var victim: Int?
        let deadline = Date().addingTimeInterval(60)
        while victim == nil && Date() < deadline {
            for task in await Self.queueTasks("launches", cluster: cluster, node: leader) where task["state"] as? String == "running" {
                guard let id = task["id"] as? String, let job = (task["result"] as? [String: Any])?["job"] as? String,
                      (await Self.getJSON("\(api)/v1/jobs/\(job)"))?["state"] as? String == "RUNNING",
                      let executor = await Self.attempts("launches", id, cluster: cluster, node: leader).last?["executor"] as? String,
                      let node = Int(executor.dropFirst()), node != leader else { continue }
                victim = node
                break
            }
            if victim == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let killed = try #require(victim, "a follower launched a job")
        cluster.kill9(killed)

        var tasks: [[String: Any]] = []
        let end = Date().addingTimeInterval(120)
        while Date() < end {
            tasks = await Self.queueTasks("launches", cluster: cluster, node: leader)
            if tasks.count == 10 && tasks.allSatisfy({ ["succeeded", "dead", "cancelled"].contains($0["state"] as? String ?? "") }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let jobs = await Self.jobs(cluster: cluster, node: leader)
        var dispatches: [Date] = []
        for id in ids {
            let task = try #require(tasks.first { $0["id"] as? String == id })
            #expect(task["state"] as? String == "succeeded", "\(task)")
            // A second attempt only when the first one's lease expired on the killed node
            // before it launched anything (the run is still r1).
            let history = await Self.attempts("launches", id, cluster: cluster, node: leader)
            #expect(history.dropLast().allSatisfy { $0["outcome"] as? String == "lease_expired" }, "\(history)")
            let result = task["result"] as? [String: Any]
            #expect(result?["job"] as? String == "\(id).r1")
            #expect(result?["state"] as? String == "DONE")
            #expect((result?["outputs"] as? [String])?.count == 1, "the job's output file: \(result ?? [:])")
            let runs = jobs.filter { ($0["id"] as? String)?.hasPrefix("\(id).r") == true }
            #expect(runs.count == 1 && runs.first?["state"] as? String == "DONE", "exactly one run, DONE: \(runs)")
            if let first = history.first, let at = Self.date(first["dispatchTime"]) {
                dispatches.append(at)
            }
        }
        #expect(jobs.filter { ($0["id"] as? String)?.hasPrefix("minutely@") != true }.count == 10,
                "no other job was created: \(jobs.map { $0["id"] ?? "" })")
        // 2 dispatches/s with a burst of 1: ten dispatches take at least 4.5 s.
        dispatches.sort()
        if let first = dispatches.first, let last = dispatches.last {
            #expect(dispatches.count == 10 && last.timeIntervalSince(first) >= 4.0, "dispatch times: \(dispatches)")
        }
        let counts = try String(contentsOf: data.root.appendingPathComponent("out/3/counts-00000-of-00001"), encoding: .utf8)
        #expect(counts.contains("beta: 2"), "\(counts)")

        // The schedule's first fire (at most a minute after its creation) ran its job, with the
        // placeholders read in the schedule's zone at the slot's time.
        var fired: [String: Any]?
        let cronEnd = Date().addingTimeInterval(75)
        while fired == nil && Date() < cronEnd {
            fired = await Self.queueTasks("cron", cluster: cluster, node: leader).first { $0["state"] as? String == "succeeded" }
            if fired == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        let task = try #require(fired, "the schedule fired and its job task succeeded")
        let id = try #require(task["id"] as? String)
        let slot = try #require(id.split(separator: "@").last.flatMap { Int64($0) })
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Pacific/Kiritimati"))
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: Date(timeIntervalSince1970: Double(slot) / 1_000))
        let expected = String(format: "out/cron/%04d-%02d-%02d/%02d%02d/counts", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                              parts.hour ?? 0, parts.minute ?? 0)
        let result = task["result"] as? [String: Any]
        #expect(result?["output"] as? String == expected, "\(task)")
        #expect(result?["job"] as? String == "\(id).r1")
    }

    @Test func aFailingJobIsRetriedWithBackoffUntilTheTaskIsDeadAndCancellingATaskCancelsItsJob() async throws {
        let data = try JobData()
        defer { data.remove() }
        try data.write("in/bad.csv", "a,b\n1,2\n1,2,3\n")
        try data.write("in/doc.txt", "one two\n")
        var config = Self.jobTaskConfig
        config["dataRoot"] = data.root.path
        let cluster = try LocalCluster(extraConfig: config)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let api = "http://\(cluster.api(leader))"
        let queue = try await HTTP.send("POST", "\(api)/v1/queues", body: HTTP.json([
            "name": "flaky", "retryConfig": ["maxAttempts": 3, "minBackoffMs": 300, "maxBackoffMs": 600],
        ]))
        #expect(queue.status == 201)
        let failing = try await Self.createTask("flaky", Self.jobTask("csv-clean", [
            "inputFile": "in/bad.csv", "output": "out/bad/clean", "tempLocation": "tmp", "spec": ["malformed": "fail"],
        ]), cluster: cluster, node: leader)
        let slow = try await Self.createTask("flaky", Self.jobTask("wordcount", [
            "inputFile": "in/doc.txt", "output": "out/slow/counts", "tempLocation": "tmp", "testDelayMs": 600_000,
        ]), cluster: cluster, node: leader)

        // The slow task's job runs: cancel the task, and its job is cancelled.
        var slowJob: String?
        let deadline = Date().addingTimeInterval(60)
        while slowJob == nil && Date() < deadline {
            let task = await Self.getJSON("\(api)/v1/queues/flaky/tasks/\(slow)")
            if task?["state"] as? String == "running" { slowJob = (task?["result"] as? [String: Any])?["job"] as? String }
            if slowJob == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let job = try #require(slowJob)
        let cancel = try await HTTP.send("POST", "\(api)/v1/queues/flaky/tasks/\(slow):cancel")
        #expect(cancel.status == 200, "\(String(decoding: cancel.body, as: UTF8.self))")
        let cancelled = try await JobClient.waitUntilTerminal(job, cluster: cluster, seconds: 30)
        #expect(cancelled["state"] as? String == "CANCELLED", "\(cancelled)")

        var task: [String: Any] = [:]
        let end = Date().addingTimeInterval(120)
        while Date() < end {
            task = await Self.getJSON("\(api)/v1/queues/flaky/tasks/\(failing)") ?? [:]
            if task["state"] as? String == "dead" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(task["state"] as? String == "dead", "\(task)")
        #expect(task["attempts"] as? Int == 3)
        #expect((task["lastError"] as? String)?.contains("failed") == true, "\(task)")
        let runs = await Self.jobs(cluster: cluster, node: leader).filter { ($0["id"] as? String)?.hasPrefix("\(failing).r") == true }
        #expect(runs.compactMap { $0["id"] as? String }.sorted() == ["\(failing).r1", "\(failing).r2", "\(failing).r3"], "one run per attempt")
        #expect(runs.allSatisfy { $0["state"] as? String == "FAILED" }, "\(runs)")
        // Each retry waited for its backoff (at least minBackoffMs) after the failed attempt ended.
        let history = await Self.attempts("flaky", failing, cluster: cluster, node: leader)
        #expect(history.count == 3)
        for (previous, next) in zip(history, history.dropFirst()) {
            if let ended = Self.date(previous["endTime"]), let dispatched = Self.date(next["dispatchTime"]) {
                #expect(dispatched.timeIntervalSince(ended) >= 0.29, "backoff: \(previous) → \(next)")
            } else {
                Issue.record("attempt times missing: \(history)")
            }
        }
    }
}
