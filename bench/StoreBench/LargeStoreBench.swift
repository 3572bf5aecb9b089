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
    let buildCPUStart = cpuSeconds()
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
    let buildCPU = cpuSeconds() - buildCPUStart

    // Due-task query: the next 100 due, at random times across the spread. Wall latency
    // and this thread's CPU time per query (the box is shared: wall p99 includes waiting for a core).
    for _ in 0..<200 { _ = try store.dueTasks(nowMs: baseTimeMs + spreadMs, limit: 100) }  // warm the cache
    var globalLatencies: [Double] = []
    var globalCPU: [Double] = []
    var queueLatencies: [Double] = []
    var queueCPU: [Double] = []
    for i in 0..<2_000 {
        let now = baseTimeMs + Int64(nextRandom() % UInt64(spreadMs))
        let cpuStart = threadCPUSeconds()
        let start = clock.now
        let due = try store.dueTasks(nowMs: now, limit: 100)
        globalLatencies.append(seconds(clock.now - start) * 1_000)
        globalCPU.append((threadCPUSeconds() - cpuStart) * 1_000)
        precondition(due.count <= 100)
        let queueCPUStart = threadCPUSeconds()
        let queueStart = clock.now
        _ = try store.dueTasks(queue: queueNames[i % queueNames.count], nowMs: now, limit: 100)
        queueLatencies.append(seconds(clock.now - queueStart) * 1_000)
        queueCPU.append((threadCPUSeconds() - queueCPUStart) * 1_000)
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
                 note: "\(Int(Double(taskCount) / buildCPU)) cmd per CPU-s; \(Int(buildSeconds)) s wall"),
        BenchRow(name: "next 100 due (all queues) p50", value: percentile(globalLatencies, 0.50), unit: "ms",
                 note: "wall; CPU p50 \(format(percentile(globalCPU, 0.50))) ms; \(taskCount) tasks stored"),
        BenchRow(name: "next 100 due (all queues) p99", value: percentile(globalLatencies, 0.99), unit: "ms",
                 note: "wall; CPU p99 \(format(percentile(globalCPU, 0.99))) ms; 2000 queries, random now"),
        BenchRow(name: "next 100 due (one queue) p50", value: percentile(queueLatencies, 0.50), unit: "ms",
                 note: "wall; CPU p50 \(format(percentile(queueCPU, 0.50))) ms; 125k tasks in that queue"),
        BenchRow(name: "next 100 due (one queue) p99", value: percentile(queueLatencies, 0.99), unit: "ms",
                 note: "wall; CPU p99 \(format(percentile(queueCPU, 0.99))) ms"),
        BenchRow(name: "expired leases (none) mean", value: expiredMs, unit: "ms", note: "1000 queries"),
        BenchRow(name: "snapshot (VACUUM INTO + fsync)", value: snapshotSeconds, unit: "s", note: "\(taskCount) tasks, 128-byte payloads"),
        BenchRow(name: "snapshot size", value: Double(snapshotBytes) / 1_048_576, unit: "MiB"),
        BenchRow(name: "restore (validate, copy, rename)", value: restoreSeconds, unit: "s", note: "includes integrity_check"),
    ]
}

func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
