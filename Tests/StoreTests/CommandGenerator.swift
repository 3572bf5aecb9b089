import Foundation
@testable import Store

/// SplitMix64: a tiny seeded generator, so a failing sequence replays from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generates a realistic random command stream. It peeks at a reference store to pick
/// live tasks and their fences (and sometimes deliberately stale ones), so most commands do
/// something and the edge cases (rejections, stale fences, expiry, retries) all occur.
struct CommandGenerator {
    var random: SeededRandom
    var now: Milliseconds = t0
    var serial = 0
    let queues = ["alpha", "beta", "gamma"]
    let executors = ["e1", "e2", "e3"]
    var oldFences: [(String, UInt64)] = []

    init(seed: UInt64) { random = SeededRandom(state: seed) }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
    mutating func nextID(_ prefix: String) -> String {
        serial += 1
        return "\(prefix)\(serial)"
    }

    /// The commands every stream starts with.
    func preamble() -> [Command] {
        queues.map { .createQueue(QueueSpec(name: $0, retryConfig: RetryConfig(maxAttempts: 3, minBackoffMs: 10, maxBackoffMs: 1_000, maxDoublings: 3), tombstoneWindowMs: 5_000, nowMs: t0)) }
            + executors.map { .registerExecutor(executorID: $0, node: "n-\($0)", slots: 8, nowMs: t0) }
    }

    /// The next command (nil = a Raft no-op entry), chosen against `store`'s current state.
    mutating func next(_ store: StateStore) throws -> Command? {
        now += Int64.random(in: 0...40, using: &random)
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<30: return createTask()
        case 30..<50:
            guard let due = try store.dueTasks(nowMs: now, limit: 5).first else { return createTask() }
            return .assignTask(taskID: due.id, executorID: pick(executors), leaseUntilMs: now + Int64.random(in: 50...400, using: &random), nowMs: now)
        case 50..<70: return try report(store)
        case 70..<74: return .expireLeases(nowMs: now, limit: 20)
        case 74..<78:
            let leased = try store.leasedTasks(executorID: pick(executors), limit: 10)
            let refs = leased.compactMap { task in task.fence.map { LeaseRef(taskID: task.id, fence: $0) } }
            return .renewLeases(executorID: pick(executors), leases: refs + oldFences.suffix(2).map { LeaseRef(taskID: $0.0, fence: $0.1) }, leaseUntilMs: now + 300, nowMs: now)
        case 78..<81: return .cancelTask(taskID: "t\(Int.random(in: 1...max(serial, 1), using: &random))", nowMs: now)
        case 81..<83: return .deleteTask(taskID: "t\(Int.random(in: 1...max(serial, 1), using: &random))", nowMs: now)
        case 83..<85: return .runTask(taskID: "t\(Int.random(in: 1...max(serial, 1), using: &random))", nowMs: now)
        case 85..<87: return chance(50) ? .pauseQueue(name: pick(queues)) : .resumeQueue(name: pick(queues))
        case 87: return chance(70) ? .purgeQueue(name: pick(queues), nowMs: now) : .deleteQueue(name: pick(queues), nowMs: now)
        case 88..<90: return createJob()
        case 90..<92: return chance(50) ? .cancelJob(jobID: "j\(Int.random(in: 1...max(serial, 1), using: &random))", nowMs: now)
            : .finishJob(jobID: "j\(Int.random(in: 1...max(serial, 1), using: &random))", failed: chance(30), error: nil, nowMs: now)
        case 92..<94:
            let dead = try store.listTasks(queue: pick(queues), state: .dead, pageSize: 1).items.first
            return dead.map { .redriveDeadTask(taskID: $0.id, nowMs: now) } ?? .collectGarbage(nowMs: now, limit: 50)
        case 94: return .recordScheduleFire(scheduleID: "s1", fireTimeMs: now - Int64.random(in: 0...100, using: &random), taskID: nextID("t"), nowMs: now)
        case 95: return .createSchedule(ScheduleSpec(id: "s1", cron: "*/5 * * * *", queue: pick(queues), kind: "cron", nowMs: now))
        case 96:
            // Re-creates a deleted queue (or is rejected with queueExists).
            return chance(50) ? .executorHeartbeat(executorID: pick(executors), nowMs: now)
                : .createQueue(QueueSpec(name: pick(queues), retryConfig: RetryConfig(maxAttempts: 2, minBackoffMs: 10, maxBackoffMs: 100), tombstoneWindowMs: 1_000, nowMs: now))
        case 97: return .updateQueue(QueueSpec(name: pick(queues), retryConfig: RetryConfig(maxAttempts: Int.random(in: 1...4, using: &random), minBackoffMs: 10, maxBackoffMs: 500), tombstoneWindowMs: 2_000, nowMs: now))
        case 98: return .updateJobProgress(jobID: "j\(Int.random(in: 1...max(serial, 1), using: &random))", counters: ["x": Int64(roll)], nowMs: now)
        default: return nil
        }
    }

    mutating func createTask(job: String? = nil) -> Command {
        let id = nextID("t")
        let name: String? = chance(20) ? "name\(Int.random(in: 0..<30, using: &random))" : nil
        let key: String? = chance(10) ? "key\(Int.random(in: 0..<20, using: &random))" : nil
        let payload = Data((0..<Int.random(in: 0..<64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        return .createTask(TaskSpec(id: id, queue: pick(queues), name: name, jobID: job, kind: "k", payload: key == nil ? payload : Data("same".utf8),
                                    scheduleTimeMs: now + Int64.random(in: -50...200, using: &random), nowMs: now, idempotencyKey: key))
    }

    mutating func createJob() -> Command {
        let id = nextID("j")
        var tasks: [TaskSpec] = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            if case .createTask(let spec) = createTask() { tasks.append(TaskSpec(id: spec.id, queue: spec.queue, kind: "map", scheduleTimeMs: spec.scheduleTimeMs, nowMs: now)) }
        }
        return .createJob(JobSpec(id: id, template: "WordCount", tasks: tasks, nowMs: now, idempotencyKey: chance(20) ? "jk\(serial % 7)" : nil))
    }

    mutating func report(_ store: StateStore) throws -> Command {
        let leased = try store.leasedTasks(executorID: pick(executors), limit: 10)
        if chance(15), let (id, fence) = oldFences.last {
            return .completeTask(taskID: id, fence: fence, result: Data("stale".utf8), counters: [:], nowMs: now)
        }
        guard !leased.isEmpty else { return .expireLeases(nowMs: now, limit: 5) }
        let task = pick(leased)
        let fence = task.fence ?? 0
        oldFences.append((task.id, fence))
        if oldFences.count > 50 { oldFences.removeFirst() }
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<6: return .completeTask(taskID: task.id, fence: fence, result: Data("r\(serial)".utf8), counters: ["n": 1], nowMs: now)
        case 6..<9: return .failTask(taskID: task.id, fence: fence, error: "err", nowMs: now)
        default: return .startTask(taskID: task.id, fence: fence, nowMs: now)
        }
    }
}
