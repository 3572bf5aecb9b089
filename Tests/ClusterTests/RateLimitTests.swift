import Foundation
import Testing

/// A queue's token bucket holds across real processes: a queue limited to 20 dispatches per
/// second delivers at 20 ± 10% per second (issue 5), and no one-second window ever sees more
/// than rate + burst deliveries.
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
        // Never more than rate + burst in any one-second window.
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= 1000 { start += 1 }
            #expect(end - start + 1 <= Int(rate) + burst, "\(end - start + 1) deliveries within one second")
            if end - start + 1 > Int(rate) + burst { break }
        }
    }
}
