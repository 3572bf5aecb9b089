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

    /// A store with the jobs queue (one attempt per task), an executor, and a job of two
    /// splits and two shards whose first stage is `first` (wordcount, or csv-clean with stats).
    mutating func makeStore(first: JobStage = .map) throws -> StateStore {
        let store = try StateStore(path: ":memory:")
        try apply(store, .createQueue(QueueSpec(name: JobTasks.queue, retryConfig: RetryConfig(maxAttempts: 1), nowMs: t0)))
        try apply(store, .registerExecutor(executorID: "n1", node: "n1", slots: 4, nowMs: t0))
        let base = first == .stats ? cleanPayload() : payload(.map, 0)
        let splits = (0..<2).map { InputSplit(path: "/data/in-\($0)", start: 0, end: 10) }
        let tasks = JobTasks.first(job: job, base: base, splits: splits, nowMs: t0)
        try apply(store, .createJob(JobSpec(id: job, template: base.template, tasks: tasks, nowMs: t0)))
        return store
    }

    func payload(_ stage: JobStage, _ i: Int) -> JobTaskPayload {
        JobTaskPayload(template: "wordcount", stages: [.map, .reduce], stage: stage, index: i, numMaps: 2, numShards: 2,
                       tempDir: ".trireme-tmp/\(job)", outputPrefix: "out/counts", split: nil, tokenizer: .beam, clean: nil,
                       stats: nil, testDelayMs: nil)
    }

    func cleanPayload() -> JobTaskPayload {
        var spec = CSVCleanSpec()
        spec.normalize = ["price": .minmax]
        let config = CleanTaskConfig(input: .csv(header: ["price"]), spec: spec, format: .csv, outputHeader: ["price"], rejectsPath: nil)
        return JobTaskPayload(template: "csv-clean", stages: [.stats, .map, .reduce], stage: .stats, index: 0, numMaps: 2,
                              numShards: 2, tempDir: ".trireme-tmp/\(job)", outputPrefix: "out/clean", split: nil, tokenizer: nil,
                              clean: config, stats: nil, testDelayMs: nil)
    }

    static func stats(_ values: [Double]) -> CleanStats {
        var stats = CleanStats()
        for v in values { stats.columns["price", default: ColumnStats()].add(v) }
        return stats
    }

    @discardableResult
    mutating func apply(_ store: StateStore, _ command: Command) throws -> ApplyOutcome {
        index += 1
        let outcome = try store.apply(index: index, data: command.encoded()).outcome
        if case .rejected(let why) = outcome { Issue.record("\(command) was rejected: \(why)") }
        return outcome
    }

    /// Assigns then completes (or fails) one task, with the assignment's index as the fence.
    mutating func finish(_ store: StateStore, _ task: String, ok: Bool, result: Data = Data("{}".utf8)) throws {
        try apply(store, .assignTask(taskID: task, executorID: "n1", leaseUntilMs: t0 + 60_000, nowMs: t0))
        let fence = index
        if ok {
            try apply(store, .completeTask(taskID: task, fence: fence, result: result, counters: [:], nowMs: t0 + 1))
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
        try finish(store, JobTasks.id(job, .map, 0), ok: true)
        #expect(try coordinator.decide(job, store: store, nowMs: t0).isEmpty, "one map is still queued")
        try finish(store, JobTasks.id(job, .map, 1), ok: true)

        let reducers = try coordinator.decide(job, store: store, nowMs: t0 + 2)
        let ids = reducers.compactMap { command -> String? in
            if case .createTask(let spec) = command { return spec.id }
            return nil
        }
        #expect(ids == [JobTasks.id(job, .reduce, 0), JobTasks.id(job, .reduce, 1)])
        for command in reducers { try apply(store, command) }
        #expect(try coordinator.decide(job, store: store, nowMs: t0 + 3).isEmpty, "reducers are queued")
        for shard in 0..<2 { try finish(store, JobTasks.id(job, .reduce, shard), ok: true) }
        #expect(try coordinator.decide(job, store: store, nowMs: t0 + 4)
                == [.finishJob(jobID: job, failed: false, error: nil, nowMs: t0 + 4)])
    }

    @Test mutating func aDeadMapTaskFailsTheJobAndNamesIt() throws {
        let store = try makeStore()
        let coordinator = try coordinator()
        try finish(store, JobTasks.id(job, .map, 0), ok: true)
        try finish(store, JobTasks.id(job, .map, 1), ok: false)   // maxAttempts 1: dead at once
        #expect(try store.task(JobTasks.id(job, .map, 1))?.state == .dead)
        let decision = try coordinator.decide(job, store: store, nowMs: t0 + 5)
        guard case .finishJob(let id, let failed, let error, _)? = decision.first, decision.count == 1 else {
            Issue.record("expected one finishJob, got \(decision)")
            return
        }
        #expect(id == job && failed)
        #expect(error?.contains("\(JobTasks.id(job, .map, 1)) dead: disk on fire") == true, "\(error ?? "nil")")
    }

    /// Two-pass cleaning: map tasks only after every stats task, each with its own split and the
    /// statistics merged from all stats results; then reducers, then DONE.
    @Test mutating func aStatsStageComesFirstAndItsMergedResultGoesIntoEveryMapTask() throws {
        let store = try makeStore(first: .stats)
        let coordinator = try coordinator()
        #expect(try store.task(JobTasks.id(job, .map, 0)) == nil)
        try finish(store, JobTasks.id(job, .stats, 0), ok: true, result: try JobTaskPayload.encoder.encode(Self.stats([1, 5])))
        #expect(try coordinator.decide(job, store: store, nowMs: t0).isEmpty, "one stats task is still queued")
        try finish(store, JobTasks.id(job, .stats, 1), ok: true, result: try JobTaskPayload.encoder.encode(Self.stats([-3])))

        let maps = try coordinator.decide(job, store: store, nowMs: t0 + 2)
        let payloads = try maps.map { command -> JobTaskPayload in
            guard case .createTask(let spec) = command else { throw CancellationError() }
            #expect(spec.id == JobTasks.id(job, .map, payloads0(command)))
            return try JobTaskPayload.decode(spec.payload)
        }
        #expect(payloads.map(\.stage) == [.map, .map])
        #expect(payloads.map { $0.split?.path } == ["/data/in-0", "/data/in-1"], "each map keeps its stats task's split")
        let price = payloads.first?.stats?["price"]
        #expect(price?.count == 3 && price?.min == -3 && price?.max == 5, "\(String(describing: price))")
        for command in maps { try apply(store, command) }
        for i in 0..<2 { try finish(store, JobTasks.id(job, .map, i), ok: true) }
        let reducers = try coordinator.decide(job, store: store, nowMs: t0 + 3)
        #expect(reducers.count == 2)
        for command in reducers { try apply(store, command) }
        for i in 0..<2 { try finish(store, JobTasks.id(job, .reduce, i), ok: true) }
        #expect(try coordinator.decide(job, store: store, nowMs: t0 + 4) == [.finishJob(jobID: job, failed: false, error: nil, nowMs: t0 + 4)])
    }

    /// The index a created task's payload carries.
    private func payloads0(_ command: Command) -> Int {
        guard case .createTask(let spec) = command, let payload = try? JobTaskPayload.decode(spec.payload) else { return -1 }
        return payload.index
    }

    /// A later stage that cannot be derived (a previous task's payload is unreadable) fails the
    /// job instead of leaving it RUNNING forever.
    @Test mutating func anUnreadablePreviousStageFailsTheJob() throws {
        let store = try StateStore(path: ":memory:")
        try apply(store, .createQueue(QueueSpec(name: JobTasks.queue, retryConfig: RetryConfig(maxAttempts: 1), nowMs: t0)))
        try apply(store, .registerExecutor(executorID: "n1", node: "n1", slots: 4, nowMs: t0))
        var tasks = JobTasks.first(job: job, base: cleanPayload(), splits: [InputSplit(path: "/data/in", start: 0, end: 10)], nowMs: t0)
        tasks.append(TaskSpec(id: JobTasks.id(job, .stats, 1), queue: JobTasks.queue, jobID: job, kind: "preprocess",
                              payload: Data("not json".utf8), scheduleTimeMs: 0, nowMs: t0))
        try apply(store, .createJob(JobSpec(id: job, template: "csv-clean", tasks: tasks, nowMs: t0)))
        let coordinator = try coordinator()
        for i in 0..<2 { try finish(store, JobTasks.id(job, .stats, i), ok: true) }
        let decision = try coordinator.decide(job, store: store, nowMs: t0 + 2)
        guard case .finishJob(_, let failed, let error, _)? = decision.first, decision.count == 1 else {
            Issue.record("expected one finishJob, got \(decision)")
            return
        }
        #expect(failed && error?.contains("map tasks") == true, "\(error ?? "nil")")
    }
}
