import Foundation
import Store

/// One node's executor as a value: no clock, no I/O, no threads. Its host (`ExecutorService`)
/// feeds it the applied state (`reconcile`), the time (`tick`) and runner results
/// (`finished`), and carries out the actions it returns.
///
/// An attempt is one run of a task under one lease (task id + fence). The executor reports
/// with that fence; if the lease moved on, apply refuses the report as stale, so a late
/// report of an old attempt is harmless.
public struct ExecutorCore: Sendable {
    public let config: ExecutorConfig
    /// Attempts this executor knows of, by task id and fence.
    var attempts: [AttemptKey: Attempt] = [:]
    var nextRenewMs: Milliseconds?
    var nextHeartbeatMs: Milliseconds?
    /// From the last view: whether the store knows us with our slot count.
    var registeredAsConfigured = false

    public struct AttemptKey: Sendable, Hashable {
        public var taskID: String
        public var fence: UInt64
    }

    struct Attempt: Sendable {
        var jobID: String?
        var deadlineMs: Milliseconds
        /// The runner has not returned yet (it holds a slot, even when cancelled).
        var runnerActive: Bool
        var phase: Phase
        /// When the runner started, while its `startTask` is still held back (nil: proposed,
        /// or never needed).
        var unreportedStartMs: Milliseconds?
    }

    enum Phase: Sendable, Equatable {
        /// Running under a lease we keep renewing.
        case running
        /// Our report is proposed (first at `sinceMs`, last at `sentMs`). The lease is renewed
        /// only once the report is overdue (`reportRetryMs`): a renewal racing a report that
        /// applies first would be refused, and counted, as a stale fence.
        case reporting(Command, sentMs: Milliseconds, sinceMs: Milliseconds)
        /// The lease is gone (expired, reassigned, cancelled): nothing to report or renew.
        case abandoned
    }

    public init(config: ExecutorConfig) {
        self.config = config
    }

    /// Attempts whose runner is still going (for metrics and tests).
    public var activeRunners: Int { attempts.values.lazy.filter(\.runnerActive).count }

    /// Attempts holding a lease: running, or waiting for their report to apply.
    public var heldLeases: [LeaseRef] {
        Self.refs(attempts.filter { $0.value.phase != .abandoned }.keys)
    }

    /// The leases a renewal now carries: running attempts, and reported ones whose report is overdue.
    public func leasesToRenew(nowMs: Milliseconds) -> [LeaseRef] {
        Self.refs(attempts.filter { _, attempt in
            switch attempt.phase {
            case .running: return true
            case .reporting(_, _, let since): return nowMs - since >= config.reportRetryMs
            case .abandoned: return false
            }
        }.keys)
    }

    static func refs(_ keys: some Sequence<AttemptKey>) -> [LeaseRef] {
        keys.map { LeaseRef(taskID: $0.taskID, fence: $0.fence) }.sorted { ($0.taskID, $0.fence) < ($1.taskID, $1.fence) }
    }

    // MARK: Applied state

    /// Compares the applied state with the attempts: stops attempts whose lease is gone or
    /// whose job is being cancelled, and starts leased tasks while slots are free.
    public mutating func reconcile(_ view: ExecutorView, nowMs: Milliseconds) -> [ExecutorAction] {
        registeredAsConfigured = view.registeredSlots == config.slots
        var leases: [AttemptKey: TaskRecord] = [:]
        for task in view.leased where task.leaseExecutor == config.executorID && task.state.isLeased {
            guard let fence = task.fence else { continue }
            leases[AttemptKey(taskID: task.id, fence: fence)] = task
        }
        var actions = dropLostAttempts(keeping: leases)
        actions += stopCancelledJobs(view.cancellingJobs, nowMs: nowMs)
        actions += startLeased(leases, cancellingJobs: view.cancellingJobs, nowMs: nowMs)
        return actions
    }

    mutating func dropLostAttempts(keeping leases: [AttemptKey: TaskRecord]) -> [ExecutorAction] {
        var actions: [ExecutorAction] = []
        for (key, attempt) in attempts.sorted(by: { ($0.key.taskID, $0.key.fence) < ($1.key.taskID, $1.key.fence) })
        where leases[key] == nil {
            if attempt.phase == .running { actions.append(.cancel(taskID: key.taskID, fence: key.fence)) }
            if attempt.runnerActive {
                attempts[key]?.phase = .abandoned
            } else {
                attempts[key] = nil
            }
        }
        return actions
    }

    mutating func stopCancelledJobs(_ jobs: Set<String>, nowMs: Milliseconds) -> [ExecutorAction] {
        guard !jobs.isEmpty else { return [] }
        var actions: [ExecutorAction] = []
        for (key, attempt) in attempts.sorted(by: { $0.key.taskID < $1.key.taskID }) where attempt.phase == .running {
            guard let job = attempt.jobID, jobs.contains(job) else { continue }
            actions.append(.cancel(taskID: key.taskID, fence: key.fence))
            actions.append(report(.cancelTask(taskID: key.taskID, nowMs: nowMs), for: key, nowMs: nowMs))
        }
        return actions
    }

    mutating func startLeased(_ leases: [AttemptKey: TaskRecord], cancellingJobs: Set<String>, nowMs: Milliseconds) -> [ExecutorAction] {
        var actions: [ExecutorAction] = []
        var busy = Set(attempts.filter(\.value.runnerActive).keys.map(\.taskID))
        var free = config.slots - busy.count
        // Oldest grants first: they have waited longest.
        for (key, task) in leases.sorted(by: { $0.key.fence < $1.key.fence }) where attempts[key] == nil {
            if let job = task.jobID, cancellingJobs.contains(job) {
                // Never started: cancel without running.
                attempts[key] = Attempt(jobID: job, deadlineMs: .max, runnerActive: false, phase: .running)
                actions.append(report(.cancelTask(taskID: key.taskID, nowMs: nowMs), for: key, nowMs: nowMs))
                continue
            }
            // An expired lease is the scheduler's to requeue; a task still unwinding waits.
            guard free > 0, (task.leaseUntilMs ?? .min) > nowMs, !busy.contains(key.taskID) else { continue }
            let deadline = nowMs.addingReportingOverflow(max(task.dispatchDeadlineMs, 1))
            let reportStartNow = config.startReportDelayMs == 0
            attempts[key] = Attempt(jobID: task.jobID, deadlineMs: deadline.overflow ? .max : deadline.partialValue,
                                    runnerActive: true, phase: .running, unreportedStartMs: reportStartNow ? nil : nowMs)
            busy.insert(key.taskID)
            free -= 1
            if reportStartNow { actions.append(.propose(.startTask(taskID: key.taskID, fence: key.fence, nowMs: nowMs))) }
            actions.append(.start(task, fence: key.fence))
            // Renew soon after the first start, not a whole period after the last renewal.
            if nextRenewMs == nil { nextRenewMs = nowMs + config.renewIntervalMs }
        }
        return actions
    }

    /// Records a report as sent and returns it as an action.
    mutating func report(_ command: Command, for key: AttemptKey, nowMs: Milliseconds) -> ExecutorAction {
        var since = nowMs
        if case .reporting(_, _, let first)? = attempts[key]?.phase { since = first }
        attempts[key]?.phase = .reporting(command, sentMs: nowMs, sinceMs: since)
        return .propose(command)
    }
}
