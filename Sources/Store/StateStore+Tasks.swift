import Foundation
import SQLite

/// Apply handlers for task lifecycle commands that do not involve a lease.
extension StateStore {
    /// The columns apply decisions need.
    struct TaskInfo {
        var id: String
        var queue: String
        var name: String?
        var jobID: String?
        var state: TaskState
        var attempts: Int
        var firstAttemptMs: Milliseconds?
        var fence: Int64?
        var executorID: String?
    }

    func taskInfo(_ id: String) throws -> TaskInfo? {
        let statement = try db.cached(
            "SELECT queue, name, job_id, state, attempts, first_attempt_ms, fence, lease_executor FROM tasks WHERE id = ?")
        defer { statement.reset() }
        try statement.bind(.text(id), at: 1)
        guard try statement.step() else { return nil }
        guard let state = TaskState(rawValue: statement.text(3)) else { throw StoreError.invalidSnapshot("bad task state") }
        return TaskInfo(
            id: id, queue: statement.text(0), name: statement.optionalText(1), jobID: statement.optionalText(2),
            state: state, attempts: statement.int(4), firstAttemptMs: statement.optionalInt64(5),
            fence: statement.optionalInt64(6), executorID: statement.optionalText(7))
    }

    /// I11 as a check on our own code: apply handlers only request legal transitions.
    static func isLegal(_ from: TaskState, _ to: TaskState) -> Bool {
        switch (from, to) {
        case (.queued, .leased), (.queued, .cancelled): return true
        case (.leased, .running), (.leased, .succeeded), (.leased, .queued), (.leased, .dead), (.leased, .cancelled): return true
        case (.running, .succeeded), (.running, .queued), (.running, .dead), (.running, .cancelled): return true
        case (.dead, .queued): return true  // explicit redrive only
        default: return false
        }
    }

    /// Bookkeeping shared by every state change: per-queue counts, name tombstones, and the
    /// owning job's completion. The caller updates the task row itself.
    func recordTransition(_ task: TaskInfo, to newState: TaskState, nowMs: Milliseconds) throws {
        precondition(Self.isLegal(task.state, newState), "illegal task transition \(task.state) → \(newState)")
        adjustCount(queue: task.queue, state: task.state, by: -1)
        adjustCount(queue: task.queue, state: newState, by: 1)
        if newState.isTerminal {
            try releaseName(task, nowMs: nowMs)
            if let job = task.jobID { try maybeFinishCancelledJob(job, nowMs: nowMs) }
        } else if task.state.isTerminal {
            try reserveNameAgain(task)
        }
    }

    // MARK: Names

    /// Starts the tombstone window of a finished or deleted task's name.
    func releaseName(_ task: TaskInfo, nowMs: Milliseconds) throws {
        guard let name = task.name else { return }
        let window = try queueInfo(task.queue)?.tombstoneWindowMs ?? 0
        try db.run("UPDATE task_names SET reserved_until_ms = ? WHERE queue = ? AND name = ? AND task_id = ?",
                   [.integer(nowMs + window), .text(task.queue), .text(name), .text(task.id)])
    }

    /// A redriven task holds its name again, if nobody took it meanwhile.
    private func reserveNameAgain(_ task: TaskInfo) throws {
        guard let name = task.name else { return }
        try db.run("UPDATE task_names SET reserved_until_ms = NULL WHERE queue = ? AND name = ? AND task_id = ?",
                   [.text(task.queue), .text(name), .text(task.id)])
    }

    /// Takes `name` for `taskID`, or rejects if a live task or an unexpired tombstone holds it.
    func reserveName(queue: String, name: String, taskID: String, nowMs: Milliseconds) throws {
        let statement = try db.cached("SELECT reserved_until_ms FROM task_names WHERE queue = ? AND name = ?")
        try statement.bind([.text(queue), .text(name)])
        let found = try statement.step()
        let reservedUntil = found ? statement.optionalInt64(0) : nil
        statement.reset()
        if found, reservedUntil.map({ $0 > nowMs }) ?? true { throw Rejection.duplicateName }
        try db.run("INSERT OR REPLACE INTO task_names (queue, name, task_id, reserved_until_ms) VALUES (?, ?, ?, NULL)",
                   [.text(queue), .text(name), .text(taskID)])
    }

