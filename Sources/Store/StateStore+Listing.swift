import Foundation
import SQLite

/// Read queries over queues, jobs, executors and schedules (small tables, primary-key order).
extension StateStore {
    static let queueColumns = """
        name, state, max_dispatches_per_second, max_burst_size, max_concurrent_dispatches, max_attempts, min_backoff_ms,
        max_backoff_ms, max_doublings, max_retry_duration_ms, tombstone_window_ms, create_time_ms, purge_time_ms
        """

    static func queueRecord(_ row: Statement) throws -> QueueRecord {
        guard let state = QueueState(rawValue: row.text(1)) else { throw StoreError.invalidSnapshot("bad queue state") }
        return QueueRecord(
            name: row.text(0), state: state,
            rateLimits: RateLimits(maxDispatchesPerSecond: row.double(2), maxBurstSize: row.int(3), maxConcurrentDispatches: row.int(4)),
            retryConfig: RetryConfig(maxAttempts: row.int(5), minBackoffMs: row.int64(6), maxBackoffMs: row.int64(7),
                                     maxDoublings: row.int(8), maxRetryDurationMs: row.int64(9)),
            tombstoneWindowMs: row.int64(10), createTimeMs: row.int64(11), purgeTimeMs: row.optionalInt64(12))
    }

    public func queue(_ name: String) throws(StoreError) -> QueueRecord? {
        try read {
            var found: QueueRecord?
            try db.query("SELECT \(Self.queueColumns) FROM queues WHERE name = ?", [.text(name)]) { found = try Self.queueRecord($0) }
            return found
        }
    }

    public func listQueues(pageToken: String? = nil, pageSize: Int = 100) throws(StoreError) -> Page<QueueRecord> {
        let after = try Self.decodePageToken(pageToken)
        let size = max(1, min(pageSize, 1_000))
        return try read {
            var queues: [QueueRecord] = []
            try db.query("SELECT \(Self.queueColumns) FROM queues WHERE name > ? ORDER BY name LIMIT ?", [.text(after), .int(size + 1)]) {
                queues.append(try Self.queueRecord($0))
            }
            return Self.page(queues, size: size, key: \.name)
        }
    }

    static func jobRecord(_ row: Statement) throws -> JobRecord {
        guard let state = JobState(rawValue: row.text(3)) else { throw StoreError.invalidSnapshot("bad job state") }
        return JobRecord(id: row.text(0), template: row.text(1), parameters: row.text(2), state: state, createTimeMs: row.int64(4),
                         startTimeMs: row.optionalInt64(5), endTimeMs: row.optionalInt64(6), error: row.optionalText(7))
    }

    static let jobColumns = "id, template, parameters, state, create_time_ms, start_time_ms, end_time_ms, error"

    public func job(_ id: String) throws(StoreError) -> JobRecord? {
        try read {
            var found: JobRecord?
            try db.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.text(id)]) { found = try Self.jobRecord($0) }
            return found
        }
    }

    public func listJobs(state: JobState? = nil, pageToken: String? = nil, pageSize: Int = 100) throws(StoreError) -> Page<JobRecord> {
        let after = try Self.decodePageToken(pageToken)
        let size = max(1, min(pageSize, 1_000))
        return try read {
            var jobs: [JobRecord] = []
            if let state {
                try db.query("SELECT \(Self.jobColumns) FROM jobs INDEXED BY jobs_by_state WHERE state = ? AND id > ? ORDER BY id LIMIT ?",
                             [.text(state.rawValue), .text(after), .int(size + 1)]) { jobs.append(try Self.jobRecord($0)) }
            } else {
                try db.query("SELECT \(Self.jobColumns) FROM jobs WHERE id > ? ORDER BY id LIMIT ?", [.text(after), .int(size + 1)]) {
                    jobs.append(try Self.jobRecord($0))
                }
            }
            return Self.page(jobs, size: size, key: \.id)
        }
    }

    /// A job with its task counts per state (via `tasks_by_job`) and its counters.
    public func jobProgress(_ id: String) throws(StoreError) -> JobProgress? {
        guard let job = try job(id) else { return nil }
        return try read {
            var byState: [TaskState: Int] = [:]
            try db.query(QuerySQL.jobTaskCounts, [.text(id)]) { row in
                if let state = TaskState(rawValue: row.text(0)) { byState[state] = row.int(1) }
            }
            var counters: [String: Int64] = [:]
            try db.query("SELECT name, value FROM job_counters WHERE job_id = ?", [.text(id)]) { row in counters[row.text(0)] = row.int64(1) }
            return JobProgress(job: job, tasksByState: byState, counters: counters)
        }
    }

    public func executors() throws(StoreError) -> [ExecutorRecord] {
        try read {
            var executors: [ExecutorRecord] = []
            try db.query("SELECT id, node, slots, register_time_ms, last_heartbeat_ms FROM executors ORDER BY id") { row in
                executors.append(ExecutorRecord(id: row.text(0), node: row.text(1), slots: row.int(2), registerTimeMs: row.int64(3), lastHeartbeatMs: row.int64(4)))
            }
            return executors
        }
    }

    static let scheduleColumns = "id, cron, time_zone, queue, kind, payload, paused, create_time_ms, last_fire_ms"

    static func scheduleRecord(_ row: Statement) -> ScheduleRecord {
        ScheduleRecord(
            id: row.text(0), cron: row.text(1), timeZone: row.text(2), queue: row.text(3), kind: row.text(4),
            payload: Data(row.blob(5)), paused: row.int(6) != 0, createTimeMs: row.int64(7), lastFireMs: row.optionalInt64(8))
    }

    public func schedules() throws(StoreError) -> [ScheduleRecord] {
        try read {
            var schedules: [ScheduleRecord] = []
            try db.query("SELECT \(Self.scheduleColumns) FROM schedules ORDER BY id") { row in
                schedules.append(Self.scheduleRecord(row))
            }
            return schedules
        }
    }

    public func schedule(_ id: String) throws(StoreError) -> ScheduleRecord? {
        try read {
            var found: ScheduleRecord?
            try db.query("SELECT \(Self.scheduleColumns) FROM schedules WHERE id = ?", [.text(id)]) { found = Self.scheduleRecord($0) }
            return found
        }
    }

    public func listSchedules(pageToken: String? = nil, pageSize: Int = 100) throws(StoreError) -> Page<ScheduleRecord> {
        let after = try Self.decodePageToken(pageToken)
        let size = max(1, min(pageSize, 1_000))
        return try read {
            var schedules: [ScheduleRecord] = []
            try db.query("SELECT \(Self.scheduleColumns) FROM schedules WHERE id > ? ORDER BY id LIMIT ?", [.text(after), .int(size + 1)]) {
                schedules.append(Self.scheduleRecord($0))
            }
            return Self.page(schedules, size: size, key: \.id)
        }
    }
}
