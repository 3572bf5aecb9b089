import Foundation

/// Times everywhere are Int64 milliseconds since the Unix epoch, stamped by the proposer.
public typealias Milliseconds = Int64

public enum QueueState: String, Sendable, Codable, CaseIterable {
    case running, paused, disabled
}

/// Task states (RELIABILITY I11): queued → leased → running → succeeded | queued (retry) | dead;
/// leased → queued on lease expiry; cancelled from any non-terminal state. Terminal states
/// (succeeded, dead, cancelled) are never left, except dead → queued by an explicit redrive.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case queued, leased, running, succeeded, dead, cancelled

    public var isTerminal: Bool { self == .succeeded || self == .dead || self == .cancelled }
    /// Holds a lease: an executor may be running it.
    public var isLeased: Bool { self == .leased || self == .running }
}

/// Dataflow-like job states.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued = "QUEUED", running = "RUNNING", done = "DONE", failed = "FAILED"
    case cancelling = "CANCELLING", cancelled = "CANCELLED"

    public var isTerminal: Bool { self == .done || self == .failed || self == .cancelled }
}

/// Per-queue dispatch limits (Cloud Tasks `RateLimits`). Enforced by the scheduler.
public struct RateLimits: Sendable, Codable, Equatable {
    public var maxDispatchesPerSecond: Double
    public var maxBurstSize: Int
    public var maxConcurrentDispatches: Int

    public init(maxDispatchesPerSecond: Double = 500, maxBurstSize: Int = 100, maxConcurrentDispatches: Int = 1_000) {
        self.maxDispatchesPerSecond = maxDispatchesPerSecond
        self.maxBurstSize = maxBurstSize
        self.maxConcurrentDispatches = maxConcurrentDispatches
    }
}

/// Per-queue retry policy (Cloud Tasks `RetryConfig`). `maxAttempts == -1` means unlimited;
/// `maxRetryDurationMs == 0` means unlimited. When both are limited, a task is dead only
/// once both are reached (Cloud Tasks semantics).
public struct RetryConfig: Sendable, Codable, Equatable {
    public var maxAttempts: Int
    public var minBackoffMs: Milliseconds
    public var maxBackoffMs: Milliseconds
    public var maxDoublings: Int
    public var maxRetryDurationMs: Milliseconds

    public init(
        maxAttempts: Int = 100, minBackoffMs: Milliseconds = 100, maxBackoffMs: Milliseconds = 3_600_000,
        maxDoublings: Int = 16, maxRetryDurationMs: Milliseconds = 0
    ) {
        self.maxAttempts = maxAttempts
        self.minBackoffMs = minBackoffMs
        self.maxBackoffMs = maxBackoffMs
        self.maxDoublings = maxDoublings
        self.maxRetryDurationMs = maxRetryDurationMs
    }
}

/// Limits checked by `Command.validate(limits:)` before proposing. Not consulted by apply:
/// changing a limit must not change how old log entries replay.
public struct CommandLimits: Sendable, Equatable {
    public var payloadBytesMax: Int
    public var identifierBytesMax: Int
    public var errorBytesMax: Int

    public init(payloadBytesMax: Int = 100 * 1024, identifierBytesMax: Int = 500, errorBytesMax: Int = 64 * 1024) {
        self.payloadBytesMax = payloadBytesMax
        self.identifierBytesMax = identifierBytesMax
        self.errorBytesMax = errorBytesMax
    }
}

/// One (task, fencing token) pair in a lease renewal.
public struct LeaseRef: Sendable, Codable, Equatable {
    public var taskID: String
    public var fence: UInt64
    public init(taskID: String, fence: UInt64) {
        self.taskID = taskID
        self.fence = fence
    }
}
