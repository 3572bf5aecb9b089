import Foundation
import SQLite
import Testing
@testable import Store

/// Per-attempt history (`attempts` table): one row per assignment, closed by the report or
/// event that ends the lease, bounded per task, removed with the task, in snapshots and hashes.
@Suite struct AttemptTests {
    func setUp(_ s: TempStore, retry: RetryConfig = RetryConfig(minBackoffMs: 0, maxBackoffMs: 0)) throws {
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
        return fence
    }

    @Test func aSuccessfulAttemptRecordsExecutorNodeFenceAndTimes() throws {
        try withStore { s in
            try setUp(s)
            let fence = try assign(s, "e2", now: t0 + 10)
            var attempts = try s.store.attempts(taskID: "t")
            #expect(attempts == [AttemptRecord(taskID: "t", attempt: 1, executorID: "e2", node: "n2", fence: fence,
                                               dispatchTimeMs: t0 + 10, startTimeMs: nil, endTimeMs: nil, outcome: nil, error: nil)])
            #expect(try s.apply(.startTask(taskID: "t", fence: fence, nowMs: t0 + 20)) == .ok)
            #expect(try s.apply(.completeTask(taskID: "t", fence: fence, result: Data(), counters: [:], nowMs: t0 + 50)) == .ok)
            attempts = try s.store.attempts(taskID: "t")
            #expect(attempts.count == 1)
            #expect(attempts.first?.startTimeMs == t0 + 20)
            #expect(attempts.first?.endTimeMs == t0 + 50)
            #expect(attempts.first?.outcome == .succeeded)
            #expect(attempts.first?.error == nil)
        }
    }

    /// Each way an attempt ends, and the outcome recorded for it.
    @Test(arguments: [AttemptOutcome.failed, .deadlineExceeded, .leaseExpired, .cancelled])
    func eachOutcomeIsRecorded(_ expected: AttemptOutcome) throws {
        try withStore { s in
            try setUp(s)
            let fence = try assign(s, lease: 1_000)
            #expect(try s.apply(.startTask(taskID: "t", fence: fence, nowMs: t0 + 1)) == .ok)
            var error: String?
            switch expected {
            case .failed:
                error = "HTTP 500"
                #expect(try s.apply(.failTask(taskID: "t", fence: fence, error: "HTTP 500", nowMs: t0 + 5)) == .failed(retryAtMs: t0 + 5))
            case .deadlineExceeded:
                error = AttemptOutcome.deadlineErrorPrefix
                _ = try s.apply(.failTask(taskID: "t", fence: fence, error: AttemptOutcome.deadlineErrorPrefix, nowMs: t0 + 5))
            case .leaseExpired:
                error = "lease expired"
                #expect(try s.apply(.expireLeases(nowMs: t0 + 1_000, limit: 10)) == .counted(changed: 1, rejected: 0))
            case .cancelled:
                #expect(try s.apply(.cancelTask(taskID: "t", nowMs: t0 + 5)) == .ok)
            case .succeeded:
                Issue.record("not an argument")
            }
            let attempt = try #require(try s.store.attempts(taskID: "t").first)
            #expect(attempt.outcome == expected)
            #expect(attempt.error == error)
            #expect(attempt.fence == fence)
            #expect(attempt.endTimeMs != nil)
        }
    }

    /// A failure reported a whole dispatch deadline after the start (e.g. the target's own
    /// timeout equal to the deadline) is the deadline, one a millisecond sooner is not.
    @Test(arguments: [(Int64(0), AttemptOutcome.deadlineExceeded), (-1, .failed), (5, .deadlineExceeded)])
    func aFailureAtTheDeadlineIsDeadlineExceeded(offsetMs: Int64, expected: AttemptOutcome) throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec(retry: RetryConfig(minBackoffMs: 0, maxBackoffMs: 0))))
            try s.apply(.registerExecutor(executorID: "e1", node: "n1", slots: 4, nowMs: t0))
            var spec = taskSpec("t")
            spec.dispatchDeadlineMs = 1_000
            try s.apply(.createTask(spec))
            let fence = try assign(s)
            #expect(try s.apply(.startTask(taskID: "t", fence: fence, nowMs: t0 + 10)) == .ok)
            let end = t0 + 10 + 1_000 + offsetMs
            _ = try s.apply(.failTask(taskID: "t", fence: fence, error: "HTTP timeout after 1000 ms", nowMs: end))
            let attempt = try #require(try s.store.attempts(taskID: "t").first)
            #expect(attempt.outcome == expected)
            #expect(attempt.error == "HTTP timeout after 1000 ms")
            #expect(attempt.endTimeMs == end)
        }
    }

    @Test func retriesAddAttemptsWithTheirOwnFencesAndAStaleReportChangesNothing() throws {
        try withStore { s in
            try setUp(s)
            let first = try assign(s, "e1", lease: 1_000)
            #expect(try s.apply(.expireLeases(nowMs: t0 + 1_000, limit: 10)) == .counted(changed: 1, rejected: 0))
            let second = try assign(s, "e2", now: t0 + 1_001)
            // The first executor reports late: refused, and its closed attempt is untouched.
            #expect(try s.apply(.completeTask(taskID: "t", fence: first, result: Data(), counters: [:], nowMs: t0 + 1_002))
                == .rejected(.staleFence))
            #expect(try s.apply(.failTask(taskID: "t", fence: second, error: "boom", nowMs: t0 + 1_003)) == .failed(retryAtMs: t0 + 1_003))
            let third = try assign(s, "e1", now: t0 + 1_004)
            #expect(try s.apply(.completeTask(taskID: "t", fence: third, result: Data(), counters: [:], nowMs: t0 + 1_005)) == .ok)
            let attempts = try s.store.attempts(taskID: "t")
            #expect(attempts.map(\.attempt) == [1, 2, 3])
            #expect(attempts.map(\.fence) == [first, second, third])
            #expect(attempts.map(\.executorID) == ["e1", "e2", "e1"])
            #expect(attempts.map(\.outcome) == [.leaseExpired, .failed, .succeeded])
            #expect(attempts.map(\.endTimeMs) == [t0 + 1_000, t0 + 1_003, t0 + 1_005])
        }
    }

    @Test func historyIsBoundedAndKeepsCountingAcrossARedrive() throws {
        try withStore { s in
            // Two attempts and the task is dead; redrive it until well past the bound.
            try setUp(s, retry: RetryConfig(maxAttempts: 2, minBackoffMs: 0, maxBackoffMs: 0))
            let total = StateStore.attemptsKeptPerTask + 6
            var now = t0
            for number in 1...total {
                now += 10
                let fence = try assign(s, now: now)
                _ = try s.apply(.failTask(taskID: "t", fence: fence, error: "e\(number)", nowMs: now + 1))
                if try s.store.task("t")?.state == .dead {
                    #expect(try s.apply(.redriveDeadTask(taskID: "t", nowMs: now + 2)) == .ok)
                }
            }
            let attempts = try s.store.attempts(taskID: "t")
            #expect(attempts.count == StateStore.attemptsKeptPerTask)
            #expect(attempts.first?.attempt == total - StateStore.attemptsKeptPerTask + 1)
            #expect(attempts.last?.attempt == total)
            #expect(attempts.last?.error == "e\(total)")
        }
    }

    @Test(arguments: ["delete", "purge", "deleteQueue"])
    func historyGoesWithItsTask(_ how: String) throws {
        try withStore { s in
            try setUp(s)
            _ = try assign(s)
            #expect(try s.store.attempts(taskID: "t").count == 1)
            switch how {
            case "delete": #expect(try s.apply(.deleteTask(taskID: "t", nowMs: t0 + 1)) == .ok)
            case "purge": _ = try s.apply(.purgeQueue(name: "q", nowMs: t0 + 1))
            default: #expect(try s.apply(.deleteQueue(name: "q", nowMs: t0 + 1)) == .ok)
            }
            #expect(try s.store.attempts(taskID: "t").isEmpty)
            #expect(try s.store.db.scalarInt("SELECT count(*) FROM attempts") == 0)
        }
    }

    @Test func historySurvivesSnapshotAndRestoreAndIsInTheStateHash() throws {
        let a = try TempStore()
        let b = try TempStore()
        defer {
            a.cleanup()
            b.cleanup()
        }
        try setUp(a)
        let fence = try assign(a)
        let hashBefore = try a.store.tableHashes()["attempts"]
        #expect(try a.apply(.startTask(taskID: "t", fence: fence, nowMs: t0 + 1)) == .ok)
        #expect(try a.store.tableHashes()["attempts"] != hashBefore, "the state hash covers attempts")
        let path = a.path("snap.db")
        try a.store.snapshot(to: path)
        try b.store.restore(from: path)
        #expect(try b.store.attempts(taskID: "t") == a.store.attempts(taskID: "t"))
        #expect(try b.store.stateHash() == a.store.stateHash())
        // Both continue identically from the snapshot.
        for s in [a, b] {
            #expect(try s.apply(.completeTask(taskID: "t", fence: fence, result: Data(), counters: [:], nowMs: t0 + 2)) == .ok)
        }
        #expect(try b.store.attempts(taskID: "t").first?.outcome == .succeeded)
        #expect(try b.store.stateHash() == a.store.stateHash())
    }

    /// A version-1 entry (an old log) applies as before: no history, on any build.
    @Test func versionOneEntriesRecordNoHistory() throws {
        try withStore { s in
            try setUp(s)
            let command = Command.assignTask(taskID: "t", executorID: "e1", leaseUntilMs: t0 + 1_000, nowMs: t0)
            let index = s.store.appliedIndex + 1
            let result = try s.store.apply(index: index, term: 1, data: command.encoded(version: 1))
            #expect(result.outcome == .assigned(fence: index))
            #expect(try s.store.task("t")?.state == .leased)
            #expect(try s.store.attempts(taskID: "t").isEmpty)
        }
    }

    /// A version-1 store file gains the (empty) attempts table when opened, and the same data
    /// then hashes like a store created at version 2.
    @Test func aVersionOneFileIsUpgradedInPlace() throws {
        let temp = try TempStore()
        defer { temp.cleanup() }
        try setUp(temp)
        let hash = try temp.store.stateHash()
        try temp.store.db.execute("DROP TABLE attempts; DROP TABLE job_presets; UPDATE meta SET schema_version = 1")
        temp.store.close()
        let reopened = try StateStore(path: temp.path("state.db"))
        defer { reopened.close() }
        #expect(try reopened.db.scalarInt("SELECT schema_version FROM meta") == StateStore.schemaVersion)
        #expect(try reopened.stateHash() == hash)
    }
}