    // MARK: Create

    func createTaskIdempotent(_ spec: TaskSpec) throws -> ApplyOutcome {
        guard let key = spec.idempotencyKey else { return try createTask(spec) }
        return try idempotent(key: key, fingerprint: Self.fingerprint(spec), nowMs: spec.nowMs) {
            try createTask(spec)
        }
    }

    func createTask(_ spec: TaskSpec) throws -> ApplyOutcome {
        guard try queueInfo(spec.queue) != nil else { throw Rejection.unknownQueue }
        if let job = spec.jobID {
            guard let state = try jobState(job) else { throw Rejection.unknownJob }
            guard !state.isTerminal && state != .cancelling else { throw Rejection.invalidState }
        }
        if let name = spec.name {
            // Commands like this one are not wrapped in a savepoint: every check comes before
            // the first write, and reserving the name is a write.
            guard try taskInfo(spec.id) == nil else { throw Rejection.taskExists }
            try reserveName(queue: spec.queue, name: name, taskID: spec.id, nowMs: spec.nowMs)
        }
        do {
            try db.run("""
                INSERT INTO tasks (id, queue, name, job_id, kind, payload, schedule_time_ms, dispatch_deadline_ms, create_time_ms,
                    state, attempts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0)
                """, [
                    .text(spec.id), .text(spec.queue), .optional(spec.name), .optional(spec.jobID), .text(spec.kind),
                    .blob([UInt8](spec.payload)), .integer(spec.scheduleTimeMs), .integer(spec.dispatchDeadlineMs), .integer(spec.nowMs),
                ])
        } catch {
            // An unnamed create's existence check is the INSERT itself (its key's uniqueness,
            // checked before SQLite writes any B-tree, so the failed statement wrote nothing):
            // one index probe less on the hottest command. A named one was checked above.
            if error.isDuplicateKey { throw Rejection.taskExists }
            throw error
        }
        adjustCount(queue: spec.queue, state: .queued, by: 1)
        return .created(id: spec.id)
    }

    /// The row `createTask(spec)` inserts, as `task(spec.id)` reads it back right after (keep the
    /// two in step; `CreatedRecordTests` compares them): a create's answer is built from it
    /// instead of a read on the driver thread.
    public static func createdRecord(_ spec: TaskSpec) -> TaskRecord {
        TaskRecord(id: spec.id, queue: spec.queue, name: spec.name, jobID: spec.jobID, kind: spec.kind, payload: spec.payload,
                   scheduleTimeMs: spec.scheduleTimeMs, dispatchDeadlineMs: spec.dispatchDeadlineMs, createTimeMs: spec.nowMs,
                   state: .queued, attempts: 0, firstAttemptMs: nil, lastAttemptMs: nil, lastOutcome: nil, leaseExecutor: nil,
                   leaseUntilMs: nil, fence: nil, result: nil, lastError: nil, endTimeMs: nil)
    }

