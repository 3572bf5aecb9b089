import SQLite

/// Operating errors of the store. A thrown `StoreError` from `apply` means the entry was NOT
/// applied (the whole batch rolled back) and the node must stop applying: continuing would
/// let this replica diverge from the others.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry's envelope names a command version this build does not understand.
    case unsupportedCommandVersion(index: UInt64, version: Int)
    /// The entry's bytes are not a command of a known version (corrupt or foreign data).
    case malformedEntry(index: UInt64, reason: String)
    /// A command failed static validation (before proposing; see `Command.validate`).
    case invalidCommand(CommandError)
    /// The database file has another schema version than this build.
    case schemaMismatch(found: Int64, expected: Int64)
    /// A snapshot file failed validation; the live store is untouched.
    case invalidSnapshot(String)
    /// The operation needs a file-backed store (restore of ":memory:").
    case unsupported(String)
    /// A file-system step (fsync, rename, copy) failed.
    case io(String)
    /// SQLite failed (disk full, corruption, busy …).
    case sqlite(code: Int32, message: String)

    init(_ error: SQLiteError) {
        self = .sqlite(code: error.code, message: "\(error.message) [\(error.context)]")
    }

    /// Maps any error thrown by our own helpers to a `StoreError`.
    static func wrap(_ error: any Error) -> StoreError {
        if let storeError = error as? StoreError { return storeError }
        if let sqliteError = error as? SQLiteError { return StoreError(sqliteError) }
        return .io(String(describing: error))
    }

    public var description: String {
        switch self {
        case .unsupportedCommandVersion(let index, let version):
            return "entry \(index): unsupported command version \(version); upgrade this node before applying further"
        case .malformedEntry(let index, let reason): return "entry \(index): malformed command: \(reason)"
        case .invalidCommand(let error): return "invalid command: \(error)"
        case .schemaMismatch(let found, let expected): return "store schema version \(found), expected \(expected)"
        case .invalidSnapshot(let reason): return "invalid snapshot: \(reason)"
        case .unsupported(let what): return "unsupported: \(what)"
        case .io(let what): return "I/O error: \(what)"
        case .sqlite(let code, let message): return "SQLite error \(code): \(message)"
        }
    }
}

/// Static validation failures: field ranges, sizes, syntax. Checked before proposing, so a
/// client gets a 400 without a log write. Each case names the bad field.
public enum CommandError: Error, Sendable, Equatable {
    case invalidIdentifier(field: String, value: String)
    case invalidRateLimits(field: String)
    case invalidRetryConfig(field: String)
    case payloadTooLarge(bytes: Int, limit: Int)
    case malformedCron(expression: String, reason: String)
    case invalidTimeZone(String)
    case invalidValue(field: String)
}

/// Why a committed command changed nothing. Deterministic: every replica rejects the same
/// command the same way, and the entry still advances `applied_index`.
public enum Rejection: String, Error, Sendable, Codable, Equatable {
    case unknownQueue
    case queueExists
    case queueNotRunning
    case unknownTask
    case taskExists
    case duplicateName
    /// The fencing token is not the task's current lease (a reassigned task's old executor).
    case staleFence
    /// The task is in a state the command does not apply to (e.g. completing a cancelled task).
    case invalidState
    case unknownJob
    case jobExists
    case unknownExecutor
    case unknownSchedule
    case scheduleExists
    /// Same idempotency key, different request.
    case idempotencyConflict
    /// A schedule fire at or before the last recorded fire time (a slot fires once).
    case staleFire
    case malformedCron
    case unknownPreset
}
