import Foundation
import Scheduler
@testable import Store
import Testing

let t0: Milliseconds = 1_780_000_000_000

/// A scheduler state made of closures; each test overrides what it needs.
struct FakeState: SchedulerState {
    var queuesBody: () -> [QueueRecord] = { [] }
    var dueBody: (String, Milliseconds, Int) -> [DueTask] = { _, _, _ in [] }
    var expiredBody: (Milliseconds) -> Bool = { _ in false }
    var activeBody: (String) -> Int = { _ in 0 }
    var executorsBody: () -> [ExecutorRecord] = { [] }
    var leaseCountBody: (String, Int) -> Int = { _, _ in 0 }
    var schedulesBody: () -> [ScheduleRecord] = { [] }

    func queues() -> [QueueRecord] { queuesBody() }
    func dueTasks(queue: String, nowMs: Milliseconds, limit: Int) -> [DueTask] { Array(dueBody(queue, nowMs, limit).prefix(limit)) }
    func hasExpiredLeases(nowMs: Milliseconds) -> Bool { expiredBody(nowMs) }
    func activeTaskCount(queue: String) -> Int { activeBody(queue) }
    func executors() -> [ExecutorRecord] { executorsBody() }
    func leaseCount(executorID: String, limit: Int) -> Int { leaseCountBody(executorID, limit) }
    func schedules() -> [ScheduleRecord] { schedulesBody() }
}

func queue(_ name: String = "q", state: QueueState = .running, rate: Double = 500, burst: Int = 100,
           concurrent: Int = 1_000) -> QueueRecord {
    QueueRecord(name: name, state: state,
                rateLimits: RateLimits(maxDispatchesPerSecond: rate, maxBurstSize: burst, maxConcurrentDispatches: concurrent),
                retryConfig: RetryConfig(), tombstoneWindowMs: 0, createTimeMs: t0, purgeTimeMs: nil)
}

func executor(_ id: String, slots: Int = 4, heartbeat: Milliseconds = t0) -> ExecutorRecord {
    ExecutorRecord(id: id, node: "node-\(id)", slots: slots, registerTimeMs: t0, lastHeartbeatMs: heartbeat)
}

/// An endless backlog: task ids `<queue>-<n>`, numbered from `first`.
func backlog(_ queue: String, from first: Int = 0) -> (String, Milliseconds, Int) -> [DueTask] {
    { name, _, limit in
        guard name == queue else { return [] }
        return (first..<(first + limit)).map { DueTask(id: "\(name)-\($0)", queue: name, scheduleTimeMs: t0, dispatchDeadlineMs: 60_000) }
    }
}

extension Command {
    var assignment: (task: String, executor: String, leaseUntil: Milliseconds)? {
        if case .assignTask(let task, let executor, let until, _) = self { return (task, executor, until) }
        return nil
    }
}

func assignments(_ commands: [Command]) -> [(task: String, executor: String, leaseUntil: Milliseconds)] {
    commands.compactMap(\.assignment)
}

/// A real in-memory store fed commands at increasing log indexes, as Raft would.
final class StoreHarness {
    let store: StateStore
    private(set) var index: UInt64 = 0

    init() throws {
        store = try StateStore(path: ":memory:")
    }

    deinit { store.close() }

    @discardableResult
    func apply(_ command: Command) throws -> ApplyOutcome {
        index += 1
        return try store.apply(index: index, term: 1, data: command.encoded()).outcome
    }

    var state: StoreSchedulerState { StoreSchedulerState(store: store) }
}
