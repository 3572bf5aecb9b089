// End to end in one process: a real store, the scheduler and two executors with fake runners.
import Foundation
@testable import Executor
import Scheduler
@testable import Store
import Testing

/// One process, no threads: a real store, a scheduler and executor cores, runners simulated
/// on a fake clock. "Proposing" appends to a log that is applied at the start of the next
/// step, at increasing indexes, so an assignment's index is its fence, as in the cluster.
final class Cluster {
    let store: StateStore
    var index: UInt64 = 0
    var now: Milliseconds = t0
    var scheduler: SchedulerCore
    var executors: [String: ExecutorCore] = [:]
    var alive: Set<String> = []
    /// Simulated attempts: when each ends and how.
    var running: [String: [(key: ExecutorCore.AttemptKey, endsAt: Milliseconds, outcome: TaskOutcome)]] = [:]
    var log: [Command] = []
    var applied: [(Command, ApplyOutcome)] = []
    /// Attempts ever started: (executor, task, fence), to check no two ran one lease at once.
    var starts: [(executor: String, task: String, fence: UInt64)] = []

    init(executorIDs: [String], slots: Int = 4, leaseMs: Milliseconds = 1_000) throws {
        store = try StateStore(path: ":memory:")
        scheduler = SchedulerCore(config: SchedulerConfig(leaseDurationMs: leaseMs, executorLivenessMs: leaseMs, inFlightTimeoutMs: 500))
        for id in executorIDs {
            executors[id] = ExecutorCore(config: ExecutorConfig(executorID: id, node: "node-\(id)", slots: slots, leaseDurationMs: leaseMs,
                                                                heartbeatIntervalMs: 200, reportRetryMs: 500))
            alive.insert(id)
        }
    }

    deinit { store.close() }

    @discardableResult
    func apply(_ command: Command) throws -> ApplyOutcome {
        index += 1
        let outcome = try store.apply(index: index, term: 1, data: command.encoded()).outcome
        applied.append((command, outcome))
        scheduler.noteApplied(command)
        return outcome
    }

    /// How a simulated runner ends: `sleep` succeeds after its ms, `fail` fails after 10 ms.
    func simulate(_ task: TaskRecord) -> (Milliseconds, TaskOutcome) {
        let ms = (try? JSONDecoder().decode([String: Int64].self, from: task.payload))?["ms"] ?? 20
        if task.kind == "fail" { return (10, .failed("boom #\(task.attempts)")) }
        return (ms, .succeeded(result: Data("done \(task.id)".utf8), counters: [:]))
    }

    func perform(_ actions: [ExecutorAction], executor id: String) {
        for action in actions {
            switch action {
            case .propose(let command): log.append(command)
            case .start(let task, let fence):
                let (ms, outcome) = simulate(task)
                running[id, default: []].append((ExecutorCore.AttemptKey(taskID: task.id, fence: fence), now + ms, outcome))
                starts.append((id, task.id, fence))
            case .cancel(let taskID, let fence):
                // Cooperative stop: the runner returns at once.
                if let i = running[id]?.firstIndex(where: { $0.key == ExecutorCore.AttemptKey(taskID: taskID, fence: fence) }) {
                    running[id]?[i].endsAt = now
                    running[id]?[i].outcome = .failed("cancelled")
                }
            }
        }
    }

    /// One 10 ms step: apply the log, let each live executor see the state, finish its due
    /// runners and tick, then let the scheduler plan.
    func step() throws {
        let pending = log
        log = []
        for command in pending { try apply(command) }
        for id in executors.keys.sorted() where alive.contains(id) {
            var core = try #require(executors[id])
            perform(core.reconcile(try ExecutorView(store: store, executorID: id), nowMs: now), executor: id)
            let done = running[id, default: []].filter { $0.endsAt <= now }
            running[id] = running[id, default: []].filter { $0.endsAt > now }
            for attempt in done {
                perform(core.finished(taskID: attempt.key.taskID, fence: attempt.key.fence, outcome: attempt.outcome, nowMs: now), executor: id)
            }
            perform(core.tick(nowMs: now), executor: id)
            executors[id] = core
        }
        log += try scheduler.plan(nowMs: now, state: StoreSchedulerState(store: store))
        now += 10
    }

