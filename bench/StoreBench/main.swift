import Foundation
import Store

// Store benchmarks. Run with
//   swift run --scratch-path .build-store -c release StoreBench
// Prints one table; keep its columns stable so figures compare across changes.
// Every store is a temp file in WAL mode with synchronous=NORMAL (the Raft log is the durable
// record; the store can be rebuilt from it).

struct BenchRow {
    var name: String
    var value: Double
    var unit: String
    var note: String = ""
}

let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: workDirectory) }

/// CPU seconds used by this process: on a shared 2-core box the wall clock also counts
/// other people's work, so rows report both.
func cpuSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let baseTimeMs: Int64 = 1_700_000_000_000
let queueNames = (0..<8).map { "queue-\($0)" }

func setupEntries(startIndex: UInt64) -> [LogEntry] {
    var commands: [Command] = queueNames.map { .createQueue(QueueSpec(name: $0, nowMs: baseTimeMs)) }
    commands += (0..<4).map { .registerExecutor(executorID: "exec-\($0)", node: "node-\($0)", slots: 64, nowMs: baseTimeMs) }
    return commands.enumerated().map { LogEntry(index: startIndex + UInt64($0.offset), term: 1, data: $0.element.encoded()) }
}

func task(_ id: Int, scheduleMs: Int64) -> TaskSpec {
    TaskSpec(id: "task-\(id)", queue: queueNames[id % queueNames.count], kind: "http",
             payload: Data(repeating: UInt8(id & 0xFF), count: 128), scheduleTimeMs: scheduleMs, nowMs: baseTimeMs)
}

/// The realistic mix: every task is enqueued, assigned `lag` entries later, completed
/// `lag` entries after that — a third of the commands each, with a backlog always queued.
func mixEntries(tasks: Int, startIndex: UInt64) -> [LogEntry] {
    var entries: [LogEntry] = []
    entries.reserveCapacity(tasks * 3)
    var fences: [Int: UInt64] = [:]
    let lag = 500
    var index = startIndex
    func add(_ command: Command) {
        entries.append(LogEntry(index: index, term: 1, data: command.encoded()))
        index += 1
    }
    for i in 0..<(tasks + 2 * lag) {
        let now = baseTimeMs + Int64(i)
        if i < tasks { add(.createTask(task(i, scheduleMs: now))) }
        if i >= lag, i - lag < tasks {
            fences[i - lag] = index
            add(.assignTask(taskID: "task-\(i - lag)", executorID: "exec-\(i % 4)", leaseUntilMs: now + 30_000, nowMs: now))
        }
        if i >= 2 * lag, let fence = fences.removeValue(forKey: i - 2 * lag) {
            add(.completeTask(taskID: "task-\(i - 2 * lag)", fence: fence, result: Data("ok".utf8), counters: [:], nowMs: now))
        }
    }
    return entries
}

func applyThroughput(batch: Int, tasks: Int) throws -> BenchRow {
    let store = try StateStore(path: workDirectory.appendingPathComponent("mix-\(batch).db").path)
    defer { store.close() }
    _ = try store.apply(entries: setupEntries(startIndex: 1))
    let entries = mixEntries(tasks: tasks, startIndex: store.appliedIndex + 1)
    let clock = ContinuousClock()
    let start = clock.now
    let cpuStart = cpuSeconds()
    var offset = 0
    var rejected = 0
    while offset < entries.count {
        let end = min(offset + batch, entries.count)
        for result in try store.apply(entries: Array(entries[offset..<end])) {
            if case .rejected = result.outcome { rejected += 1 }
        }
        offset = end
    }
    let elapsed = seconds(clock.now - start)
    let cpu = cpuSeconds() - cpuStart
    precondition(rejected == 0, "the mix should apply cleanly, \(rejected) rejected")
    return BenchRow(name: "apply mix, batch \(batch)", value: Double(entries.count) / elapsed, unit: "cmd/s",
                    note: "\(Int(Double(entries.count) / cpu)) cmd per CPU-s; \(entries.count) cmds, 1/3 each enqueue/assign/complete")
}

