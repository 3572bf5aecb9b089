import Foundation
import SQLite

/// How one attempt of a task ended (`attempts.outcome`; NULL while it runs).
public enum AttemptOutcome: String, Sendable, Codable, CaseIterable {
    case succeeded
    case failed
    case leaseExpired = "lease_expired"
    case deadlineExceeded = "deadline_exceeded"
    case cancelled

    /// A `failTask` ends its attempt as `deadlineExceeded` when its error starts with this
    /// text (the executor's own deadline report), or when it comes at least the task's
    /// `dispatchDeadlineMs` after the attempt's `startTask` (both times are the executor's,
    /// e.g. an HTTP timeout equal to the deadline). Decided from the commands and the
    /// database only, so every replica agrees.
    public static let deadlineErrorPrefix = "dispatch deadline exceeded"
}

/// One attempt (one assignment) of a task.
public struct AttemptRecord: Sendable, Equatable {
    public var taskID: String
    /// 1, 2, … per task; keeps counting across a redrive (the task's `attempts` restarts).
    public var attempt: Int
    public var executorID: String
    /// The executor's node when it was assigned, if the executor was known.
    public var node: String?
    /// The lease's fencing token: the log index of the `assignTask` entry.
    public var fence: UInt64
    public var dispatchTimeMs: Milliseconds
    public var startTimeMs: Milliseconds?
    public var endTimeMs: Milliseconds?
    /// Nil while the attempt is in flight.
    public var outcome: AttemptOutcome?
    public var error: String?
}

/// Per-attempt history, written by apply on assign, start, complete, fail, lease expiry and
/// cancel, from version-2 entries only (see `Command.version`). Bounded: the newest
/// `attemptsKeptPerTask` attempts of a task are kept; older rows are dropped as new ones come.
/// Rows go with their task (delete, purge, queue delete).
extension StateStore {
    public static let attemptsKeptPerTask = 100

    var recordsAttempts: Bool { entryVersion >= 2 }

    /// A new attempt for a lease just granted (the task row already holds it).
    func beginAttempt(taskID: String, executorID: String, fence: UInt64, nowMs: Milliseconds) throws {
        guard recordsAttempts else { return }
        let last = try db.scalarInt(QuerySQL.lastAttempt, [.text(taskID)]) ?? 0
        let number = last + 1
        try db.run(QuerySQL.insertAttempt,
                   [.text(taskID), .integer(number), .text(executorID), .integer(Int64(fence)), .integer(nowMs)])
        let keep = Int64(Self.attemptsKeptPerTask)
        if number > keep {
            try db.run(QuerySQL.pruneAttempts, [.text(taskID), .integer(number - keep)])
        }
    }

    func markAttemptStarted(taskID: String, fence: Int64?, nowMs: Milliseconds) throws {
        guard recordsAttempts, let fence else { return }
        try db.run(QuerySQL.startAttempt, [.integer(nowMs), .text(taskID), .integer(fence)])
    }

    /// Closes the attempt of the lease `fence`, if it is still open. A `failed` one that ran
    /// for the task's whole dispatch deadline is closed as `deadlineExceeded` (see there).
    func endAttempt(taskID: String, fence: Int64?, outcome: AttemptOutcome, error: String?, nowMs: Milliseconds) throws {
        guard recordsAttempts, let fence else { return }
        if outcome == .failed {
            try db.run(QuerySQL.failAttempt, [.integer(nowMs), .optional(error), .text(taskID), .integer(fence)])
        } else {
            try db.run(QuerySQL.endAttempt, [.integer(nowMs), .text(outcome.rawValue), .optional(error), .text(taskID), .integer(fence)])
        }
    }

    /// The attempt outcome of a failure report or a lease expiry (`retryOrBury`'s outcome).
    static func attemptOutcome(taskOutcome: String, error: String) -> AttemptOutcome {
        if taskOutcome == "lease_expired" { return .leaseExpired }
        return error.hasPrefix(AttemptOutcome.deadlineErrorPrefix) ? .deadlineExceeded : .failed
    }

    /// Drops a task's history (the task row is going). Not version-gated: no orphan rows.
    func removeAttempts(taskID: String) throws {
        try db.run("DELETE FROM attempts WHERE task_id = ?", [.text(taskID)])
    }

    /// A task's recorded attempts, oldest first (at most `attemptsKeptPerTask`).
    public func attempts(taskID: String) throws(StoreError) -> [AttemptRecord] {
        try read {
            var records: [AttemptRecord] = []
            try db.query(QuerySQL.attemptsOfTask, [.text(taskID)]) { row in
                var outcome: AttemptOutcome?
                if let text = row.optionalText(7) {
                    guard let parsed = AttemptOutcome(rawValue: text) else { throw StoreError.invalidSnapshot("bad attempt outcome") }
                    outcome = parsed
                }
                records.append(AttemptRecord(
                    taskID: taskID, attempt: row.int(0), executorID: row.text(1), node: row.optionalText(2),
                    fence: UInt64(max(row.int64(3), 0)), dispatchTimeMs: row.int64(4), startTimeMs: row.optionalInt64(5),
                    endTimeMs: row.optionalInt64(6), outcome: outcome, error: row.optionalText(8)))
            }
            return records
        }
    }
}

/// The attempt-history statements, named so `QueryPlanTests` checks each one searches the
/// primary key (task_id, attempt) and never scans.
extension QuerySQL {
    static let lastAttempt = "SELECT max(attempt) FROM attempts WHERE task_id = ?"
    static let insertAttempt = """
        INSERT INTO attempts (task_id, attempt, executor, node, fence, dispatch_time_ms)
        VALUES (?1, ?2, ?3, (SELECT node FROM executors WHERE id = ?3), ?4, ?5)
        """
    static let pruneAttempts = "DELETE FROM attempts WHERE task_id = ? AND attempt <= ?"
    static let startAttempt =
        "UPDATE attempts SET start_time_ms = ? WHERE task_id = ? AND fence = ? AND start_time_ms IS NULL"
    static let endAttempt =
        "UPDATE attempts SET end_time_ms = ?, outcome = ?, error = ? WHERE task_id = ? AND fence = ? AND outcome IS NULL"
    static let failAttempt = """
        UPDATE attempts SET end_time_ms = ?1, error = ?2,
            outcome = CASE WHEN start_time_ms IS NOT NULL
                AND ?1 - start_time_ms >= (SELECT dispatch_deadline_ms FROM tasks WHERE id = ?3)
                THEN 'deadline_exceeded' ELSE 'failed' END
        WHERE task_id = ?3 AND fence = ?4 AND outcome IS NULL
        """
    static let attemptsOfTask = """
        SELECT attempt, executor, node, fence, dispatch_time_ms, start_time_ms, end_time_ms, outcome, error
        FROM attempts WHERE task_id = ? ORDER BY attempt
        """
}
