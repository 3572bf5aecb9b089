import Foundation
import SQLite

/// Read queries for the API and the scheduler. Each hot one is served by an index (asserted
/// by `QueryPlanTests`): no full scan of tasks, whatever the table size.
extension StateStore {
    static let taskColumns = QuerySQL.taskColumns

    static func taskRecord(_ row: Statement) throws -> TaskRecord {
        guard let state = TaskState(rawValue: row.text(9)) else { throw StoreError.invalidSnapshot("bad task state") }
        return TaskRecord(
            id: row.text(0), queue: row.text(1), name: row.optionalText(2), jobID: row.optionalText(3), kind: row.text(4),
            payload: Data(row.blob(5)), scheduleTimeMs: row.int64(6), dispatchDeadlineMs: row.int64(7), createTimeMs: row.int64(8),
            state: state, attempts: row.int(10), firstAttemptMs: row.optionalInt64(11), lastAttemptMs: row.optionalInt64(12),
            lastOutcome: row.optionalText(13), leaseExecutor: row.optionalText(14), leaseUntilMs: row.optionalInt64(15),
            fence: row.optionalInt64(16).map { UInt64(max($0, 0)) }, result: row.isNull(17) ? nil : Data(row.blob(17)),
            lastError: row.optionalText(18), endTimeMs: row.optionalInt64(19))
    }

    /// Runs a read query, mapping every failure to `StoreError`.
    func read<T>(_ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw StoreError.wrap(error)
        }
    }

    // MARK: Tasks

    public func task(_ id: String) throws(StoreError) -> TaskRecord? {
        try read {
            var found: TaskRecord?
            try db.query("SELECT \(Self.taskColumns) FROM tasks WHERE id = ?", [.text(id)]) { found = try Self.taskRecord($0) }
            return found
        }
    }

    /// The next `limit` queued tasks due at `nowMs`, earliest first (by schedule time, then id).
    /// With a queue: that queue whatever its state; without: across running queues only.
    ///
    /// Across queues it merges each running queue's own due range (`tasks_due_by_queue`): the
    /// scheduler only ever asks per queue, so a global due index (`tasks_due`, dropped in schema
    /// version 5) cost every create and every lease a B-tree write on every replica for a
    /// question only tests and tools ask.
    public func dueTasks(queue: String? = nil, nowMs: Milliseconds, limit: Int) throws(StoreError) -> [DueTask] {
        try read {
            var tasks: [DueTask] = []
            let map = { (row: Statement) in
                tasks.append(DueTask(id: row.text(0), queue: row.text(1), scheduleTimeMs: row.int64(2), dispatchDeadlineMs: row.int64(3)))
            }
            if let queue {
                try db.query(QuerySQL.dueByQueue, [.text(queue), .integer(nowMs), .int(limit)], row: map)
                return tasks
            }
            var running: [String] = []
            try db.query(QuerySQL.runningQueues) { running.append($0.text(0)) }
            for name in running {
                try db.query(QuerySQL.dueByQueue, [.text(name), .integer(nowMs), .int(limit)], row: map)
            }
            // The order the index gives within a queue: schedule time, then id as SQLite's
            // BINARY collation compares it (byte by byte).
            tasks.sort { a, b in
                a.scheduleTimeMs != b.scheduleTimeMs ? a.scheduleTimeMs < b.scheduleTimeMs
                    : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
            }
            return Array(tasks.prefix(max(0, limit)))
        }
    }

    /// Leases whose expiry is at or before `nowMs`, oldest first.
    public func expiredLeases(nowMs: Milliseconds, limit: Int) throws(StoreError) -> [ExpiredLease] {
        try read {
            var leases: [ExpiredLease] = []
            try db.query(QuerySQL.expiredLeases, [.integer(nowMs), .int(limit)]) { row in
                leases.append(ExpiredLease(taskID: row.text(0), executorID: row.text(1), leaseUntilMs: row.int64(2), fence: UInt64(max(row.int64(3), 0))))
            }
            return leases
        }
    }

    /// Tasks currently leased to one executor (what it should be running).
    public func leasedTasks(executorID: String, limit: Int = 10_000) throws(StoreError) -> [TaskRecord] {
        try read {
            var tasks: [TaskRecord] = []
            try db.query(QuerySQL.leasedByExecutor, [.text(executorID), .int(limit)]) { tasks.append(try Self.taskRecord($0)) }
            return tasks
        }
    }

    /// How many tasks `executorID` holds a lease on: an index-only count (the scheduler asks
    /// for every executor on every plan; whole rows were decoded, payloads and all, only to be
    /// counted).
    public func leaseCount(executorID: String) throws(StoreError) -> Int {
        try read {
            Int(try db.scalarInt(QuerySQL.leaseCountOfExecutor, [.text(executorID)]) ?? 0)
        }
    }

    /// A page of a queue's tasks in id order, optionally of one state.
    public func listTasks(queue: String, state: TaskState? = nil, pageToken: String? = nil, pageSize: Int = 100) throws(StoreError) -> Page<TaskRecord> {
        let after = try Self.decodePageToken(pageToken)
        let size = max(1, min(pageSize, 1_000))
        return try read {
            var tasks: [TaskRecord] = []
            if let state {
                try db.query(QuerySQL.listByQueueState, [.text(queue), .text(state.rawValue), .text(after), .int(size + 1)]) { tasks.append(try Self.taskRecord($0)) }
            } else {
                try db.query(QuerySQL.listByQueue, [.text(queue), .text(after), .int(size + 1)]) { tasks.append(try Self.taskRecord($0)) }
            }
            return Self.page(tasks, size: size, key: \.id)
        }
    }

    /// Task counts per state of one queue, from the maintained `queue_counts`.
    public func taskCounts(queue: String) throws(StoreError) -> [TaskState: Int] {
        try read {
            var counts: [TaskState: Int] = [:]
            try db.query(QuerySQL.queueCounts, [.text(queue)]) { row in
                if let state = TaskState(rawValue: row.text(0)) { counts[state] = row.int(1) }
            }
            return counts
        }
    }

    /// Task counts per queue and state for every queue.
    public func allTaskCounts() throws(StoreError) -> [String: [TaskState: Int]] {
        try read {
            var counts: [String: [TaskState: Int]] = [:]
            try db.query("SELECT queue, state, count FROM queue_counts WHERE count > 0 ORDER BY queue, state") { row in
                if let state = TaskState(rawValue: row.text(1)) { counts[row.text(0), default: [:]][state] = row.int(2) }
            }
            return counts
        }
    }

    /// A deterministic event counter, e.g. `stale_fence_rejections`.
    public func counter(_ name: String) throws(StoreError) -> Int64 {
        try read { try db.scalarInt("SELECT value FROM counters WHERE name = ?", [.text(name)]) ?? 0 }
    }

    public var staleFenceRejections: Int64 {
        get throws(StoreError) { try counter(Self.staleFenceCounter) }
    }

    // MARK: Paging

    static func decodePageToken(_ token: String?) throws(StoreError) -> String {
        guard let token, !token.isEmpty else { return "" }
        guard let data = Data(base64Encoded: token), let key = String(data: data, encoding: .utf8), !key.isEmpty else {
            throw StoreError.invalidCommand(.invalidValue(field: "pageToken"))
        }
        return key
    }

    static func page<T>(_ rows: [T], size: Int, key: (T) -> String) -> Page<T> {
        guard rows.count > size, let last = rows.prefix(size).last else { return Page(items: rows, nextPageToken: nil) }
        return Page(items: Array(rows.prefix(size)), nextPageToken: Data(key(last).utf8).base64EncodedString())
    }
}