/// The decode share of apply: the same entries, decoded only.
func decodeThroughput(tasks: Int) throws -> BenchRow {
    let entries = mixEntries(tasks: tasks, startIndex: 1)
    let clock = ContinuousClock()
    let start = clock.now
    let cpuStart = cpuSeconds()
    for entry in entries { _ = try Command.decode(entry.data, index: entry.index) }
    let elapsed = seconds(clock.now - start)
    let cpu = cpuSeconds() - cpuStart
    let bytes = entries.reduce(0) { $0 + $1.data.count }
    return BenchRow(name: "decode only (same mix)", value: Double(entries.count) / elapsed, unit: "cmd/s",
                    note: "\(Int(Double(entries.count) / cpu)) cmd per CPU-s; \(bytes / entries.count) bytes/entry")
}

/// Creates alone, as a node applies them at 64 clients (issue 4's write path): batches of
/// `batch` in a transaction committed every 800 entries (the node's 100 ms at 8,000 writes/s).
func createThroughput(batch: Int, tasks: Int) throws -> BenchRow {
    let store = try StateStore(path: workDirectory.appendingPathComponent("create-\(batch).db").path)
    defer { store.close() }
    _ = try store.apply(entries: setupEntries(startIndex: 1))
    store.deferCommits = true
    let first = store.appliedIndex + 1
    let entries = (0..<tasks).map { i in
        LogEntry(index: first + UInt64(i), term: 1, data: Command.createTask(task(i, scheduleMs: 0)).encoded())
    }
    let clock = ContinuousClock()
    let start = clock.now
    let cpuStart = cpuSeconds()
    var offset = 0
    var failed = 0
    while offset < entries.count {
        let end = min(offset + batch, entries.count)
        for result in try store.apply(entries: Array(entries[offset..<end])) {
            if case .created = result.outcome { continue }
            failed += 1
        }
        if (store.uncommitted?.entries ?? 0) >= 800 { try store.commitPending() }
        offset = end
    }
    try store.commitPending()
    let elapsed = seconds(clock.now - start)
    let cpu = cpuSeconds() - cpuStart
    precondition(failed == 0, "every create should apply, \(failed) did not")
    return BenchRow(name: "apply creates, batch \(batch)", value: Double(entries.count) / elapsed, unit: "cmd/s",
                    note: "\((cpu * 1e7 / Double(entries.count)).rounded() / 10) CPU-us per create; \(entries.count) creates")
}

var rows: [BenchRow] = []
rows.append(try decodeThroughput(tasks: 40_000))
rows.append(try createThroughput(batch: 16, tasks: 40_000))
for (batch, tasks) in [(1, 5_000), (64, 20_000), (1024, 40_000)] {
    rows.append(try applyThroughput(batch: batch, tasks: tasks))
}
// `StoreBench mix` skips the 1M-task part (for profiling the apply path).
if !CommandLine.arguments.contains("mix") {
    rows += try largeStoreBench(directory: workDirectory, taskCount: 1_000_000)
}

print(String(repeating: "-", count: 96))
print(pad("benchmark", 40) + padLeft("value", 14) + "  " + pad("unit", 10) + " note")
print(String(repeating: "-", count: 96))
for row in rows {
    print(pad(row.name, 40) + padLeft(format(row.value), 14) + "  " + pad(row.unit, 10) + " " + row.note)
}
// The box is shared: the load average says how much the wall-clock rows were contended.
let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
print("load average at end: \(load) (2 cores); cmd per CPU-s is the figure for an idle machine")

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func padLeft(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
func format(_ v: Double) -> String {
    v >= 100 ? String(Int(v.rounded())) : String((v * 1000).rounded() / 1000)
}
