import Foundation
import SQLite

/// Apply handlers for leases and results. The fencing token of a lease is the log index of
/// the `assignTask` entry that granted it (RELIABILITY I13): it grows with every grant, and a
/// report carrying any other token is refused and counted (`stale_fence_rejections`).
extension StateStore {
    static let staleFenceCounter = "stale_fence_rejections"

    func assignTask(_ id: String, executorID: String, leaseUntilMs: Milliseconds, nowMs: Milliseconds, fence: UInt64) throws -> ApplyOutcome {
        guard let task = try taskInfo(id) else { throw Rejection.unknownTask }
        guard task.state == .queued else { throw Rejection.invalidState }
        guard try queueInfo(task.queue)?.state == .running else { throw Rejection.queueNotRunning }
        guard try executorExists(executorID) else { throw Rejection.unknownExecutor }
        try db.run("""
            UPDATE tasks SET state = 'leased', attempts = attempts + 1,
                first_attempt_ms = coalesce(first_attempt_ms, ?1), last_attempt_ms = ?1,
                lease_executor = ?2, lease_until_ms = ?3, fence = ?4
            WHERE id = ?5
            """, [.integer(nowMs), .text(executorID), .integer(leaseUntilMs), .integer(Int64(fence)), .text(id)])
        try recordTransition(task, to: .leased, nowMs: nowMs)
        try beginAttempt(taskID: id, executorID: executorID, fence: fence, nowMs: nowMs)
        if let job = task.jobID { try markJobRunning(job, nowMs: nowMs) }
        return .assigned(fence: fence)
    }

    /// Rejects a report unless the task holds a lease with exactly this fence. Stale fences
    /// are counted; reports on a finished task are `invalidState`.
    func requireLease(_ id: String, fence: UInt64) throws -> TaskInfo {
        guard let task = try taskInfo(id) else { throw Rejection.unknownTask }
        guard !task.state.isTerminal else { throw Rejection.invalidState }
        guard task.state.isLeased, let current = task.fence, Int64(exactly: fence) == current else {
            throw Rejection.staleFence  // counted by `execute`, after the savepoint rollback
        }
        return task
    }

    func startTask(_ id: String, fence: UInt64, nowMs: Milliseconds) throws -> ApplyOutcome {
        let task = try requireLease(id, fence: fence)
        guard task.state == .leased else { return .ok }  // a repeated start is harmless
        try db.run("UPDATE tasks SET state = 'running' WHERE id = ?", [.text(id)])
        try recordTransition(task, to: .running, nowMs: nowMs)
        try markAttemptStarted(taskID: id, fence: task.fence, nowMs: nowMs)
        return .ok
    }

    func renewLeases(executorID: String, leases: [LeaseRef], leaseUntilMs: Milliseconds) throws -> ApplyOutcome {
        guard try executorExists(executorID) else { throw Rejection.unknownExecutor }
        var renewed = 0
        for lease in leases {
            guard let fence = Int64(exactly: lease.fence) else { continue }
            // Only extends: a delayed renewal never shortens a lease.
            renewed += try db.run("""
                UPDATE tasks SET lease_until_ms = max(lease_until_ms, ?1)
                WHERE id = ?2 AND fence = ?3 AND lease_executor = ?4 AND state IN ('leased', 'running')
                """, [.integer(leaseUntilMs), .text(lease.taskID), .integer(fence), .text(executorID)])
        }
        let rejected = leases.count - renewed
        if rejected > 0 { try bumpCounter(Self.staleFenceCounter, by: Int64(rejected)) }
        return .counted(changed: renewed, rejected: rejected)
    }

    func completeTask(_ id: String, fence: UInt64, result: Data, counters: [String: Int64], nowMs: Milliseconds) throws -> ApplyOutcome {
        let task = try requireLease(id, fence: fence)
        try db.run("""
            UPDATE tasks SET state = 'succeeded', result = ?, last_outcome = 'succeeded', lease_executor = NULL,
                lease_until_ms = NULL, fence = NULL, end_time_ms = ? WHERE id = ?
            """, [.blob([UInt8](result)), .integer(nowMs), .text(id)])
        if let job = task.jobID {
            for (name, value) in counters.sorted(by: { $0.key < $1.key }) { try addJobCounter(job, name, value) }
        }
        try recordTransition(task, to: .succeeded, nowMs: nowMs)
        try endAttempt(taskID: id, fence: task.fence, outcome: .succeeded, error: nil, nowMs: nowMs)
        return .ok
    }

    func failTask(_ id: String, fence: UInt64, error: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        let task = try requireLease(id, fence: fence)
        return try retryOrBury(task, error: error, outcome: "failed", nowMs: nowMs)
    }

    /// Ends the current attempt: back to queued with backoff, or dead when the queue's retry
    /// config is exhausted. Shared by failures and lease expiry.
    func retryOrBury(_ task: TaskInfo, error: String, outcome: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        try endAttempt(taskID: task.id, fence: task.fence, outcome: Self.attemptOutcome(taskOutcome: outcome, error: error),
                       error: error, nowMs: nowMs)
        let config = try queueInfo(task.queue)?.retry ?? RetryConfig()
        let retryAt = RetryPolicy.nextAttemptMs(
            attempts: task.attempts, firstAttemptMs: task.firstAttemptMs ?? nowMs, nowMs: nowMs, config: config)
        if let retryAt {
            try db.run("""
                UPDATE tasks SET state = 'queued', schedule_time_ms = ?, last_error = ?, last_outcome = ?,
                    lease_executor = NULL, lease_until_ms = NULL, fence = NULL WHERE id = ?
                """, [.integer(retryAt), .text(error), .text(outcome), .text(task.id)])
            try recordTransition(task, to: .queued, nowMs: nowMs)
        } else {
            try db.run("""
                UPDATE tasks SET state = 'dead', last_error = ?, last_outcome = ?, lease_executor = NULL,
                    lease_until_ms = NULL, fence = NULL, end_time_ms = ? WHERE id = ?
                """, [.text(error), .text(outcome), .integer(nowMs), .text(task.id)])
            try recordTransition(task, to: .dead, nowMs: nowMs)
        }
        return .failed(retryAtMs: retryAt)
    }

    func expireLeases(nowMs: Milliseconds, limit: Int) throws -> ApplyOutcome {
        var ids: [String] = []
        try db.query(QuerySQL.expireCandidates,
                     [.integer(nowMs), .int(limit)]) { row in ids.append(row.text(0)) }
        for id in ids {
            guard let task = try taskInfo(id) else { continue }
            _ = try retryOrBury(task, error: "lease expired", outcome: "lease_expired", nowMs: nowMs)
        }
        return .counted(changed: ids.count, rejected: 0)
    }

    func redriveDeadTask(_ id: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        guard let task = try taskInfo(id) else { throw Rejection.unknownTask }
        guard task.state == .dead else { throw Rejection.invalidState }
        if let job = task.jobID, let state = try jobState(job), state.isTerminal || state == .cancelling {
            throw Rejection.invalidState
        }
        try db.run("""
            UPDATE tasks SET state = 'queued', attempts = 0, first_attempt_ms = NULL, schedule_time_ms = ?,
                end_time_ms = NULL, last_outcome = 'redriven' WHERE id = ?
            """, [.integer(nowMs), .text(id)])
        try recordTransition(task, to: .queued, nowMs: nowMs)
        return .ok
    }
}
