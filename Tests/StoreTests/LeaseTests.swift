import Foundation
import Testing
@testable import Store

@Suite struct LeaseTests {
    /// A queue, an executor and one queued task "t".
    func setUp(_ s: TempStore, retry: RetryConfig = RetryConfig()) throws {
        try s.apply(.createQueue(queueSpec(retry: retry)))
        try s.apply(.registerExecutor(executorID: "e1", node: "n1", slots: 4, nowMs: t0))
        try s.apply(.registerExecutor(executorID: "e2", node: "n2", slots: 4, nowMs: t0))
        try s.apply(.createTask(taskSpec("t")))
    }

    func assign(_ s: TempStore, _ executor: String = "e1", now: Milliseconds = t0, lease: Milliseconds = 30_000) throws -> UInt64 {
        let outcome = try s.apply(.assignTask(taskID: "t", executorID: executor, leaseUntilMs: now + lease, nowMs: now))
        guard case .assigned(let fence) = outcome else {
            Issue.record("assign failed: \(outcome)")
            return 0
        }
        #expect(fence == s.lastIndex, "the fence is the log index of the grant")
        return fence
    }

    @Test func assignStartComplete() throws {
        try withStore { s in
            try setUp(s)
            #expect(try s.apply(.assignTask(taskID: "t", executorID: "ghost", leaseUntilMs: t0 + 1, nowMs: t0)) == .rejected(.unknownExecutor))
            let fence = try assign(s)
            var task = try #require(try s.store.task("t"))
            #expect(task.state == .leased && task.attempts == 1 && task.fence == fence && task.leaseExecutor == "e1")
            #expect(try s.store.leasedTasks(executorID: "e1").map(\.id) == ["t"])
            #expect(try s.store.leaseCount(executorID: "e1") == 1)
            #expect(try s.store.leaseCount(executorID: "e2") == 0)
            #expect(try s.apply(.assignTask(taskID: "t", executorID: "e2", leaseUntilMs: t0 + 1, nowMs: t0)) == .rejected(.invalidState))
            #expect(try s.apply(.startTask(taskID: "t", fence: fence, nowMs: t0 + 1)) == .ok)
            #expect(try s.store.task("t")?.state == .running)
            #expect(try s.apply(.completeTask(taskID: "t", fence: fence, result: Data("42".utf8), counters: [:], nowMs: t0 + 2)) == .ok)
            #expect(try s.store.leaseCount(executorID: "e1") == 0, "a completed task holds no lease")
            task = try #require(try s.store.task("t"))
            #expect(task.state == .succeeded && task.result == Data("42".utf8) && task.fence == nil && task.endTimeMs == t0 + 2)
            #expect(try s.store.taskCounts(queue: "q") == [.succeeded: 1])
            // Never leave a terminal state; a second completion is refused.
            #expect(try s.apply(.completeTask(taskID: "t", fence: fence, result: Data(), counters: [:], nowMs: t0 + 3)) == .rejected(.invalidState))
            #expect(try s.apply(.failTask(taskID: "t", fence: fence, error: "late", nowMs: t0 + 3)) == .rejected(.invalidState))
        }
    }

