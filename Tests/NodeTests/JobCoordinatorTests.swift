import Foundation
import Logging
import Preprocess
import Store
import Testing
@testable import Node

/// The leader's job coordinator decides from replicated state alone: reducers once every map
/// succeeded, DONE once every reducer did, FAILED (naming the task) when a task ends dead.
@Suite struct JobCoordinatorTests {
    let job = "job-1"
    let t0: Milliseconds = 1_700_000_000_000
    var index: UInt64 = 0

    /// A store with the jobs queue (one attempt per task), an executor, and a wordcount job of
    /// two map tasks and two shards.
    mutating func makeStore() throws -> StateStore {
        let store = try StateStore(path: ":memory:")
        try apply(store, .createQueue(QueueSpec(name: WordCountJob.queue, retryConfig: RetryConfig(maxAttempts: 1), nowMs: t0)))
        try apply(store, .registerExecutor(executorID: "n1", node: "n1", slots: 4, nowMs: t0))
        let maps = (0..<2).map { i in
            TaskSpec(id: WordCountJob.mapTaskID(job, i), queue: WordCountJob.queue, jobID: job, kind: "preprocess",
                     payload: payload(.map, i).encoded(), scheduleTimeMs: 0, nowMs: t0)
        }
        try apply(store, .createJob(JobSpec(id: job, template: "wordcount", tasks: maps, nowMs: t0)))
        return store
    }

    func payload(_ stage: WordCountTaskPayload.Stage, _ i: Int) -> WordCountTaskPayload {
        WordCountTaskPayload(stage: stage, index: i, numMaps: 2, numShards: 2, tempDir: ".trireme-tmp/\(job)",
                             outputPrefix: "out/counts", tokenizer: .beam, split: nil)
    }

    @discardableResult
    mutating func apply(_ store: StateStore, _ command: Command) throws -> ApplyOutcome {
        index += 1
        let outcome = try store.apply(index: index, data: command.encoded()).outcome
        if case .rejected(let why) = outcome { Issue.record("\(command) was rejected: \(why)") }
        return outcome
    }

    /// Assigns then completes (or fails) one task, with the assignment's index as the fence.
    mutating func finish(_ store: StateStore, _ task: String, ok: Bool) throws {
        try apply(store, .assignTask(taskID: task, executorID: "n1", leaseUntilMs: t0 + 60_000, nowMs: t0))
        let fence = index
        if ok {
            try apply(store, .completeTask(taskID: task, fence: fence, result: Data("{}".utf8), counters: [:], nowMs: t0 + 1))
        } else {
            try apply(store, .failTask(taskID: task, fence: fence, error: "disk on fire", nowMs: t0 + 1))
        }
    }

    func coordinator() throws -> JobCoordinator {
        JobCoordinator(root: try DataRoot(FileManager.default.temporaryDirectory.path), logger: Logger(label: "test"))
    }

    @Test mutating func nothingHappensWhileTasksAreActiveThenReducersThenDone() throws {
        let store = try makeStore()
        let coordinator = try coordinator()
        #expect(try coordinator.decide(job, store: store, nowMs: t0).isEmpty, "map tasks are still queued")
        try finish(store, WordCountJob.mapTaskID(job, 0), ok: true)
        #expect(try coordinator.decide(job, store: store, nowMs: t0).isEmpty, "one map is still queued")
        try finish(store, WordCountJob.mapTaskID(job, 1), ok: true)

        let reducers = try coordinator.decide(job, store: store, nowMs: t0 + 2)
        let ids = reducers.compactMap { command -> String? in
            if case .createTask(let spec) = command { return spec.id }
            return nil
        }
        #expect(ids == [WordCountJob.reduceTaskID(job, 0), WordCountJob.reduceTaskID(job, 1)])
        for command in reducers { try apply(store, command) }
        #expect(try coordinator.decide(job, store: store, nowMs: t0 + 3).isEmpty, "reducers are queued")
        for shard in 0..<2 { try finish(store, WordCountJob.reduceTaskID(job, shard), ok: true) }
        #expect(try coordinator.decide(job, store: store, nowMs: t0 + 4)
                == [.finishJob(jobID: job, failed: false, error: nil, nowMs: t0 + 4)])
    }

    @Test mutating func aDeadMapTaskFailsTheJobAndNamesIt() throws {
        let store = try makeStore()
        let coordinator = try coordinator()
        try finish(store, WordCountJob.mapTaskID(job, 0), ok: true)
        try finish(store, WordCountJob.mapTaskID(job, 1), ok: false)   // maxAttempts 1: dead at once
        #expect(try store.task(WordCountJob.mapTaskID(job, 1))?.state == .dead)
        let decision = try coordinator.decide(job, store: store, nowMs: t0 + 5)
        guard case .finishJob(let id, let failed, let error, _)? = decision.first, decision.count == 1 else {
            Issue.record("expected one finishJob, got \(decision)")
            return
        }
        #expect(id == job && failed)
        #expect(error?.contains("\(WordCountJob.mapTaskID(job, 1)) dead: disk on fire") == true, "\(error ?? "nil")")
    }
}
