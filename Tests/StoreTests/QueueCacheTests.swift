import Foundation
import Testing
@testable import Store

/// `queueInfo` answers from a cache (`StateStore.queueCache`); these fail if any write to a
/// queue, or any rollback of one, leaves the cache answering what the database no longer holds.
@Suite struct QueueCacheTests {
    @Test func everyQueueWriteReachesTheNextCreateAndLease() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec(retry: RetryConfig(maxAttempts: 5, minBackoffMs: 10, maxBackoffMs: 10))))
            try s.apply(.registerExecutor(executorID: "e1", node: "n1", slots: 4, nowMs: t0))
            #expect(try s.apply(.createTask(taskSpec("a"))) == .created(id: "a"), "reads the queue into the cache")
            try s.apply(.pauseQueue(name: "q"))
            #expect(try s.apply(.assignTask(taskID: "a", executorID: "e1", leaseUntilMs: t0 + 1_000, nowMs: t0)) == .rejected(.queueNotRunning))
            try s.apply(.resumeQueue(name: "q"))
            let outcome = try s.apply(.assignTask(taskID: "a", executorID: "e1", leaseUntilMs: t0 + 1_000, nowMs: t0))
            guard case .assigned(let fence) = outcome else { Issue.record("not assigned: \(outcome)"); return }
            // One attempt allowed now: the failure is final instead of a retry after 10 ms.
            try s.apply(.updateQueue(queueSpec(retry: RetryConfig(maxAttempts: 1, minBackoffMs: 10, maxBackoffMs: 10))))
            #expect(try s.apply(.failTask(taskID: "a", fence: fence, error: "boom", nowMs: t0 + 1)) == .failed(retryAtMs: nil))
            try s.apply(.deleteQueue(name: "q", nowMs: t0 + 2))
            #expect(try s.apply(.createTask(taskSpec("b"))) == .rejected(.unknownQueue))
            try s.apply(.createQueue(queueSpec()))
            #expect(try s.apply(.createTask(taskSpec("b"))) == .created(id: "b"))
        }
    }

    @Test func aQueueCreatedByARejectedCommandIsNotRemembered() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            try s.apply(.registerExecutor(executorID: "e1", node: "n1", slots: 1, nowMs: t0))
            try s.apply(.createTask(TaskSpec(id: "t", queue: "q", kind: "job", payload: Data("{}".utf8), scheduleTimeMs: t0, nowMs: t0)))
            let outcome = try s.apply(.assignTask(taskID: "t", executorID: "e1", leaseUntilMs: t0 + 1_000, nowMs: t0))
            guard case .assigned(let fence) = outcome else { Issue.record("not assigned: \(outcome)"); return }
            // Creates `_jobs`, creates its first task there (reading `_jobs` into the cache), then
            // is rejected at the second task (the id exists): the savepoint undoes the queue.
            let job = JobSpec(id: "t.r1", template: "wordcount",
                              tasks: [taskSpec("x", queue: "_jobs"), taskSpec("t", queue: "_jobs")], nowMs: t0)
            let launched = try s.apply(.launchJob(taskID: "t", fence: fence, job: job,
                                                  jobsQueue: QueueSpec(name: "_jobs", nowMs: t0), nowMs: t0 + 1))
            #expect(launched == .rejected(.taskExists))
            #expect(try s.store.queue("_jobs") == nil)
            #expect(try s.apply(.createTask(taskSpec("y", queue: "_jobs"))) == .rejected(.unknownQueue))
        }
    }

    @Test func aQueueCreatedByARolledBackBatchIsNotRemembered() throws {
        let s = try TempStore()
        defer { s.cleanup() }
        let commands: [Command] = [.createQueue(queueSpec("q2")), .createTask(taskSpec("a", queue: "q2"))]
        let batch = commands.enumerated().map { LogEntry(index: UInt64($0.offset + 1), term: 1, data: $0.element.encoded()) }
        // The second entry reads `q2` into the cache; the abort after it undoes the whole batch.
        #expect(throws: StoreError.self) {
            _ = try s.store.apply(entries: batch, afterEach: { offset in if offset == 1 { throw CacheTestAbort() } })
        }
        #expect(try s.store.queue("q2") == nil)
        #expect(try s.apply(.createTask(taskSpec("b", queue: "q2"))) == .rejected(.unknownQueue))
    }
}

private struct CacheTestAbort: Error {}