    @Test func staleFenceIsRejectedAndCounted() throws {
        try withStore { s in
            try setUp(s, retry: RetryConfig(minBackoffMs: 0, maxBackoffMs: 0))
            let first = try assign(s, "e1", lease: 1_000)
            // The lease expires; the task goes back to the queue and to another executor.
            #expect(try s.apply(.expireLeases(nowMs: t0 + 1_000, limit: 100)) == .counted(changed: 1, rejected: 0))
            #expect(try s.apply(.completeTask(taskID: "t", fence: first, result: Data(), counters: [:], nowMs: t0 + 1_001)) == .rejected(.staleFence))
            let second = try assign(s, "e2", now: t0 + 1_002)
            #expect(second > first)
            for command in [
                Command.completeTask(taskID: "t", fence: first, result: Data("old".utf8), counters: [:], nowMs: t0 + 1_003),
                .failTask(taskID: "t", fence: first, error: "old", nowMs: t0 + 1_003),
                .startTask(taskID: "t", fence: first, nowMs: t0 + 1_003),
            ] {
                #expect(try s.apply(command) == .rejected(.staleFence))
            }
            #expect(try s.apply(.renewLeases(executorID: "e1", leases: [LeaseRef(taskID: "t", fence: first)], leaseUntilMs: t0 + 9_000, nowMs: t0)) ==
                    .counted(changed: 0, rejected: 1))
            #expect(try s.store.staleFenceRejections == 5)
            #expect(try s.store.task("t")?.leaseExecutor == "e2")
            #expect(try s.apply(.completeTask(taskID: "t", fence: second, result: Data("new".utf8), counters: [:], nowMs: t0 + 1_004)) == .ok)
            #expect(try s.store.task("t")?.result == Data("new".utf8))
            #expect(try s.store.task("t")?.attempts == 2)
        }
    }

    @Test func completingACancelledTaskIsRefused() throws {
        try withStore { s in
            try setUp(s)
            let fence = try assign(s)
            #expect(try s.apply(.cancelTask(taskID: "t", nowMs: t0 + 1)) == .ok)
            #expect(try s.apply(.completeTask(taskID: "t", fence: fence, result: Data(), counters: [:], nowMs: t0 + 2)) == .rejected(.invalidState))
            let task = try #require(try s.store.task("t"))
            #expect(task.state == .cancelled && task.result == nil)
            #expect(try s.store.leasedTasks(executorID: "e1").isEmpty)
        }
    }

    @Test func renewLeasesExtendsOnlyMatchingFences() throws {
        try withStore { s in
            try setUp(s)
            try s.apply(.createTask(taskSpec("u")))
            let fenceT = try assign(s, lease: 1_000)
            let outcome = try s.apply(.assignTask(taskID: "u", executorID: "e1", leaseUntilMs: t0 + 1_000, nowMs: t0))
            #expect(outcome == .assigned(fence: s.lastIndex))
            let renew = Command.renewLeases(
                executorID: "e1", leases: [LeaseRef(taskID: "t", fence: fenceT), LeaseRef(taskID: "u", fence: 1), LeaseRef(taskID: "zz", fence: 1)],
                leaseUntilMs: t0 + 5_000, nowMs: t0 + 500)
            #expect(try s.apply(renew) == .counted(changed: 1, rejected: 2))
            #expect(try s.store.task("t")?.leaseUntilMs == t0 + 5_000)
            #expect(try s.store.task("u")?.leaseUntilMs == t0 + 1_000)
            #expect(try s.store.expiredLeases(nowMs: t0 + 1_000, limit: 10).map(\.taskID) == ["u"])
            // A delayed, older renewal never shortens a lease.
            let old = Command.renewLeases(executorID: "e1", leases: [LeaseRef(taskID: "t", fence: fenceT)], leaseUntilMs: t0 + 2_000, nowMs: t0)
            #expect(try s.apply(old) == .counted(changed: 1, rejected: 0))
            #expect(try s.store.task("t")?.leaseUntilMs == t0 + 5_000)
        }
    }

    @Test func failRetriesWithBackoffThenDiesAndRedrives() throws {
        try withStore { s in
            try setUp(s, retry: RetryConfig(maxAttempts: 3, minBackoffMs: 1_000, maxBackoffMs: 10_000, maxDoublings: 4))
            var now = t0
            var expectedDelays: [Milliseconds] = [1_000, 2_000]
            for attempt in 1...3 {
                let fence = try assign(s, now: now)
                let outcome = try s.apply(.failTask(taskID: "t", fence: fence, error: "e\(attempt)", nowMs: now + 10))
                let task = try #require(try s.store.task("t"))
                #expect(task.attempts == attempt && task.lastError == "e\(attempt)")
                if attempt < 3 {
                    let delay = expectedDelays.removeFirst()
                    #expect(outcome == .failed(retryAtMs: now + 10 + delay))
                    #expect(task.state == .queued && task.scheduleTimeMs == now + 10 + delay)
                    #expect(try s.store.dueTasks(queue: "q", nowMs: now + 10 + delay - 1, limit: 5).isEmpty)
                    now = task.scheduleTimeMs
                } else {
                    #expect(outcome == .failed(retryAtMs: nil))
                    #expect(task.state == .dead && task.endTimeMs == now + 10)
                }
            }
            #expect(try s.store.taskCounts(queue: "q") == [.dead: 1])
            #expect(try s.apply(.assignTask(taskID: "t", executorID: "e1", leaseUntilMs: now + 100, nowMs: now + 20)) == .rejected(.invalidState))
            #expect(try s.apply(.redriveDeadTask(taskID: "t", nowMs: now + 50)) == .ok)
            let task = try #require(try s.store.task("t"))
            #expect(task.state == .queued && task.attempts == 0 && task.scheduleTimeMs == now + 50)
            #expect(try s.apply(.redriveDeadTask(taskID: "t", nowMs: now + 50)) == .rejected(.invalidState))
        }
    }

    @Test func leaseExpiryCountsAsAnAttemptAndCanKill() throws {
        try withStore { s in
            try setUp(s, retry: RetryConfig(maxAttempts: 2, minBackoffMs: 100, maxBackoffMs: 100))
            _ = try assign(s, lease: 1_000)
            #expect(try s.apply(.expireLeases(nowMs: t0 + 999, limit: 10)) == .counted(changed: 0, rejected: 0))
            #expect(try s.apply(.expireLeases(nowMs: t0 + 1_000, limit: 10)) == .counted(changed: 1, rejected: 0))
            var task = try #require(try s.store.task("t"))
            #expect(task.state == .queued && task.lastOutcome == "lease_expired" && task.scheduleTimeMs == t0 + 1_100)
            _ = try assign(s, now: t0 + 1_100, lease: 1_000)
            #expect(try s.apply(.expireLeases(nowMs: t0 + 5_000, limit: 10)) == .counted(changed: 1, rejected: 0))
            task = try #require(try s.store.task("t"))
            #expect(task.state == .dead && task.attempts == 2)
        }
    }

    @Test func pausedQueueRefusesAssignment() throws {
        try withStore { s in
            try setUp(s)
            try s.apply(.pauseQueue(name: "q"))
            #expect(try s.apply(.assignTask(taskID: "t", executorID: "e1", leaseUntilMs: t0 + 1, nowMs: t0)) == .rejected(.queueNotRunning))
            #expect(try s.store.task("t")?.state == .queued)
        }
    }

    @Test func heartbeatAndRegistration() throws {
        try withStore { s in
            #expect(try s.apply(.executorHeartbeat(executorID: "e", nowMs: t0)) == .rejected(.unknownExecutor))
            try s.apply(.registerExecutor(executorID: "e", node: "n1", slots: 2, nowMs: t0))
            #expect(try s.apply(.executorHeartbeat(executorID: "e", nowMs: t0 + 5)) == .ok)
            #expect(try s.apply(.executorHeartbeat(executorID: "e", nowMs: t0 + 1)) == .ok)
            try s.apply(.registerExecutor(executorID: "e", node: "n1", slots: 8, nowMs: t0 + 9))
            #expect(try s.store.executors() == [ExecutorRecord(id: "e", node: "n1", slots: 8, registerTimeMs: t0, lastHeartbeatMs: t0 + 9)])
        }
    }
}

