import Foundation
import Logging
import Preprocess
import Store
import Testing
@testable import Node

/// The leader ends a handed-off `job` task's attempt from its job's state alone.
@Suite struct JobTaskCoordinationTests {
    let t0: Milliseconds = 1_700_000_000_000

    final class Log {
        var index: UInt64 = 0
        func apply(_ store: StateStore, _ command: Command) throws -> ApplyOutcome {
            index += 1
            return try store.apply(index: index, term: 1, data: command.encoded()).outcome
        }
    }

    /// A `job` task launched into job `t.r1` (one queued map task), and its fence.
    func launched(_ log: Log) throws -> (StateStore, UInt64) {
        let store = try StateStore(path: ":memory:")
        _ = try log.apply(store, .createQueue(QueueSpec(name: "q", nowMs: t0)))
        _ = try log.apply(store, .registerExecutor(executorID: "n1", node: "n1", slots: 1, nowMs: t0))
        _ = try log.apply(store, .createTask(TaskSpec(id: "t", queue: "q", kind: "job", scheduleTimeMs: t0, nowMs: t0)))
        guard case .assigned(let fence) = try log.apply(store, .assignTask(taskID: "t", executorID: "n1", leaseUntilMs: t0 + 9, nowMs: t0)) else {
            throw StoreError.invalidSnapshot("not assigned")
        }
        let map = TaskSpec(id: "t.r1-map-00000", queue: JobTasks.queue, kind: "preprocess", scheduleTimeMs: 0, nowMs: t0)
        _ = try log.apply(store, .launchJob(taskID: "t", fence: fence, job: JobSpec(id: "t.r1", template: "wordcount", tasks: [map], nowMs: t0),
                                           jobsQueue: JobTasks.queueSpec(nowMs: t0), nowMs: t0))
        return (store, fence)
    }

    func coordinator() throws -> JobCoordinator {
        JobCoordinator(root: try DataRoot(FileManager.default.temporaryDirectory.path), logger: Logger(label: "test"))
    }

    @Test func nothingWhileTheJobRunsThenTheJobsOutcome() throws {
        let log = Log()
        let (store, fence) = try launched(log)
        let task = try #require(try store.task("t"))
        #expect(try coordinator().settle(task, fence: fence, store: store, nowMs: t0) == nil, "the job is still queued")

        _ = try log.apply(store, .finishJob(jobID: "t.r1", failed: true, error: "map broke", nowMs: t0 + 1))
        let failed = try coordinator().settle(task, fence: fence, store: store, nowMs: t0 + 2)
        #expect(failed == .failTask(taskID: "t", fence: fence, error: "job t.r1 (run 1) failed: map broke", nowMs: t0 + 2))
    }

    @Test func aDoneJobCompletesTheTaskWithALinkToIt() throws {
        let log = Log()
        let (store, fence) = try launched(log)
        _ = try log.apply(store, .finishJob(jobID: "t.r1", failed: false, error: nil, nowMs: t0 + 1))
        let command = try coordinator().settle(try #require(try store.task("t")), fence: fence, store: store, nowMs: t0 + 2)
        guard case .completeTask(let id, let f, let result, _, _)? = command else {
            Issue.record("expected completeTask, got \(String(describing: command))")
            return
        }
        #expect(id == "t" && f == fence)
        let body = try JSONDecoder().decode(JobCoordinator.JobTaskResult.self, from: result)
        #expect(body.job == "t.r1" && body.run == 1 && body.state == "DONE" && body.template == "wordcount")
        #expect(try log.apply(store, try #require(command)) == .ok)
        #expect(try store.task("t")?.state == .succeeded)
    }

    @Test func aCancelledJobCancelsTheTask() throws {
        let log = Log()
        let (store, fence) = try launched(log)
        _ = try log.apply(store, .cancelJob(jobID: "t.r1", nowMs: t0 + 1))
        let command = try coordinator().settle(try #require(try store.task("t")), fence: fence, store: store, nowMs: t0 + 2)
        #expect(command == .cancelTask(taskID: "t", nowMs: t0 + 2))
    }

    @Test(arguments: [("nightly@1796015760000", "nightly", Int64(1_796_015_760_000)), ("a@b@5", "a@b", Int64(5))])
    func scheduleFireTaskIDsNameTheirSlot(id: String, schedule: String, ms: Int64) {
        let slot = NodeJobLauncher.scheduleSlot(id)
        #expect(slot?.schedule == schedule && slot?.fireTimeMs == ms)
    }

    @Test func otherTaskIDsHaveNoSlot() {
        #expect(NodeJobLauncher.scheduleSlot("0f6e-uuid") == nil)
        #expect(NodeJobLauncher.scheduleSlot("x@12ab") == nil)
    }
}
