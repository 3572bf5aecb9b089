import Foundation
import Testing

/// A queue's token bucket holds across real processes: a queue limited to 20 dispatches per
/// second delivers at 20 ± 10% per second (issue 5), and no one-second window ever sees more
/// than rate + burst dispatches.
extension ClusterTests {
    @Test func aQueueLimitedTo20PerSecondDeliversAt20PerSecond() async throws {
        let sink = try await HTTPSink()
        let cluster = try LocalCluster()
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        let rate = 20.0, burst = 5, count = 100
        let queue = HTTP.json(["name": "paced", "rateLimits": ["maxDispatchesPerSecond": rate, "maxBurstSize": burst]])
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues", body: queue).status == 201)
        // Paused while the tasks are created, so the measured run starts with a full backlog.
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues/paced:pause").status == 200)
        let ids = try await TaskClient.create(count, in: ["paced"], cluster: cluster) { i in
            ["kind": "http", "payload": ["url": "\(sink.url)/paced/\(i)"]]
        }
        #expect(ids.count == count)
        #expect(try await HTTP.send("POST", "http://\(cluster.api(leader))/v1/queues/paced:resume").status == 200)
        let done = try await TaskClient.waitUntilSettled(count, in: ["paced"], state: "succeeded", cluster: cluster, seconds: 60)
        #expect(done.count == count)

        let ours = Set(ids.map(\.id))
        let times = sink.deliveries().filter { $0.taskId.map(ours.contains) == true }.map(\.timeMs).sorted()
        #expect(times.count == count)
        guard let first = times.first, let last = times.last, last > first else { return }
        // After the initial burst the bucket refills at `rate`: (count - burst) more in (last - first).
        let measured = Double(count - burst) / ((last - first) / 1000)
        print("[rate] measured \(measured) dispatches/s for a limit of \(rate) (\(count) tasks, burst \(burst))")
        #expect(abs(measured - rate) <= rate * 0.1, "measured \(measured) dispatches/s for a limit of \(rate)")
        // Never more than rate + burst dispatches in any one-second window. The bucket paces the
        // leader's dispatches, so the window is checked on each attempt's dispatch time (the
        // leader's stamp, in the log): delivery times at the sink add each executor's own delay,
        // and that jitter alone once put 26 deliveries in one second.
        let stamps = ISO8601DateFormatter()
        stamps.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var dispatched: [Double] = []
        for id in ids.map(\.id) {
            let reply = try await HTTP.send("GET", "http://\(cluster.api(leader))/v1/queues/paced/tasks/\(id)/attempts")
            for attempt in (reply.json?["attempts"] as? [[String: Any]]) ?? [] {
                if let text = attempt["dispatchTime"] as? String, let date = stamps.date(from: text) {
                    dispatched.append(date.timeIntervalSince1970 * 1000)
                }
            }
        }
        dispatched.sort()
        #expect(dispatched.count == count, "one attempt per task")
        var start = 0
        for end in dispatched.indices {
            while dispatched[end] - dispatched[start] >= 1000 { start += 1 }
            #expect(end - start + 1 <= Int(rate) + burst, "\(end - start + 1) dispatches within one second")
            if end - start + 1 > Int(rate) + burst { break }
        }
    }
}
