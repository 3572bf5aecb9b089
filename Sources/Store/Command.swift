import Foundation

/// Every change to the store. A command carries every value that must be equal on all
/// replicas (ids, `nowMs`, lease expiries); apply reads nothing else but the database and
/// the entry's log index (the fencing token of an `assignTask`).
///
/// Adding a case or a field changes the wire format: bump `Command.version` and keep
/// decoding the old version, or old entries stop apply with `unsupportedCommandVersion`.
public enum Command: Sendable, Codable, Equatable {
    // Queues
    case createQueue(QueueSpec)
    /// Replaces limits, retry config and tombstone window; state is unchanged.
    case updateQueue(QueueSpec)
    /// Deletes the queue and all its tasks.
    case deleteQueue(name: String, nowMs: Milliseconds)
    case pauseQueue(name: String)
    case resumeQueue(name: String)
    case disableQueue(name: String)
    /// Deletes every task of the queue, in any state; the queue keeps its state.
    case purgeQueue(name: String, nowMs: Milliseconds)

    // Tasks
    case createTask(TaskSpec)
    case deleteTask(taskID: String, nowMs: Milliseconds)
    case cancelTask(taskID: String, nowMs: Milliseconds)
    /// Makes a queued task due now.
    case runTask(taskID: String, nowMs: Milliseconds)
    /// Leases a queued task to an executor; the entry's log index becomes the fencing token.
    case assignTask(taskID: String, executorID: String, leaseUntilMs: Milliseconds, nowMs: Milliseconds)
    case startTask(taskID: String, fence: UInt64, nowMs: Milliseconds)
    /// Extends every listed lease of one executor whose fence still matches: one log write per
    /// executor and renewal period, not one per task.
    case renewLeases(executorID: String, leases: [LeaseRef], leaseUntilMs: Milliseconds, nowMs: Milliseconds)
    case completeTask(taskID: String, fence: UInt64, result: Data, counters: [String: Int64], nowMs: Milliseconds)
    /// Apply decides retry (with backoff from the queue's retry config and `nowMs`) or dead.
    case failTask(taskID: String, fence: UInt64, error: String, nowMs: Milliseconds)
    /// Leases expired at `nowMs` return to queued (retry) or dead; at most `limit` per entry.
    case expireLeases(nowMs: Milliseconds, limit: Int)
    case redriveDeadTask(taskID: String, nowMs: Milliseconds)

    // Jobs
    case createJob(JobSpec)
    /// Sets (not adds) the named counters.
    case updateJobProgress(jobID: String, counters: [String: Int64], nowMs: Milliseconds)
    case cancelJob(jobID: String, nowMs: Milliseconds)
    case finishJob(jobID: String, failed: Bool, error: String?, nowMs: Milliseconds)
    /// (Version 3.) An executor's attempt of a `job`-kind task launches its job run: fenced like
    /// a report; creates `jobsQueue` if missing and `job` unless it exists, then hands the task
    /// to the leader's job coordinator (lease holder `jobLeaseHolder`, no expiry), which ends
    /// the attempt with the job's outcome. See `StateStore+JobTasks.swift`.
    case launchJob(taskID: String, fence: UInt64, job: JobSpec, jobsQueue: QueueSpec, nowMs: Milliseconds)
    /// (Version 3.) Creates or replaces a named job preset (template + parameters).
    case putJobPreset(JobPresetSpec)
    /// (Version 3.)
    case deleteJobPreset(name: String)

    // Executors
    case registerExecutor(executorID: String, node: String, slots: Int, nowMs: Milliseconds)
    case executorHeartbeat(executorID: String, nowMs: Milliseconds)

    // Schedules
    case createSchedule(ScheduleSpec)
    case updateSchedule(ScheduleSpec)
    case deleteSchedule(scheduleID: String)
    /// Records a fire of one schedule slot and creates its task, atomically: a slot fires once.
    case recordScheduleFire(scheduleID: String, fireTimeMs: Milliseconds, taskID: String, nowMs: Milliseconds)

