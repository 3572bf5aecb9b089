import Foundation
import Testing
@testable import Store

@Suite struct JobTests {
    func setUp(_ s: TempStore) throws {
        try s.apply(.createQueue(queueSpec()))
        try s.apply(.registerExecutor(executorID: "e", node: "n", slots: 8, nowMs: t0))
    }

    func job(_ id: String = "j", tasks: Int = 3, key: String? = nil) -> JobSpec {
        JobSpec(id: id, template: "WordCount", parameters: "{\"inputFile\":\"in.txt\"}",
                tasks: (0..<tasks).map { taskSpec("\(id)-map\($0)") }, nowMs: t0, idempotencyKey: key)
    }

    func assign(_ s: TempStore, _ task: String, now: Milliseconds = t0) throws -> UInt64 {
        let outcome = try s.apply(.assignTask(taskID: task, executorID: "e", leaseUntilMs: now + 60_000, nowMs: now))
        #expect(outcome == .assigned(fence: s.lastIndex))
        return s.lastIndex
    }

    @Test func lifecycleAndProgress() throws {
        try withStore { s in
            try setUp(s)
            #expect(try s.apply(.createJob(job())) == .created(id: "j"))
            #expect(try s.apply(.createJob(job())) == .rejected(.jobExists))
            #expect(try s.store.job("j")?.state == .queued)
            let fence = try assign(s, "j-map0", now: t0 + 10)
            var job = try #require(try s.store.job("j"))
            #expect(job.state == .running && job.startTimeMs == t0 + 10)
            try s.apply(.completeTask(taskID: "j-map0", fence: fence, result: Data(), counters: ["words": 10, "lines": 2], nowMs: t0 + 20))
            let fence1 = try assign(s, "j-map1", now: t0 + 21)
            try s.apply(.completeTask(taskID: "j-map1", fence: fence1, result: Data(), counters: ["words": 5], nowMs: t0 + 22))
            // A reduce task added later joins the same job.
            #expect(try s.apply(.createTask(taskSpec("j-reduce", job: "j"))) == .created(id: "j-reduce"))
            try s.apply(.updateJobProgress(jobID: "j", counters: ["shards": 1], nowMs: t0 + 23))
            let progress = try #require(try s.store.jobProgress("j"))
            #expect(progress.tasksByState == [.succeeded: 2, .queued: 2])
            #expect(progress.counters == ["words": 15, "lines": 2, "shards": 1])
            #expect(try s.apply(.finishJob(jobID: "j", failed: false, error: nil, nowMs: t0 + 30)) == .ok)
            job = try #require(try s.store.job("j"))
            #expect(job.state == .done && job.endTimeMs == t0 + 30)
            // Finishing cancels what was still live; a finished job takes no more tasks.
            #expect(try s.store.jobProgress("j")?.tasksByState == [.succeeded: 2, .cancelled: 2])
            #expect(try s.apply(.createTask(taskSpec("late", job: "j"))) == .rejected(.invalidState))
            #expect(try s.apply(.cancelJob(jobID: "j", nowMs: t0 + 31)) == .rejected(.invalidState))
            #expect(try s.apply(.finishJob(jobID: "nope", failed: true, error: "x", nowMs: t0)) == .rejected(.unknownJob))
        }
    }

    @Test func cancelWaitsForLeasedTasks() throws {
        try withStore { s in
            try setUp(s)
            try s.apply(.createJob(job()))
            let fence = try assign(s, "j-map0")
            #expect(try s.apply(.cancelJob(jobID: "j", nowMs: t0 + 5)) == .ok)
            #expect(try s.store.job("j")?.state == .cancelling)
            #expect(try s.store.jobProgress("j")?.tasksByState == [.leased: 1, .cancelled: 2])
            // The running task's report is still accepted; then the job is cancelled.
            #expect(try s.apply(.completeTask(taskID: "j-map0", fence: fence, result: Data(), counters: [:], nowMs: t0 + 9)) == .ok)
            let job = try #require(try s.store.job("j"))
            #expect(job.state == .cancelled && job.endTimeMs == t0 + 9)
        }
    }

    @Test func cancelWithNothingLeasedIsImmediate() throws {
        try withStore { s in
            try setUp(s)
            try s.apply(.createJob(job()))
            try s.apply(.cancelJob(jobID: "j", nowMs: t0 + 5))
            #expect(try s.store.job("j")?.state == .cancelled)
            #expect(try s.store.dueTasks(nowMs: t0 + 10, limit: 10).isEmpty)
        }
    }