    /// Runs `body` once per idempotency key: a replay with the same fingerprint returns the
    /// first outcome (even a rejection); another fingerprint is a conflict.
    func idempotent(key: String, fingerprint: String, nowMs: Milliseconds, _ body: () throws -> ApplyOutcome) throws -> ApplyOutcome {
        let statement = try db.cached("SELECT fingerprint, outcome FROM idempotency_keys WHERE key = ? AND expire_time_ms > ?")
        try statement.bind([.text(key), .integer(nowMs)])
        if try statement.step() {
            let (storedPrint, storedOutcome) = (statement.text(0), statement.text(1))
            statement.reset()
            guard storedPrint == fingerprint else { throw Rejection.idempotencyConflict }
            guard let outcome = try? decoder.decode(ApplyOutcome.self, from: Data(storedOutcome.utf8)) else {
                throw StoreError.invalidSnapshot("unreadable idempotency outcome for key \(key)")
            }
            return outcome
        }
        statement.reset()
        // A nested savepoint: a rejected first attempt is remembered, its partial writes are not.
        let outcome: ApplyOutcome
        let countsBefore = pendingCounts
        try db.cached("SAVEPOINT idem").step0()
        do {
            outcome = try body()
        } catch let rejection as Rejection {
            try db.cached("ROLLBACK TO idem").step0()
            queueCache.removeAll()
            pendingCounts = countsBefore
            outcome = .rejected(rejection)
        }
        try db.cached("RELEASE idem").step0()
        let text = String(decoding: try encoder.encode(outcome), as: UTF8.self)
        try db.run("INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, outcome, create_time_ms, expire_time_ms) VALUES (?, ?, ?, ?, ?)",
                   [.text(key), .text(fingerprint), .text(text), .integer(nowMs), .integer(nowMs + Self.idempotencyWindowMs)])
        return outcome
    }

    /// What makes two requests "the same": everything the client chose, not the ids and
    /// times the proposer stamped.
    static func fingerprint(_ spec: TaskSpec) -> String {
        var hash = FNV1a()
        for text in [spec.queue, spec.name ?? "\u{0}", spec.jobID ?? "\u{0}", spec.kind] { hash.add(text) }
        hash.add([UInt8](spec.payload))
        hash.addInt(spec.scheduleTimeMs)
        hash.addInt(spec.dispatchDeadlineMs)
        return hash.hex
    }

    // MARK: Delete, cancel, run

    func deleteTask(_ id: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        guard let task = try taskInfo(id) else { throw Rejection.unknownTask }
        let window = try queueInfo(task.queue)?.tombstoneWindowMs ?? 0
        if !task.state.isTerminal { try cancelLinkedJob(task, nowMs: nowMs) }  // a job task's job goes with it
        try removeTask(task, window: window, nowMs: nowMs)
        return .ok
    }

    /// Deletes a task row with its bookkeeping. A live job task counts as cancelled for its job.
    func removeTask(_ task: TaskInfo, window: Milliseconds, nowMs: Milliseconds) throws {
        try db.run("DELETE FROM tasks WHERE id = ?", [.text(task.id)])
        try removeAttempts(taskID: task.id)
        adjustCount(queue: task.queue, state: task.state, by: -1)
        if let name = task.name {
            try db.run("UPDATE task_names SET reserved_until_ms = ? WHERE queue = ? AND name = ? AND task_id = ?",
                       [.integer(nowMs + window), .text(task.queue), .text(name), .text(task.id)])
        }
        if let job = task.jobID, !task.state.isTerminal {
            try addJobCounter(job, "tasks_deleted", 1)
            try maybeFinishCancelledJob(job, nowMs: nowMs)
        }
    }

    func cancelTask(_ id: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        guard let task = try taskInfo(id) else { throw Rejection.unknownTask }
        guard !task.state.isTerminal else { throw Rejection.invalidState }
        try cancelLinkedJob(task, nowMs: nowMs)
        try db.run("""
            UPDATE tasks SET state = 'cancelled', lease_executor = NULL, lease_until_ms = NULL, fence = NULL,
                end_time_ms = ?, last_outcome = 'cancelled' WHERE id = ?
            """, [.integer(nowMs), .text(id)])
        try recordTransition(task, to: .cancelled, nowMs: nowMs)
        try endAttempt(taskID: id, fence: task.fence, outcome: .cancelled, error: nil, nowMs: nowMs)
        return .ok
    }

    func runTask(_ id: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        guard let task = try taskInfo(id) else { throw Rejection.unknownTask }
        guard task.state == .queued else { throw Rejection.invalidState }
        try db.run("UPDATE tasks SET schedule_time_ms = ? WHERE id = ?", [.integer(nowMs), .text(id)])
        return .ok
    }
}
