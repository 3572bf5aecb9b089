import Foundation
import Store

/// Builds a store of `taskCount` tasks through the ordinary apply path (createTask entries in
/// batches of 4096), then measures the scheduler's due-task query and a snapshot.
func largeStoreBench(directory: URL, taskCount: Int) throws -> [BenchRow] {
    let path = directory.appendingPathComponent("large.db").path
    let store = try StateStore(path: path)
    defer { store.close() }
    _ = try store.apply(entries: setupEntries(startIndex: 1))
    let clock = ContinuousClock()
    // Schedule times spread over 10^6 s (about 11.6 days) in a fixed pseudo-random order.
    var random = UInt64(0x5EED)
    func nextRandom() -> UInt64 {
        random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return random >> 17
    }
    let spreadMs: Int64 = 1_000_000_000
    let buildStart = clock.now
    var index = store.appliedIndex + 1
    var built = 0
    while built < taskCount {
        let count = min(4_096, taskCount - built)
        let entries = (0..<count).map { i -> LogEntry in
            let schedule = baseTimeMs + Int64(nextRandom() % UInt64(spreadMs))
            defer { index += 1 }
            return LogEntry(index: index, term: 1, data: Command.createTask(task(built + i, scheduleMs: schedule)).encoded())
        }
        _ = try store.apply(entries: entries)
        built += count
    }
    let buildSeconds = seconds(clock.now - buildStart)

    // Due-task query: the next 100 due, at times across the spread (so 0–100 % of tasks are due).
    var globalLatencies: [Double] = []
    var queueLatencies: [Double] = []
    for i in 0..<2_000 {
        let now = baseTimeMs + Int64(nextRandom() % UInt64(spreadMs))
        let start = clock.now
        let due = try store.dueTasks(nowMs: now, limit: 100)
        globalLatencies.append(seconds(clock.now - start) * 1_000)
        precondition(due.count <= 100)
        let queueStart = clock.now
        _ = try store.dueTasks(queue: queueNames[i % queueNames.count], nowMs: now, limit: 100)
        queueLatencies.append(seconds(clock.now - queueStart) * 1_000)
    }
    let expiredStart = clock.now
    for _ in 0..<1_000 { _ = try store.expiredLeases(nowMs: baseTimeMs + spreadMs, limit: 100) }
    let expiredMs = seconds(clock.now - expiredStart)

    let snapshotPath = directory.appendingPathComponent("large.snapshot").path
    let snapshotStart = clock.now
    try store.snapshot(to: snapshotPath)
    let snapshotSeconds = seconds(clock.now - snapshotStart)
    let snapshotBytes = (try FileManager.default.attributesOfItem(atPath: snapshotPath)[.size] as? Int) ?? 0

    let restoreStart = clock.now
    try store.restore(from: snapshotPath)
    let restoreSeconds = seconds(clock.now - restoreStart)
    let restoredCount = try store.taskCounts(queue: queueNames[0]).values.reduce(0, +)
    precondition(restoredCount == taskCount / queueNames.count, "restore lost tasks")

    return [
        BenchRow(name: "build 1M tasks via apply, batch 4096", value: Double(taskCount) / buildSeconds, unit: "cmd/s",
                 note: "\(String(format: "%.1f", buildSeconds)) s for \(taskCount) createTask"),
        BenchRow(name: "next 100 due (all queues) p50", value: percentile(globalLatencies, 0.50), unit: "ms", note: "\(taskCount) tasks stored"),
        BenchRow(name: "next 100 due (all queues) p99", value: percentile(globalLatencies, 0.99), unit: "ms", note: "2000 queries, random now"),
        BenchRow(name: "next 100 due (one queue) p50", value: percentile(queueLatencies, 0.50), unit: "ms", note: "125k tasks in that queue"),
        BenchRow(name: "next 100 due (one queue) p99", value: percentile(queueLatencies, 0.99), unit: "ms"),
        BenchRow(name: "expired leases (none) mean", value: expiredMs, unit: "ms", note: "1000 queries"),
        BenchRow(name: "snapshot (VACUUM INTO + fsync)", value: snapshotSeconds, unit: "s", note: "\(taskCount) tasks, 128-byte payloads"),
        BenchRow(name: "snapshot size", value: Double(snapshotBytes) / 1_048_576, unit: "MiB"),
        BenchRow(name: "restore (validate, copy, rename)", value: restoreSeconds, unit: "s", note: "includes integrity_check"),
    ]
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
