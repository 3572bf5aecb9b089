import SQLite

/// Apply handlers for queue commands. Each runs inside the command's savepoint: a thrown
/// `Rejection` undoes its partial writes.
extension StateStore {
    struct QueueInfo {
        var state: QueueState
        var retry: RetryConfig
        var tombstoneWindowMs: Milliseconds
    }

    func queueInfo(_ name: String) throws -> QueueInfo? {
        if let cached = queueCache[name] { return cached }
        let statement = try db.cached("""
            SELECT state, max_attempts, min_backoff_ms, max_backoff_ms, max_doublings, max_retry_duration_ms, tombstone_window_ms
            FROM queues WHERE name = ?
            """)
        defer { statement.reset() }
        try statement.bind(.text(name), at: 1)
        guard try statement.step() else { return nil }
        guard let state = QueueState(rawValue: statement.text(0)) else { throw StoreError.invalidSnapshot("bad queue state") }
        let retry = RetryConfig(
            maxAttempts: statement.int(1), minBackoffMs: statement.int64(2), maxBackoffMs: statement.int64(3),
            maxDoublings: statement.int(4), maxRetryDurationMs: statement.int64(5))
        let info = QueueInfo(state: state, retry: retry, tombstoneWindowMs: statement.int64(6))
        queueCache[name] = info
        return info
    }

    /// Every write to the `queues` table calls this before it runs.
    func queuesChanged() {
        queueCache.removeAll()
    }

    func createQueue(_ spec: QueueSpec) throws -> ApplyOutcome {
        guard try queueInfo(spec.name) == nil else { throw Rejection.queueExists }
        let r = spec.rateLimits, c = spec.retryConfig
        queuesChanged()
        try db.run("""
            INSERT INTO queues (name, state, max_dispatches_per_second, max_burst_size, max_concurrent_dispatches,
                max_attempts, min_backoff_ms, max_backoff_ms, max_doublings, max_retry_duration_ms,
                tombstone_window_ms, create_time_ms, purge_time_ms)
            VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
            """, [
                .text(spec.name), .real(r.maxDispatchesPerSecond), .int(r.maxBurstSize), .int(r.maxConcurrentDispatches),
                .int(c.maxAttempts), .integer(c.minBackoffMs), .integer(c.maxBackoffMs), .int(c.maxDoublings),
                .integer(c.maxRetryDurationMs), .integer(spec.tombstoneWindowMs), .integer(spec.nowMs),
            ])
        return .created(id: spec.name)
    }

    func updateQueue(_ spec: QueueSpec) throws -> ApplyOutcome {
        let r = spec.rateLimits, c = spec.retryConfig
        queuesChanged()
        let changed = try db.run("""
            UPDATE queues SET max_dispatches_per_second = ?, max_burst_size = ?, max_concurrent_dispatches = ?,
                max_attempts = ?, min_backoff_ms = ?, max_backoff_ms = ?, max_doublings = ?, max_retry_duration_ms = ?,
                tombstone_window_ms = ?
            WHERE name = ?
            """, [
                .real(r.maxDispatchesPerSecond), .int(r.maxBurstSize), .int(r.maxConcurrentDispatches),
                .int(c.maxAttempts), .integer(c.minBackoffMs), .integer(c.maxBackoffMs), .int(c.maxDoublings),
                .integer(c.maxRetryDurationMs), .integer(spec.tombstoneWindowMs), .text(spec.name),
            ])
        guard changed == 1 else { throw Rejection.unknownQueue }
        return .ok
    }

    func setQueueState(_ name: String, _ state: QueueState) throws -> ApplyOutcome {
        queuesChanged()
        let changed = try db.run("UPDATE queues SET state = ? WHERE name = ?", [.text(state.rawValue), .text(name)])
        guard changed == 1 else { throw Rejection.unknownQueue }
        return .ok
    }

    /// Deletes every task of the queue in any state. Names get tombstones as for a delete;
    /// a leased task's executor will find its task gone (`unknownTask`) when it reports.
    func purgeQueue(_ name: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        guard let queue = try queueInfo(name) else { throw Rejection.unknownQueue }
        let deleted = try removeAllTasks(queue: name, window: queue.tombstoneWindowMs, nowMs: nowMs)
        queuesChanged()
        try db.run("UPDATE queues SET purge_time_ms = ? WHERE name = ?", [.integer(nowMs), .text(name)])
        return .counted(changed: deleted, rejected: 0)
    }

    func deleteQueue(_ name: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        guard let queue = try queueInfo(name) else { throw Rejection.unknownQueue }
        _ = try removeAllTasks(queue: name, window: queue.tombstoneWindowMs, nowMs: nowMs)
        // Its counts go entirely: pending deltas too, or the flush would bring rows back.
        pendingCounts = pendingCounts.filter { $0.key.queue != name }
        try db.run("DELETE FROM queue_counts WHERE queue = ?", [.text(name)])
        queuesChanged()
        try db.run("DELETE FROM queues WHERE name = ?", [.text(name)])
        return .ok
    }

    /// Removes a queue's tasks through the same path as `deleteTask`, so job bookkeeping and
    /// tombstones stay right. Ids are collected first: no writes while a cursor is open.
    private func removeAllTasks(queue: String, window: Milliseconds, nowMs: Milliseconds) throws -> Int {
        var ids: [String] = []
        try db.query(QuerySQL.tasksOfQueue, [.text(queue)]) { row in
            ids.append(row.text(0))
        }
        for id in ids {
            guard let task = try taskInfo(id) else { continue }
            try removeTask(task, window: window, nowMs: nowMs)
        }
        return ids.count
    }
}