/// The hot queries' SQL, named so `QueryPlanTests` can check each plan uses an index.
enum QuerySQL {
    static let taskColumns = """
        id, queue, name, job_id, kind, payload, schedule_time_ms, dispatch_deadline_ms, create_time_ms, state, attempts,
        first_attempt_ms, last_attempt_ms, last_outcome, lease_executor, lease_until_ms, fence, result, last_error, end_time_ms
        """
    static let dueByQueue = """
        SELECT id, queue, schedule_time_ms, dispatch_deadline_ms FROM tasks INDEXED BY tasks_due_by_queue
        WHERE queue = ? AND state = 'queued' AND schedule_time_ms <= ? ORDER BY schedule_time_ms, id LIMIT ?
        """
    static let runningQueues = "SELECT name FROM queues WHERE state = 'running'"
    static let expiredLeases = """
        SELECT id, lease_executor, lease_until_ms, fence FROM tasks INDEXED BY tasks_by_lease_expiry
        WHERE lease_until_ms IS NOT NULL AND lease_until_ms <= ? ORDER BY lease_until_ms, id LIMIT ?
        """
    static let leasedByExecutor =
        "SELECT \(taskColumns) FROM tasks INDEXED BY tasks_by_executor WHERE lease_executor = ? ORDER BY id LIMIT ?"
    static let leaseCountOfExecutor =
        "SELECT count(*) FROM tasks INDEXED BY tasks_by_executor WHERE lease_executor = ?"
    static let listByQueueState =
        "SELECT \(taskColumns) FROM tasks INDEXED BY tasks_by_queue_state WHERE queue = ? AND state = ? AND id > ? ORDER BY id LIMIT ?"
    /// A queue's tasks in id order (?1 queue, ?2 after this id, ?3 limit), with no index of its
    /// own: one `tasks_by_queue_state` range per state, which SQLite merges in id order
    /// (a compound SELECT's ORDER BY) and stops reading at the limit.
    static let listByQueue = queueTasksByID(columns: taskColumns, where: "id > ?2") + " LIMIT ?3"
    static let jobTaskCounts =
        "SELECT state, count(*) FROM tasks INDEXED BY tasks_by_job WHERE job_id = ? GROUP BY state"
    static let jobTasksInState = "SELECT id FROM tasks WHERE job_id = ? AND state = ? ORDER BY id LIMIT ?"
    static let queueCounts = "SELECT state, count FROM queue_counts WHERE queue = ? AND count > 0"
    static let expireCandidates =
        "SELECT id FROM tasks WHERE lease_until_ms IS NOT NULL AND lease_until_ms <= ? ORDER BY lease_until_ms, id LIMIT ?"
    static let tasksOfQueue = queueTasksByID(columns: "id", where: nil)

    static func queueTasksByID(columns: String, where condition: String?) -> String {
        TaskState.allCases.map { state in
            "SELECT \(columns) FROM tasks INDEXED BY tasks_by_queue_state WHERE queue = ?1 AND state = '\(state.rawValue)'"
                + (condition.map { " AND \($0)" } ?? "")
        }.joined(separator: " UNION ALL ") + " ORDER BY id"
    }
}
