import Foundation
import SQLite

/// Apply handlers for jobs. A job's task counts are never stored: they are read from the
/// tasks themselves through `tasks_by_job`, so they cannot drift. Its numeric counters
/// (records, bytes …) add up from `completeTask` results.
extension StateStore {
    func jobState(_ id: String) throws -> JobState? {
        guard let text = try db.scalarText("SELECT state FROM jobs WHERE id = ?", [.text(id)]) else { return nil }
        guard let state = JobState(rawValue: text) else { throw StoreError.invalidSnapshot("bad job state") }
        return state
    }

    func createJobIdempotent(_ spec: JobSpec) throws -> ApplyOutcome {
        guard let key = spec.idempotencyKey else { return try createJob(spec) }
        return try idempotent(key: key, fingerprint: Self.fingerprint(spec), nowMs: spec.nowMs) {
            try createJob(spec)
        }
    }

    /// Creates the job and its first tasks; any task rejection rejects the whole job
    /// (the command's savepoint undoes the tasks already written).
    func createJob(_ spec: JobSpec) throws -> ApplyOutcome {
        guard try jobState(spec.id) == nil else { throw Rejection.jobExists }
        try db.run("""
            INSERT INTO jobs (id, template, parameters, state, create_time_ms) VALUES (?, ?, ?, 'QUEUED', ?)
            """, [.text(spec.id), .text(spec.template), .text(spec.parameters), .integer(spec.nowMs)])
        for var task in spec.tasks {
            task.jobID = spec.id
            _ = try createTask(task)
        }
        return .created(id: spec.id)
    }

    static func fingerprint(_ spec: JobSpec) -> String {
        var hash = FNV1a()
        hash.add(spec.template)
        hash.add(spec.parameters)
        for task in spec.tasks {
            var copy = task
            copy.jobID = nil
            hash.add(fingerprint(copy))
        }
        return hash.hex
    }

    func markJobRunning(_ id: String, nowMs: Milliseconds) throws {
        try db.run("UPDATE jobs SET state = 'RUNNING', start_time_ms = ? WHERE id = ? AND state = 'QUEUED'",
                   [.integer(nowMs), .text(id)])
    }

    func addJobCounter(_ job: String, _ name: String, _ delta: Int64) throws {
        try db.run("""
            INSERT INTO job_counters (job_id, name, value) VALUES (?, ?, ?)
            ON CONFLICT (job_id, name) DO UPDATE SET value = value + excluded.value
            """, [.text(job), .text(name), .integer(delta)])
    }

    func updateJobProgress(_ id: String, counters: [String: Int64]) throws -> ApplyOutcome {
        guard let state = try jobState(id) else { throw Rejection.unknownJob }
        guard !state.isTerminal else { throw Rejection.invalidState }
        for (name, value) in counters.sorted(by: { $0.key < $1.key }) {
            try db.run("INSERT OR REPLACE INTO job_counters (job_id, name, value) VALUES (?, ?, ?)",
                       [.text(id), .text(name), .integer(value)])
        }
        return .ok
    }

    /// QUEUED/RUNNING → CANCELLING; queued tasks are cancelled now, leased ones when they end
    /// (their executors' reports are still accepted). CANCELLED once no task is active.
    func cancelJob(_ id: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        guard let state = try jobState(id) else { throw Rejection.unknownJob }
        guard state == .queued || state == .running else { throw Rejection.invalidState }
        try db.run("UPDATE jobs SET state = 'CANCELLING' WHERE id = ?", [.text(id)])
        for taskID in try jobTaskIDs(id, states: [.queued]) {
            _ = try cancelTask(taskID, nowMs: nowMs)
        }
        try maybeFinishCancelledJob(id, nowMs: nowMs)
        return .ok
    }

    /// Ends a job as DONE or FAILED; any task still live is cancelled.
    func finishJob(_ id: String, failed: Bool, error: String?, nowMs: Milliseconds) throws -> ApplyOutcome {
        guard let state = try jobState(id) else { throw Rejection.unknownJob }
        guard state == .queued || state == .running else { throw Rejection.invalidState }
        try db.run("UPDATE jobs SET state = ?, end_time_ms = ?, error = ? WHERE id = ?",
                   [.text(failed ? JobState.failed.rawValue : JobState.done.rawValue), .integer(nowMs), .optional(error), .text(id)])
        for taskID in try jobTaskIDs(id, states: [.queued, .leased, .running]) {
            _ = try cancelTask(taskID, nowMs: nowMs)
        }
        return .ok
    }

    func maybeFinishCancelledJob(_ id: String, nowMs: Milliseconds) throws {
        guard try jobState(id) == .cancelling else { return }
        guard try jobTaskIDs(id, states: [.queued, .leased, .running], limit: 1).isEmpty else { return }
        try db.run("UPDATE jobs SET state = 'CANCELLED', end_time_ms = ? WHERE id = ?", [.integer(nowMs), .text(id)])
    }

    func jobTaskIDs(_ job: String, states: [TaskState], limit: Int = Int.max) throws -> [String] {
        var ids: [String] = []
        for state in states {
            try db.query(QuerySQL.jobTasksInState,
                         [.text(job), .text(state.rawValue), .integer(Int64(min(limit, Int(Int64.max))))]) { row in
                ids.append(row.text(0))
            }
            if ids.count >= limit { break }
        }
        return ids.sorted()
    }
}