    // Maintenance
    /// Drops expired name tombstones and idempotency keys, at most `limit` of each.
    case collectGarbage(nowMs: Milliseconds, limit: Int)
}

public struct QueueSpec: Sendable, Codable, Equatable {
    public var name: String
    public var rateLimits: RateLimits
    public var retryConfig: RetryConfig
    /// How long a finished or deleted task's name stays reserved (Cloud Tasks: about 1 h).
    public var tombstoneWindowMs: Milliseconds
    public var nowMs: Milliseconds

    public init(
        name: String, rateLimits: RateLimits = RateLimits(), retryConfig: RetryConfig = RetryConfig(),
        tombstoneWindowMs: Milliseconds = 3_600_000, nowMs: Milliseconds
    ) {
        self.name = name
        self.rateLimits = rateLimits
        self.retryConfig = retryConfig
        self.tombstoneWindowMs = tombstoneWindowMs
        self.nowMs = nowMs
    }
}

public struct TaskSpec: Sendable, Codable, Equatable {
    public var id: String
    public var queue: String
    /// User-given name, unique in the queue while the task lives and for the tombstone window.
    public var name: String?
    public var jobID: String?
    public var kind: String
    public var payload: Data
    public var scheduleTimeMs: Milliseconds
    public var dispatchDeadlineMs: Milliseconds
    public var nowMs: Milliseconds
    /// A retried request with the same key and the same request gets the first outcome.
    public var idempotencyKey: String?

    public init(
        id: String, queue: String, name: String? = nil, jobID: String? = nil, kind: String, payload: Data = Data(),
        scheduleTimeMs: Milliseconds, dispatchDeadlineMs: Milliseconds = 600_000, nowMs: Milliseconds,
        idempotencyKey: String? = nil
    ) {
        self.id = id
        self.queue = queue
        self.name = name
        self.jobID = jobID
        self.kind = kind
        self.payload = payload
        self.scheduleTimeMs = scheduleTimeMs
        self.dispatchDeadlineMs = dispatchDeadlineMs
        self.nowMs = nowMs
        self.idempotencyKey = idempotencyKey
    }
}

public struct JobSpec: Sendable, Codable, Equatable {
    public var id: String
    public var template: String
    /// Template parameters as the client sent them (canonical JSON text).
    public var parameters: String
    /// The job's first tasks; more can be added later by `createTask` with `jobID`.
    public var tasks: [TaskSpec]
    public var nowMs: Milliseconds
    public var idempotencyKey: String?

    public init(id: String, template: String, parameters: String = "{}", tasks: [TaskSpec] = [], nowMs: Milliseconds, idempotencyKey: String? = nil) {
        self.id = id
        self.template = template
        self.parameters = parameters
        self.tasks = tasks
        self.nowMs = nowMs
        self.idempotencyKey = idempotencyKey
    }
}

public struct ScheduleSpec: Sendable, Codable, Equatable {
    public var id: String
    /// Standard 5-field cron expression, see `CronExpression`.
    public var cron: String
    public var timeZone: String
    public var queue: String
    public var kind: String
    public var payload: Data
    public var paused: Bool
    public var nowMs: Milliseconds

    public init(id: String, cron: String, timeZone: String = "UTC", queue: String, kind: String, payload: Data = Data(), paused: Bool = false, nowMs: Milliseconds) {
        self.id = id
        self.cron = cron
        self.timeZone = timeZone
        self.queue = queue
        self.kind = kind
        self.payload = payload
        self.paused = paused
        self.nowMs = nowMs
    }
}

/// A named job preset: a template and its parameters (canonical JSON text), which `job` tasks
/// and `trireme apply` refer to by name.
public struct JobPresetSpec: Sendable, Codable, Equatable {
    public var name: String
    public var template: String
    public var parameters: String
    public var nowMs: Milliseconds

    public init(name: String, template: String, parameters: String = "{}", nowMs: Milliseconds) {
        self.name = name
        self.template = template
        self.parameters = parameters
        self.nowMs = nowMs
    }
}
