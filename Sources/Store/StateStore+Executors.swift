import Foundation
import SQLite

/// Apply handlers for executors, schedules and garbage collection.
extension StateStore {
    func executorExists(_ id: String) throws -> Bool {
        try db.scalarInt("SELECT 1 FROM executors WHERE id = ?", [.text(id)]) != nil
    }

    func registerExecutor(_ id: String, node: String, slots: Int, nowMs: Milliseconds) throws -> ApplyOutcome {
        try db.run("""
            INSERT INTO executors (id, node, slots, register_time_ms, last_heartbeat_ms) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET node = excluded.node, slots = excluded.slots, last_heartbeat_ms = excluded.last_heartbeat_ms
            """, [.text(id), .text(node), .int(slots), .integer(nowMs), .integer(nowMs)])
        return .ok
    }

    func executorHeartbeat(_ id: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        let changed = try db.run("UPDATE executors SET last_heartbeat_ms = max(last_heartbeat_ms, ?) WHERE id = ?",
                                 [.integer(nowMs), .text(id)])
        guard changed == 1 else { throw Rejection.unknownExecutor }
        return .ok
    }

    // MARK: Schedules

    func createSchedule(_ spec: ScheduleSpec) throws -> ApplyOutcome {
        guard try db.scalarInt("SELECT 1 FROM schedules WHERE id = ?", [.text(spec.id)]) == nil else { throw Rejection.scheduleExists }
        guard (try? CronExpression(parsing: spec.cron)) != nil else { throw Rejection.malformedCron }
        guard try queueInfo(spec.queue) != nil else { throw Rejection.unknownQueue }
        try db.run("""
            INSERT INTO schedules (id, cron, time_zone, queue, kind, payload, paused, create_time_ms, last_fire_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
            """, [.text(spec.id), .text(spec.cron), .text(spec.timeZone), .text(spec.queue), .text(spec.kind),
                  .blob([UInt8](spec.payload)), .int(spec.paused ? 1 : 0), .integer(spec.nowMs)])
        return .created(id: spec.id)
    }

    func updateSchedule(_ spec: ScheduleSpec) throws -> ApplyOutcome {
        guard (try? CronExpression(parsing: spec.cron)) != nil else { throw Rejection.malformedCron }
        guard try queueInfo(spec.queue) != nil else { throw Rejection.unknownQueue }
        let changed = try db.run("""
            UPDATE schedules SET cron = ?, time_zone = ?, queue = ?, kind = ?, payload = ?, paused = ? WHERE id = ?
            """, [.text(spec.cron), .text(spec.timeZone), .text(spec.queue), .text(spec.kind),
                  .blob([UInt8](spec.payload)), .int(spec.paused ? 1 : 0), .text(spec.id)])
        guard changed == 1 else { throw Rejection.unknownSchedule }
        return .ok
    }

    func deleteSchedule(_ id: String) throws -> ApplyOutcome {
        guard try db.run("DELETE FROM schedules WHERE id = ?", [.text(id)]) == 1 else { throw Rejection.unknownSchedule }
        return .ok
    }

    /// One slot, one run (RELIABILITY I15): a fire at or before the last one is refused, and
    /// the fire time and its task commit together.
    func recordScheduleFire(_ id: String, fireTimeMs: Milliseconds, taskID: String, nowMs: Milliseconds) throws -> ApplyOutcome {
        let statement = try db.cached("SELECT queue, kind, payload, last_fire_ms FROM schedules WHERE id = ?")
        try statement.bind(.text(id), at: 1)
        guard try statement.step() else {
            statement.reset()
            throw Rejection.unknownSchedule
        }
        let queue = statement.text(0), kind = statement.text(1), payload = statement.blob(2)
        let lastFire = statement.optionalInt64(3)
        statement.reset()
        if let lastFire, fireTimeMs <= lastFire { throw Rejection.staleFire }
        try db.run("UPDATE schedules SET last_fire_ms = ? WHERE id = ?", [.integer(fireTimeMs), .text(id)])
        return try createTask(TaskSpec(
            id: taskID, queue: queue, kind: kind, payload: Data(payload), scheduleTimeMs: fireTimeMs, nowMs: nowMs))
    }

    // MARK: Garbage

    func collectGarbage(nowMs: Milliseconds, limit: Int) throws -> ApplyOutcome {
        let names = try db.run("""
            DELETE FROM task_names WHERE (queue, name) IN (
                SELECT queue, name FROM task_names WHERE reserved_until_ms <= ? ORDER BY reserved_until_ms, queue, name LIMIT ?)
            """, [.integer(nowMs), .int(limit)])
        let keys = try db.run("""
            DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expire_time_ms <= ? ORDER BY expire_time_ms, key LIMIT ?)
            """, [.integer(nowMs), .int(limit)])
        return .counted(changed: names + keys, rejected: 0)
    }
}
