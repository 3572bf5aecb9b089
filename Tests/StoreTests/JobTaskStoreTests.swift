import Foundation
import Testing
@testable import Store

/// `launchJob` and the hand-off of `job` tasks, and named presets (schema version 3).
@Suite struct JobTaskStoreTests {
    func setUp(_ s: TempStore) throws -> UInt64 {
        try s.apply(.createQueue(queueSpec(retry: RetryConfig(maxAttempts: 2, minBackoffMs: 0, maxBackoffMs: 0))))
        try s.apply(.registerExecutor(executorID: "e1", node: "n1", slots: 1, nowMs: t0))
        try s.apply(.createTask(TaskSpec(id: "t", queue: "q", kind: "job", payload: Data("{}".utf8), scheduleTimeMs: t0, nowMs: t0)))
        let outcome = try s.apply(.assignTask(taskID: "t", executorID: "e1", leaseUntilMs: t0 + 1_000, nowMs: t0))
        guard case .assigned(let fence) = outcome else { throw StoreError.invalidSnapshot("not assigned: \(outcome)") }
        return fence
    }

    func launch(_ run: Int, fence: UInt64) -> Command {
        let job = StateStore.jobRunID(taskID: "t", run: run)
        return .launchJob(taskID: "t", fence: fence,
                          job: JobSpec(id: job, template: "wordcount", tasks: [taskSpec("\(job)-map-00000", queue: "_jobs")], nowMs: t0),
                          jobsQueue: QueueSpec(name: "_jobs", nowMs: t0), nowMs: t0 + 1)
    }

    @Test func launchCreatesTheJobOnceAndFreesTheExecutor() throws {
        try withStore { s in
            let fence = try setUp(s)
            #expect(try s.apply(launch(1, fence: fence)) == .created(id: "t.r1"))
            #expect(try s.apply(launch(1, fence: fence)) == .created(id: "t.r1"), "a repeated report is harmless")
            let task = try #require(try s.store.task("t"))
            #expect(task.state == .running && task.leaseExecutor == StateStore.jobLeaseHolder && task.fence == fence)
            #expect(StateStore.JobLink.decode(task.result) == StateStore.JobLink(job: "t.r1", run: 1))
            #expect(try s.store.leasedTasks(executorID: "e1").isEmpty, "the executor's slot is free")
            #expect(try s.store.expiredLeases(nowMs: t0 + 86_400_000, limit: 10).isEmpty, "a handed-off task never expires")
            #expect(try s.store.jobProgress("t.r1")?.tasksByState[.queued] == 1)
            #expect(try s.store.listJobs(pageSize: 10).items.count == 1)
        }
    }

    @Test func aStaleAttemptLaunchesNothing() throws {
        try withStore { s in
            let fence = try setUp(s)
            #expect(try s.apply(launch(1, fence: fence + 1)) == .rejected(.staleFence))
            #expect(try s.store.jobProgress("t.r1") == nil)
            #expect(try s.store.queue("_jobs") == nil, "the savepoint left no trace")
        }
    }

    @Test func failedRunRetriesAndTheNextRunHasANewID() throws {
        try withStore { s in
            let fence = try setUp(s)
            try s.apply(launch(1, fence: fence))
            #expect(try s.apply(.failTask(taskID: "t", fence: fence, error: "job t.r1 failed", nowMs: t0 + 2)) == .failed(retryAtMs: t0 + 2))
            let task = try #require(try s.store.task("t"))
            #expect(task.state == .queued && StateStore.JobLink.decode(task.result)?.run == 1, "the link tells the next attempt its run")
            let next = try s.apply(.assignTask(taskID: "t", executorID: "e1", leaseUntilMs: t0 + 5_000, nowMs: t0 + 3))
            guard case .assigned(let fence2) = next else { Issue.record("\(next)"); return }
            #expect(try s.apply(launch(2, fence: fence2)) == .created(id: "t.r2"))
            #expect(try s.apply(.completeTask(taskID: "t", fence: fence2, result: Data("{}".utf8), counters: [:], nowMs: t0 + 4)) == .ok)
            #expect(try s.store.task("t")?.state == .succeeded)
        }
    }

    @Test func cancellingTheTaskCancelsItsJob() throws {
        try withStore { s in
            let fence = try setUp(s)
            try s.apply(launch(1, fence: fence))
            #expect(try s.apply(.cancelTask(taskID: "t", nowMs: t0 + 2)) == .ok)
            #expect(try s.store.jobProgress("t.r1")?.job.state == .cancelled, "its only task was queued, so it ends at once")
        }
    }

    @Test func deletingTheTaskCancelsItsJob() throws {
        try withStore { s in
            let fence = try setUp(s)
            try s.apply(launch(1, fence: fence))
            #expect(try s.apply(.deleteTask(taskID: "t", nowMs: t0 + 2)) == .ok)
            #expect(try s.store.jobProgress("t.r1")?.job.state == .cancelled)
        }
    }

    @Test func presetsArePutReplacedAndDeleted() throws {
        try withStore { (s: TempStore) throws in
            #expect(try s.apply(.putJobPreset(JobPresetSpec(name: "wc", template: "wordcount", parameters: "{\"a\":1}", nowMs: t0))) == .ok)
            #expect(try s.apply(.putJobPreset(JobPresetSpec(name: "wc", template: "csv-clean", parameters: "{}", nowMs: t0 + 1))) == .ok)
            #expect(try s.store.jobPresets().map(\.template) == ["csv-clean"])
            #expect(try s.apply(.deleteJobPreset(name: "wc")) == .ok)
            #expect(try s.apply(.deleteJobPreset(name: "wc")) == .rejected(.unknownPreset))
        }
    }

    /// A version-2 file gains the empty `job_presets` table when opened, and hashes as before.
    @Test func aVersionTwoFileIsUpgradedInPlace() throws {
        let temp = try TempStore()
        defer { temp.cleanup() }
        _ = try setUp(temp)
        let hash = try temp.store.stateHash()
        try temp.store.db.execute("DROP TABLE job_presets; UPDATE meta SET schema_version = 2")
        temp.store.close()
        let reopened = try StateStore(path: temp.path("state.db"))
        defer { reopened.close() }
        #expect(try reopened.db.scalarInt("SELECT schema_version FROM meta") == StateStore.schemaVersion)
        #expect(try reopened.stateHash() == hash)
    }

    @Test(arguments: [
        Command.launchJob(taskID: "t", fence: 7, job: JobSpec(id: "t.r1", template: "wordcount", nowMs: t0),
                          jobsQueue: QueueSpec(name: "_jobs", nowMs: t0), nowMs: t0),
        .putJobPreset(JobPresetSpec(name: "p", template: "wordcount", parameters: "{}", nowMs: t0)),
        .deleteJobPreset(name: "p"),
    ])
    func versionThreeCommandsRoundTrip(command: Command) throws {
        #expect(try Command.decode(command.encoded(), index: 1) == command)
        try command.validate()
    }
}