@Suite struct RetryPolicyTests {
    /// The example in Cloud Tasks' RetryConfig documentation: min 10 s, max 300 s, 3 doublings
    /// retries at 10, 20, 40, 80, 160, 240, 300, 300 s.
    @Test func cloudTasksExample() {
        let config = RetryConfig(maxAttempts: -1, minBackoffMs: 10_000, maxBackoffMs: 300_000, maxDoublings: 3)
        let delays = (1...8).map { RetryPolicy.backoffMs(retry: $0, config: config) / 1_000 }
        #expect(delays == [10, 20, 40, 80, 160, 240, 300, 300])
    }

    @Test(arguments: [
        // (maxAttempts, maxRetryDurationMs, attempts, elapsedMs, dead)
        (3, 0, 2, 0, false), (3, 0, 3, 0, true), (-1, 0, 10_000, 0, false),
        (-1, 5_000, 50, 4_999, false), (-1, 5_000, 1, 5_000, true),
        (3, 5_000, 3, 4_999, false), (3, 5_000, 2, 6_000, false), (3, 5_000, 3, 5_000, true),
    ])
    func deadWhenEveryConfiguredLimitIsReached(maxAttempts: Int, duration: Int64, attempts: Int, elapsed: Int64, dead: Bool) {
        let config = RetryConfig(maxAttempts: maxAttempts, minBackoffMs: 1, maxBackoffMs: 1, maxRetryDurationMs: duration)
        let next = RetryPolicy.nextAttemptMs(attempts: attempts, firstAttemptMs: t0, nowMs: t0 + elapsed, config: config)
        #expect((next == nil) == dead)
    }

