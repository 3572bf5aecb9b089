import Foundation
import Testing
import TestSupport

/// `/metrics`, the `X-Trireme-Index` / `X-Request-Id` headers and long-poll watches on a live
/// three-process cluster (one cluster for the lot: starting one costs seconds).
@Suite(.serialized, .ownThreads) struct ObservabilityTests {
    @Test func metricsShowTheClusterAndWatchesWakeOnChangeOrTimeout() async throws {
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let base = "http://\(cluster.api(leader))"
        #expect(try await HTTP.send("POST", "\(base)/v1/queues", body: HTTP.json(["name": "obs"])).status == 201)
        // Paused: no executor touches the tasks, so only this test changes them.
        #expect(try await HTTP.send("POST", "\(base)/v1/queues/obs:pause").status == 200)
        var ids: [String] = []
        for i in 0..<5 {
            let reply = try await HTTP.send("POST", "\(base)/v1/queues/obs/tasks",
                                            body: HTTP.json(["kind": "http", "name": "t\(i)", "payload": ["url": "http://127.0.0.1:9/"]]))
            #expect(reply.status == 201)
            if let id = reply.json?["id"] as? String { ids.append(id) }
        }
        try #require(ids.count == 5)
        try await checkMetrics(cluster, leader: leader)
        try await checkWatch(cluster, base: base, changed: ids[0], unchanged: ids[1])
        try await checkCLI(cluster, leader: leader, changing: ids[2])
    }

    private func checkMetrics(_ cluster: LocalCluster, leader: Int) async throws {
        var leaders = 0
        for member in cluster.members {
            let before = try #require(await cluster.status(member.id))
            let scrape = try await HTTP.send("GET", "http://\(cluster.api(member.id))/metrics")
            let after = try #require(await cluster.status(member.id))
            #expect(scrape.status == 200)
            #expect(scrape.headers["content-type"]?.hasPrefix("text/plain") == true)
            let text = String(decoding: scrape.body, as: UTF8.self)
            let samples = Self.samples(text)
            if samples[#"trireme_raft_role{role="leader"}"#] == 1 { leaders += 1 }
            let applied = try #require(samples["trireme_raft_applied_index"], "n\(member.id) scrape:\n\(text)")
            #expect(Double(before.appliedIndex) <= applied && applied <= Double(after.appliedIndex))
            #expect(samples["trireme_raft_term"] == Double(after.term) || samples["trireme_raft_term"] == Double(before.term))
            #expect(samples[#"trireme_queue_tasks{queue="obs",state="queued"}"#] == 5, "stale read of the replicated counts")
            if member.id == leader {
                let creates = samples[#"trireme_http_requests_total{route="/v1/queues/{queue}/tasks",method="POST",status="201"}"#]
                #expect((creates ?? 0) >= 5, "\(text)")
                #expect((samples["trireme_raft_proposals_total"] ?? 0) >= 7)
                #expect((samples["trireme_raft_persist_seconds_count"] ?? 0) >= 1)
            }
            #expect((samples["trireme_raft_committed_entries_total"] ?? 0) >= 7)
            #expect(samples.keys.contains { $0.hasPrefix("trireme_peer_dropped_messages_total{peer=") }, "\(text)")
        }
        #expect(leaders == 1, "exactly one node reports itself leader")
    }

    private func checkWatch(_ cluster: LocalCluster, base: String, changed: String, unchanged: String) async throws {
        let first = try await HTTP.send("GET", "\(base)/v1/queues/obs/tasks/\(changed)")
        #expect(first.headers["x-request-id"]?.isEmpty == false)
        let index = try #require(first.headers["x-trireme-index"].flatMap { UInt64($0) })
        #expect(first.json?["state"] as? String == "queued")

        // Nothing changes the other task: the watch answers at its timeout, unchanged.
        let quiet = try await HTTP.send("GET", "\(base)/v1/queues/obs/tasks/\(unchanged)?waitIndex=\(index)&wait=300ms")
        #expect(quiet.status == 200)
        #expect(quiet.json?["state"] as? String == "queued")
        #expect((quiet.headers["x-trireme-index"].flatMap { UInt64($0) } ?? 0) >= index)

        // A parked watch wakes when the task changes and reports the new index.
        // 30 s: a generous bound that stays under URLSession's 60 s request timeout.
        async let woken = HTTP.send("GET", "\(base)/v1/queues/obs/tasks/\(changed)?waitIndex=\(index)&wait=30s", timeout: 50)
        try await waitForWaiter(base)
        // Cancelling is idempotent: retried (bounded) when a loaded machine makes the node answer
        // 503/504 (a ReadIndex round or a commit that did not finish in time).
        var cancel = try await HTTP.send("POST", "\(base)/v1/queues/obs/tasks/\(changed):cancel")
        for _ in 0..<10 where cancel.status == 503 || cancel.status == 504 {
            try await Task.sleep(for: .milliseconds(200))
            cancel = try await HTTP.send("POST", "\(base)/v1/queues/obs/tasks/\(changed):cancel")
        }
        // 409: an earlier try that answered 503 had committed after all; the task's index then
        // comes from a read, which reflects at least that commit.
        #expect(cancel.status == 200 || cancel.status == 409, "\(String(decoding: cancel.body, as: UTF8.self))")
        let indexSource = cancel.status == 200 ? cancel : try await HTTP.send("GET", "\(base)/v1/queues/obs/tasks/\(changed)")
        let cancelIndex = try #require(indexSource.headers["x-trireme-index"].flatMap { UInt64($0) })
        let reply = try await woken
        #expect(reply.status == 200)
        #expect(reply.json?["state"] as? String == "cancelled")
        #expect((reply.headers["x-trireme-index"].flatMap { UInt64($0) } ?? 0) >= cancelIndex)

        for bad in ["waitIndex=x", "waitIndex=-1", "waitIndex=1&wait=61s", "waitIndex=1&wait=0s", "waitIndex=1&wait=10",
                    "wait=5s", "waitIndex=1&wait=s"] {
            let reply = try await HTTP.send("GET", "\(base)/v1/queues/obs/tasks/\(unchanged)?\(bad)")
            #expect(reply.status == 400, "\(bad)")
        }
    }

    /// Until the node has parked the watch (bounded; the gauge is set at scrape time).
    func waitForWaiter(_ base: String) async throws {
        for _ in 0..<500 {
            let scrape = try await HTTP.send("GET", "\(base)/metrics")
            if (Self.samples(String(decoding: scrape.body, as: UTF8.self))["trireme_watch_waiters"] ?? 0) >= 1 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the watch never parked")
    }

    /// `name{labels} value` lines of a Prometheus text page.
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }
}