    func run(until done: () throws -> Bool, maxSteps: Int = 20_000) throws {
        for _ in 0..<maxSteps {
            if try done() { return }
            try step()
        }
        Issue.record("not done after \(maxSteps) steps")
    }

    func allTerminal() throws -> Bool {
        let counts = try store.allTaskCounts()
        return counts.values.allSatisfy { byState in byState.keys.allSatisfy(\.isTerminal) }
    }

    func acceptedCompletions() -> [String: Int] {
        var result: [String: Int] = [:]
        for (command, outcome) in applied {
            if case .completeTask(let id, _, _, _, _) = command, outcome == .ok { result[id, default: 0] += 1 }
        }
        return result
    }
}

@Suite struct EndToEndTests {
    @Test func twoHundredTasksOverTwoQueuesCompleteExactlyOnce() throws {
        let cluster = try Cluster(executorIDs: ["e1", "e2"])
        try cluster.apply(.createQueue(QueueSpec(name: "q1", nowMs: t0)))
        try cluster.apply(.createQueue(QueueSpec(name: "q2", rateLimits: RateLimits(maxDispatchesPerSecond: 50, maxBurstSize: 5), nowMs: t0)))
        for n in 0..<200 {
            let spec = TaskSpec(id: "t\(n)", queue: n.isMultiple(of: 2) ? "q1" : "q2", kind: "sleep",
                                payload: Data(#"{"ms": \#(10 + (n * 37) % 150)}"#.utf8), scheduleTimeMs: t0, nowMs: t0)
            try cluster.apply(.createTask(spec))
        }
        try cluster.run(until: cluster.allTerminal)
        #expect(try cluster.store.allTaskCounts() == ["q1": [.succeeded: 100], "q2": [.succeeded: 100]])
        let completions = cluster.acceptedCompletions()
        #expect(completions.count == 200 && completions.values.allSatisfy { $0 == 1 })
        #expect(cluster.starts.count == 200, "fault-free: one attempt per task")
        #expect(Set(cluster.starts.map(\.executor)) == ["e1", "e2"], "both executors worked")
        #expect(try cluster.store.staleFenceRejections == 0)
    }

    @Test func failingTaskIsRetriedPerConfigThenDead() throws {
        let cluster = try Cluster(executorIDs: ["e1", "e2"])
        let retry = RetryConfig(maxAttempts: 4, minBackoffMs: 100, maxBackoffMs: 1_000, maxDoublings: 1)
        try cluster.apply(.createQueue(QueueSpec(name: "q", retryConfig: retry, nowMs: t0)))
        try cluster.apply(.createTask(TaskSpec(id: "bad", queue: "q", kind: "fail", scheduleTimeMs: t0, nowMs: t0)))
        try cluster.apply(.createTask(TaskSpec(id: "good", queue: "q", kind: "sleep", scheduleTimeMs: t0, nowMs: t0)))
        try cluster.run(until: cluster.allTerminal)
        let bad = try #require(try cluster.store.task("bad"))
        #expect(bad.state == .dead && bad.attempts == 4 && bad.lastError == "boom #4")
        #expect(try cluster.store.task("good")?.state == .succeeded)
        // Failures at f1…f3 were retried after 100, 200, 400 ms (1 doubling, then linear by 200).
        var failTimes: [Milliseconds] = []
        var assignTimes: [Milliseconds] = []
        for (command, _) in cluster.applied {
            if case .failTask("bad", _, _, let at) = command { failTimes.append(at) }
            if case .assignTask("bad", _, _, let at) = command { assignTimes.append(at) }
        }
        #expect(failTimes.count == 4 && assignTimes.count == 4)
        for (retryNumber, expected) in [100, 200, 400].enumerated() {
            let gap = assignTimes[retryNumber + 1] - failTimes[retryNumber]
            #expect(gap >= Milliseconds(expected) && gap <= Milliseconds(expected) + 40,
                    "retry \(retryNumber + 1) after \(gap) ms, expected \(expected) ms (+ up to a few 10 ms steps)")
        }
    }

    @Test func deadExecutorsLeasesMoveToTheOtherAndItsLateReportIsStale() throws {
        let cluster = try Cluster(executorIDs: ["e1", "e2"], slots: 4, leaseMs: 1_000)
        try cluster.apply(.createQueue(QueueSpec(name: "q", retryConfig: RetryConfig(minBackoffMs: 0, maxBackoffMs: 0), nowMs: t0)))
        for n in 0..<40 {
            try cluster.apply(.createTask(TaskSpec(id: "t\(n)", queue: "q", kind: "sleep", payload: Data(#"{"ms": 300}"#.utf8),
                                                   scheduleTimeMs: t0, nowMs: t0)))
        }
        // Run until e1 holds leases, then kill it: it stops seeing state, ticking and reporting.
        try cluster.run(until: { try !cluster.store.leasedTasks(executorID: "e1").isEmpty && cluster.now > t0 + 500 })
        let orphaned = try cluster.store.leasedTasks(executorID: "e1")
        #expect(!orphaned.isEmpty)
        cluster.alive.remove("e1")
        var zombie = try #require(cluster.executors["e1"])
        // Until one orphan is re-leased to e2.
        let victim = orphaned[0]
        try cluster.run(until: { try cluster.store.task(victim.id)?.leaseExecutor == "e2" })
        // The dead executor wakes up and reports its old attempt: refused, stale fence.
        let late = zombie.finished(taskID: victim.id, fence: try #require(victim.fence),
                                   outcome: .succeeded(result: Data("late".utf8), counters: [:]), nowMs: cluster.now)
        let report = try #require(late.compactMap(\.proposed).first)
        #expect(try cluster.apply(report) == .rejected(.staleFence))
        try cluster.run(until: cluster.allTerminal)
        #expect(try cluster.store.allTaskCounts() == ["q": [.succeeded: 40]])
        #expect(cluster.acceptedCompletions().values.allSatisfy { $0 == 1 })
        for task in orphaned {
            #expect(try cluster.store.task(task.id)?.result == Data("done \(task.id)".utf8), "completed by e2")
        }
        // Each extra start of a task is explained by e1's death (its lease expired).
        let restarted = Dictionary(grouping: cluster.starts, by: \.task).filter { $0.value.count > 1 }
        #expect(Set(restarted.keys) == Set(orphaned.map(\.id)))
        #expect(try cluster.store.staleFenceRejections >= 1)
    }

    @Test func cancellingAJobStopsItsRunningTasks() throws {
        let cluster = try Cluster(executorIDs: ["e1", "e2"])
        try cluster.apply(.createQueue(QueueSpec(name: "q", nowMs: t0)))
        let tasks = (0..<6).map { n in
            TaskSpec(id: "j-\(n)", queue: "q", kind: "sleep", payload: Data(#"{"ms": 60000}"#.utf8), scheduleTimeMs: t0, nowMs: t0)
        }
        try cluster.apply(.createJob(JobSpec(id: "j", template: "test", tasks: tasks, nowMs: t0)))
        try cluster.apply(.createTask(TaskSpec(id: "solo", queue: "q", kind: "sleep", payload: Data(#"{"ms": 60000}"#.utf8),
                                               scheduleTimeMs: t0, nowMs: t0)))
        try cluster.run(until: { try cluster.store.taskCounts(queue: "q")[.running] == 7 })
        try cluster.apply(.cancelJob(jobID: "j", nowMs: cluster.now))
        try cluster.apply(.cancelTask(taskID: "solo", nowMs: cluster.now))
        try cluster.run(until: { try cluster.store.job("j")?.state == .cancelled && cluster.running.values.allSatisfy(\.isEmpty) })
        #expect(try cluster.store.taskCounts(queue: "q") == [.cancelled: 7])
        #expect(cluster.acceptedCompletions().isEmpty)
        #expect(cluster.now < t0 + 5_000, "stopped long before the 60 s runs would have ended")
    }
}