    @Test func hugeValuesSaturate() {
        let config = RetryConfig(maxAttempts: -1, minBackoffMs: 30 * 86_400_000, maxBackoffMs: 30 * 86_400_000, maxDoublings: 30)
        #expect(RetryPolicy.backoffMs(retry: 10_000, config: config) == 30 * 86_400_000)
        #expect(RetryPolicy.nextAttemptMs(attempts: 1, firstAttemptMs: 0, nowMs: Int64.max - 5, config: config) == Int64.max)
    }
}

/// The hot commands run without a savepoint (`rejectsBeforeWriting`): a rejection must leave
/// every table but `meta` (the index) and `counters` (stale fences) untouched.
@Suite struct RejectionLeavesNoTraceTests {
    static let rejected: [Command] = [
        .createTask(taskSpec("t")), .createTask(taskSpec("new", queue: "missing")), .createTask(taskSpec("new", name: "taken")),
        .createTask(taskSpec("new", job: "nojob")),
        .assignTask(taskID: "t", executorID: "e", leaseUntilMs: t0 + 10, nowMs: t0),
        .assignTask(taskID: "u", executorID: "ghost", leaseUntilMs: t0 + 10, nowMs: t0),
        .assignTask(taskID: "missing", executorID: "e", leaseUntilMs: t0 + 10, nowMs: t0),
        .startTask(taskID: "t", fence: 1, nowMs: t0), .completeTask(taskID: "t", fence: 1, result: Data(), counters: ["a": 1], nowMs: t0),
        .failTask(taskID: "t", fence: 1, error: "x", nowMs: t0), .completeTask(taskID: "u", fence: 1, result: Data(), counters: [:], nowMs: t0),
        .renewLeases(executorID: "ghost", leases: [], leaseUntilMs: t0 + 10, nowMs: t0),
        .executorHeartbeat(executorID: "ghost", nowMs: t0),
    ]

    @Test func hotRejectionsWriteNothing() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            try s.apply(.registerExecutor(executorID: "e", node: "n", slots: 1, nowMs: t0))
            try s.apply(.createTask(taskSpec("t", name: "taken")))
            try s.apply(.createTask(taskSpec("u")))
            try s.apply(.assignTask(taskID: "t", executorID: "e", leaseUntilMs: t0 + 1_000, nowMs: t0))
            var before = try s.store.tableHashes()
            for command in Self.rejected {
                #expect(command.rejectsBeforeWriting)
                guard case .rejected = try s.apply(command) else {
                    Issue.record("not rejected: \(command)")
                    continue
                }
                var after = try s.store.tableHashes()
                for table in ["meta", "counters"] {
                    before[table] = nil
                    after[table] = nil
                }
                #expect(after == before, "\(command)")
            }
        }
    }
}
