import Foundation

/// Read models returned by the store's queries.
public struct QueueRecord: Sendable, Equatable {
    public var name: String
    public var state: QueueState
    public var rateLimits: RateLimits
    public var retryConfig: RetryConfig
    public var tombstoneWindowMs: Milliseconds
    public var createTimeMs: Milliseconds
    public var purgeTimeMs: Milliseconds?
}

public struct TaskRecord: Sendable, Equatable {
    public var id: String
    public var queue: String
    public var name: String?
    public var jobID: String?
    public var kind: String
    public var payload: Data
    public var scheduleTimeMs: Milliseconds
    public var dispatchDeadlineMs: Milliseconds
    public var createTimeMs: Milliseconds
    public var state: TaskState
    public var attempts: Int
    public var firstAttemptMs: Milliseconds?
    public var lastAttemptMs: Milliseconds?
    public var lastOutcome: String?
    public var leaseExecutor: String?
    public var leaseUntilMs: Milliseconds?
    /// The current lease's fencing token (log index of its grant).
    public var fence: UInt64?
    public var result: Data?
    public var lastError: String?
    public var endTimeMs: Milliseconds?
}

/// A due task as the scheduler needs it: no payload.
public struct DueTask: Sendable, Equatable {
    public var id: String
    public var queue: String
    public var scheduleTimeMs: Milliseconds
    public var dispatchDeadlineMs: Milliseconds
}

/// A lease past its expiry.
public struct ExpiredLease: Sendable, Equatable {
    public var taskID: String
    public var executorID: String
    public var leaseUntilMs: Milliseconds
    public var fence: UInt64
}

public struct JobRecord: Sendable, Equatable {
    public var id: String
    public var template: String
    public var parameters: String
    public var state: JobState
    public var createTimeMs: Milliseconds
    public var startTimeMs: Milliseconds?
    public var endTimeMs: Milliseconds?
    public var error: String?
}

public struct JobProgress: Sendable, Equatable {
    public var job: JobRecord
    /// Number of the job's tasks in each state (states with none are absent).
    public var tasksByState: [TaskState: Int]
    /// Counters summed from task results and progress updates.
    public var counters: [String: Int64]
}

public struct ExecutorRecord: Sendable, Equatable {
    public var id: String
    public var node: String
    public var slots: Int
    public var registerTimeMs: Milliseconds
    public var lastHeartbeatMs: Milliseconds
}

public struct ScheduleRecord: Sendable, Equatable {
    public var id: String
    public var cron: String
    public var timeZone: String
    public var queue: String
    public var kind: String
    public var payload: Data
    public var paused: Bool
    public var createTimeMs: Milliseconds
    public var lastFireMs: Milliseconds?
}

/// One page of a list; pass `nextPageToken` back to continue, nil means the end.
public struct Page<Item: Sendable & Equatable>: Sendable, Equatable {
    public var items: [Item]
    public var nextPageToken: String?
}
