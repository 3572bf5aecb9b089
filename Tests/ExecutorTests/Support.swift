import Foundation
@testable import Executor
@testable import Store
import Synchronization
import Testing

let t0: Milliseconds = 1_780_000_000_000

func leasedTask(_ id: String, fence: UInt64, executor: String = "e1", until: Milliseconds = t0 + 10_000, job: String? = nil,
                kind: String = "sleep", payload: String = "", deadline: Milliseconds = 60_000, attempts: Int = 1) -> TaskRecord {
    TaskRecord(id: id, queue: "q", name: nil, jobID: job, kind: kind, payload: Data(payload.utf8), scheduleTimeMs: t0,
               dispatchDeadlineMs: deadline, createTimeMs: t0, state: .leased, attempts: attempts, firstAttemptMs: t0,
               lastAttemptMs: t0, lastOutcome: nil, leaseExecutor: executor, leaseUntilMs: until, fence: fence, result: nil,
               lastError: nil, endTimeMs: nil)
}

func config(slots: Int = 2, lease: Milliseconds = 9_000) -> ExecutorConfig {
    ExecutorConfig(executorID: "e1", node: "n1", slots: slots, leaseDurationMs: lease, heartbeatIntervalMs: 2_000, reportRetryMs: 3_000,
                   startReportDelayMs: 0)
}

extension ExecutorAction {
    var proposed: Command? {
        if case .propose(let command) = self { return command }
        return nil
    }

    var started: String? {
        if case .start(let task, _) = self { return task.id }
        return nil
    }

    var cancelled: String? {
        if case .cancel(let taskID, _) = self { return taskID }
        return nil
    }
}

/// A runner made of one closure.
struct FakeRunner: TaskRunner {
    var body: @Sendable (TaskRecord) async -> TaskOutcome
    func run(_ task: TaskRecord) async -> TaskOutcome { await body(task) }
}

/// A clock the test moves by hand.
final class FakeClock: ExecutorClock {
    let now: Mutex<Milliseconds>
    init(_ start: Milliseconds = t0) { now = Mutex(start) }
    func nowMs() -> Milliseconds { now.withLock { $0 } }
    func advance(_ ms: Milliseconds) { now.withLock { $0 += ms } }
}

/// A proposer made of one closure.
struct FakeProposer: CommandProposer {
    var body: @Sendable (Command) -> Void
    func propose(_ command: Command) { body(command) }
}