    @Test func aRejectedTaskRejectsTheWholeJob() throws {
        try withStore { s in
            try setUp(s)
            var spec = job()
            spec.tasks[2].name = "dup"
            spec.tasks[1].name = "dup"
            #expect(try s.apply(.createJob(spec)) == .rejected(.duplicateName))
            #expect(try s.store.job("j") == nil)
            #expect(try s.store.task("j-map0") == nil)
            #expect(try s.store.taskCounts(queue: "q").isEmpty)
        }
    }

    @Test func jobIdempotencyAndListing() throws {
        try withStore { s in
            try setUp(s)
            #expect(try s.apply(.createJob(job("a", key: "req-1"))) == .created(id: "a"))
            var retry = job("a2", key: "req-1")
            retry.tasks = job("a", key: "req-1").tasks
            #expect(try s.apply(.createJob(retry)) == .created(id: "a"))
            #expect(try s.apply(.createJob(job("b", tasks: 1, key: "req-1"))) == .rejected(.idempotencyConflict))
            try s.apply(.createJob(job("b", tasks: 0)))
            try s.apply(.createJob(job("c", tasks: 0)))
            try s.apply(.cancelJob(jobID: "b", nowMs: t0))
            #expect(try s.store.listJobs().items.map(\.id) == ["a", "b", "c"])
            #expect(try s.store.listJobs(state: .queued).items.map(\.id) == ["a", "c"])
            let page = try s.store.listJobs(pageSize: 2)
            #expect(try s.store.listJobs(pageToken: page.nextPageToken).items.map(\.id) == ["c"])
        }
    }
}

@Suite struct ScheduleTests {
    @Test func createFireAndStaleFire() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            let spec = ScheduleSpec(id: "s", cron: "*/15 * * * *", timeZone: "Europe/Berlin", queue: "q", kind: "tick", payload: Data("x".utf8), nowMs: t0)
            #expect(try s.apply(.createSchedule(spec)) == .created(id: "s"))
            #expect(try s.apply(.createSchedule(spec)) == .rejected(.scheduleExists))
            #expect(try s.apply(.recordScheduleFire(scheduleID: "s", fireTimeMs: t0 + 900_000, taskID: "f1", nowMs: t0 + 900_001)) == .created(id: "f1"))
            let task = try #require(try s.store.task("f1"))
            #expect(task.kind == "tick" && task.payload == Data("x".utf8) && task.scheduleTimeMs == t0 + 900_000)
            // The same slot again (a new leader's retry) does not create a second run.
            #expect(try s.apply(.recordScheduleFire(scheduleID: "s", fireTimeMs: t0 + 900_000, taskID: "f2", nowMs: t0 + 900_002)) == .rejected(.staleFire))
            #expect(try s.store.task("f2") == nil)
            #expect(try s.store.schedules().first?.lastFireMs == t0 + 900_000)
            #expect(try s.apply(.recordScheduleFire(scheduleID: "nope", fireTimeMs: t0, taskID: "f3", nowMs: t0)) == .rejected(.unknownSchedule))
        }
    }

    @Test func updateAndDelete() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            var spec = ScheduleSpec(id: "s", cron: "0 * * * *", queue: "q", kind: "k", nowMs: t0)
            #expect(try s.apply(.updateSchedule(spec)) == .rejected(.unknownSchedule))
            try s.apply(.createSchedule(spec))
            spec.cron = "0 9 * * MON-FRI"
            spec.paused = true
            #expect(try s.apply(.updateSchedule(spec)) == .ok)
            #expect(try s.store.schedules().first?.cron == "0 9 * * MON-FRI")
            #expect(try s.store.schedules().first?.paused == true)
            spec.queue = "missing"
            #expect(try s.apply(.updateSchedule(spec)) == .rejected(.unknownQueue))
            spec.queue = "q"
            spec.cron = "bad cron"
            #expect(try s.apply(.updateSchedule(spec)) == .rejected(.malformedCron), "apply re-checks what a faulty proposer let through")
            #expect(try s.apply(.deleteSchedule(scheduleID: "s")) == .ok)
            #expect(try s.apply(.deleteSchedule(scheduleID: "s")) == .rejected(.unknownSchedule))
        }
    }
}
