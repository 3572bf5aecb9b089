import Store
import Foundation

/// One node's executor: its identity, its slots and its timers (milliseconds of this node's clock).
public struct ExecutorConfig: Sendable, Equatable {
    public var executorID: String
    public var node: String
    /// How many attempts may run at once.
    public var slots: Int
    /// A renewal extends every held lease to now + this. Match the scheduler's lease duration.
    public var leaseDurationMs: Milliseconds
    /// One `renewLeases` for all held leases this often; a third of the lease by default, so
    /// two renewals can be lost before a lease expires.
    public var renewIntervalMs: Milliseconds
    /// `executorHeartbeat` (or `registerExecutor` until the store knows us) this often; keep it
    /// well under the scheduler's liveness window.
    public var heartbeatIntervalMs: Milliseconds
    /// A report (complete, fail, cancel) not yet seen applied is proposed again after this.
    public var reportRetryMs: Milliseconds
    /// Leases per `renewLeases` command, to bound the entry's size.
    public var renewBatchMax: Int
    /// `startTask` (leased → running, the attempt's start time) is proposed only for an attempt
    /// still running this long after it started (0: at once). Shorter attempts go leased →
    /// succeeded/failed in their one report: three log entries per task instead of four, as
    /// Cloud Tasks' attempts have a dispatch and a response time but no separate start.
    public var startReportDelayMs: Milliseconds

    public init(
        executorID: String, node: String, slots: Int = 4, leaseDurationMs: Milliseconds = 10_000,
        renewIntervalMs: Milliseconds? = nil, heartbeatIntervalMs: Milliseconds = 2_000, reportRetryMs: Milliseconds = 3_000,
        renewBatchMax: Int = 1_000, startReportDelayMs: Milliseconds = 100
    ) {
        precondition(slots >= 1 && leaseDurationMs > 0 && heartbeatIntervalMs > 0 && reportRetryMs > 0 && renewBatchMax > 0
                     && startReportDelayMs >= 0, "executor config out of range")
        self.startReportDelayMs = startReportDelayMs
        self.executorID = executorID
        self.node = node
        self.slots = slots
        self.leaseDurationMs = leaseDurationMs
        self.renewIntervalMs = max(renewIntervalMs ?? leaseDurationMs / 3, 1)
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.reportRetryMs = reportRetryMs
        self.renewBatchMax = renewBatchMax
    }
}

/// What one attempt ended with, as a runner reports it.
public enum TaskOutcome: Sendable, Equatable {
    /// `result` becomes the task's result; `counters` add up into its job's counters.
    case succeeded(result: Data, counters: [String: Int64])
    /// Retried per the queue's retry config, or dead.
    case failed(String)
    /// A `job` task launched its job run: reported as `launchJob`, after which the task waits
    /// for the job without this executor (see `JobTaskRunner`).
    case launched(JobLaunch)
}

/// What the executor's core asks its host to do.
public enum ExecutorAction: Sendable, Equatable {
    /// Run this task (its lease carries `fence`) in a new attempt.
    case start(TaskRecord, fence: UInt64)
    /// Stop this attempt: cancel it cooperatively; its outcome will be ignored.
    case cancel(taskID: String, fence: UInt64)
    /// Propose this command through the log (to the leader).
    case propose(Command)
}

/// What the executor reads from the applied state, after each apply batch.
public struct ExecutorView: Sendable, Equatable {
    /// Tasks leased to this executor (leased or running), with their fences.
    public var leased: [TaskRecord]
    /// Jobs of those tasks that are being cancelled: their attempts stop.
    public var cancellingJobs: Set<String>
    /// Our slot count as the store has it, nil when we are not registered (yet).
    public var registeredSlots: Int?

    public init(leased: [TaskRecord], cancellingJobs: Set<String> = [], registeredSlots: Int?) {
        self.leased = leased
        self.cancellingJobs = cancellingJobs
        self.registeredSlots = registeredSlots
    }
}

extension ExecutorView {
    /// Reads the view from the store (on the thread that owns it).
    public init(store: StateStore, executorID: String) throws(StoreError) {
        let leased = try store.leasedTasks(executorID: executorID)
        var cancelling: Set<String> = []
        for jobID in Set(leased.compactMap(\.jobID)) where try store.job(jobID)?.state == .cancelling {
            cancelling.insert(jobID)
        }
        let me = try store.executors().first { $0.id == executorID }
        self.init(leased: leased, cancellingJobs: cancelling, registeredSlots: me?.slots)
    }
}
