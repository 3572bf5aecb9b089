import Foundation
import Scheduler
@testable import Store
import Testing

/// The scheduler over a real store: commands it plans are applied at increasing indexes.
@Suite struct StoreBackedTests {
    func setUp(retry: RetryConfig = RetryConfig()) throws -> StoreHarness {
        let harness = try StoreHarness()
        try harness.apply(.createQueue(QueueSpec(name: "q", retryConfig: retry, nowMs: t0)))
        try harness.apply(.registerExecutor(executorID: "e1", node: "n1", slots: 4, nowMs: t0))
        return harness
    }

    /// Plans once and applies everything, telling the core; returns the assignments' fences.
    @discardableResult
    func step(_ core: inout SchedulerCore, _ harness: StoreHarness, at now: Milliseconds) throws -> [String: UInt64] {
        var fences: [String: UInt64] = [:]
        for command in try core.plan(nowMs: now, state: harness.state) {
            let outcome = try harness.apply(command)
            core.noteApplied(command)
            if case .assignTask(let id, _, _, _) = command, case .assigned(let fence) = outcome { fences[id] = fence }
        }
        return fences
    }

    @Test func runTaskMakesAFutureTaskDueAtOnce() throws {
        let harness = try setUp()
        var core = SchedulerCore()
        try harness.apply(.createTask(TaskSpec(id: "later", queue: "q", kind: "sleep", scheduleTimeMs: t0 + 3_600_000, nowMs: t0)))
        #expect(try step(&core, harness, at: t0 + 5).isEmpty, "not due for an hour")
        try harness.apply(.runTask(taskID: "later", nowMs: t0 + 10))
        let fences = try step(&core, harness, at: t0 + 10)
        #expect(fences.keys.sorted() == ["later"])
        #expect(try harness.store.task("later")?.state == .leased)
    }

    @Test func pausedQueueHoldsItsTasksUntilResumed() throws {
        let harness = try setUp()
        var core = SchedulerCore()
        try harness.apply(.createTask(TaskSpec(id: "t", queue: "q", kind: "sleep", scheduleTimeMs: t0, nowMs: t0)))
        try harness.apply(.pauseQueue(name: "q"))
        #expect(try step(&core, harness, at: t0 + 1).isEmpty)
        try harness.apply(.resumeQueue(name: "q"))
        #expect(try step(&core, harness, at: t0 + 2).keys.sorted() == ["t"])
    }

    /// Cloud Tasks semantics of maxDoublings: the interval doubles maxDoublings times, then
    /// grows linearly by minBackoff·2^maxDoublings, capped at maxBackoff. With min 1 s, max 10 s
    /// and 2 doublings: 1, 2, 4, 8, 10, 10 s. Computed by apply (`RetryPolicy`), not here.
    @Test func backoffFollowsTheQueueRetryConfig() throws {
        let retry = RetryConfig(maxAttempts: 7, minBackoffMs: 1_000, maxBackoffMs: 10_000, maxDoublings: 2)
        let harness = try setUp(retry: retry)
        var core = SchedulerCore()
        try harness.apply(.createTask(TaskSpec(id: "t", queue: "q", kind: "fail", scheduleTimeMs: t0, nowMs: t0)))
        var delays: [Milliseconds] = []
        var now = t0
        for _ in 1...7 {
            try harness.apply(.executorHeartbeat(executorID: "e1", nowMs: now))
            let fences = try step(&core, harness, at: now)
            let fence = try #require(fences["t"], "due at its retry time")
            #expect(try step(&core, harness, at: now).isEmpty, "leased: not assigned twice")
            let failAt = now + 7
            try harness.apply(.failTask(taskID: "t", fence: fence, error: "boom", nowMs: failAt))
            let task = try #require(try harness.store.task("t"))
            if task.state == .dead { break }
            delays.append(task.scheduleTimeMs - failAt)
            #expect(try step(&core, harness, at: task.scheduleTimeMs - 1).isEmpty, "not before its backoff")
            now = task.scheduleTimeMs
        }
        #expect(delays == [1_000, 2_000, 4_000, 8_000, 10_000, 10_000])
        let task = try #require(try harness.store.task("t"))
        #expect(task.state == .dead && task.attempts == 7)
    }

    @Test func expiredLeaseIsRequeuedAndDispatchedAgain() throws {
        let harness = try setUp(retry: RetryConfig(minBackoffMs: 0, maxBackoffMs: 0))
        var core = SchedulerCore(config: SchedulerConfig(leaseDurationMs: 1_000, executorLivenessMs: 60_000))
        try harness.apply(.registerExecutor(executorID: "e2", node: "n2", slots: 4, nowMs: t0))
        try harness.apply(.createTask(TaskSpec(id: "t", queue: "q", kind: "sleep", scheduleTimeMs: t0, nowMs: t0)))
        let first = try #require(try step(&core, harness, at: t0)["t"])
        #expect(try step(&core, harness, at: t0 + 999).isEmpty)
        // At expiry: one plan expires the lease (requeued at once, zero backoff) and the next assigns it again.
        #expect(try step(&core, harness, at: t0 + 1_000).isEmpty)
        #expect(try harness.store.task("t")?.state == .queued)
        let second = try #require(try step(&core, harness, at: t0 + 1_001)["t"])
        #expect(second > first)
        #expect(try harness.apply(.completeTask(taskID: "t", fence: first, result: Data(), counters: [:], nowMs: t0 + 1_002))
                == .rejected(.staleFence), "the first holder's late report is refused")
    }
}
