import Foundation
import Store

/// Cron schedules: the leader proposes `recordScheduleFire` for each due slot. Apply refuses
/// a fire at or before the schedule's last one, and the fire's task id is derived from the
/// slot, so a slot yields one task even when two leaders propose it.
///
/// Missed slots (leader down, cluster down, schedule paused): on the next look, the schedule
/// fires ONCE, for the latest slot at or before now; older missed slots are skipped. The
/// task carries the slot's time as its schedule time, so it is due at once.
extension SchedulerCore {
    struct CronCacheEntry: Sendable, Equatable {
        var cron: String
        var timeZone: String
        var after: Milliseconds
        /// The first slot after `after`, nil when the expression never matches (or is invalid).
        var next: Milliseconds?
    }

    mutating func planScheduleFires(nowMs: Milliseconds, state: some SchedulerState) throws(StoreError) -> [Command] {
        var commands: [Command] = []
        let schedules = try state.schedules()
        cronCache = cronCache.filter { id, _ in schedules.contains { $0.id == id } }
        for schedule in schedules where !schedule.paused && inFlightFires[schedule.id] == nil {
            guard commands.count < config.maxScheduleFiresPerPlan else { break }
            guard let slot = dueSlot(schedule, nowMs: nowMs) else { continue }
            commands.append(.recordScheduleFire(scheduleID: schedule.id, fireTimeMs: slot,
                                                taskID: Self.fireTaskID(scheduleID: schedule.id, fireTimeMs: slot), nowMs: nowMs))
            inFlightFires[schedule.id] = nowMs + config.inFlightTimeoutMs
        }
        return commands
    }

    /// The slot to fire now, if any: the latest slot in (last fire, now].
    mutating func dueSlot(_ schedule: ScheduleRecord, nowMs: Milliseconds) -> Milliseconds? {
        let after = schedule.lastFireMs ?? schedule.createTimeMs
        var entry = cronCache[schedule.id]
        if entry == nil || entry?.cron != schedule.cron || entry?.timeZone != schedule.timeZone || entry?.after != after {
            let next = Self.parse(schedule).flatMap { cron, zone in cron.nextFire(after: after, in: zone) }
            entry = CronCacheEntry(cron: schedule.cron, timeZone: schedule.timeZone, after: after, next: next)
            cronCache[schedule.id] = entry
        }
        guard let next = entry?.next, next <= nowMs, let (cron, zone) = Self.parse(schedule) else { return nil }
        return Self.latestSlot(cron, in: zone, after: after, atOrBefore: nowMs, first: next)
    }

    static func parse(_ schedule: ScheduleRecord) -> (CronExpression, TimeZone)? {
        guard let cron = try? CronExpression(parsing: schedule.cron), let zone = TimeZone(identifier: schedule.timeZone) else {
            return nil
        }
        return (cron, zone)
    }

    /// The latest slot in (after, now], given `first`, the earliest one. Looks back through
    /// growing windows so the walk stays short whatever the expression's period: a window
    /// holding a slot is only searched after every shorter window held none.
    static func latestSlot(_ cron: CronExpression, in zone: TimeZone, after: Milliseconds, atOrBefore nowMs: Milliseconds,
                           first: Milliseconds) -> Milliseconds {
        let minute: Milliseconds = 60_000
        for window in [minute, 60 * minute, 1_440 * minute, 32 * 1_440 * minute, 367 * 1_440 * minute] {
            let from = max(after, nowMs - window)
            guard var slot = cron.nextFire(after: from, in: zone), slot <= nowMs else { continue }
            while let next = cron.nextFire(after: slot, in: zone), next <= nowMs { slot = next }
            return slot
        }
        // Slots further apart than a year: walk from the first one (few steps by construction).
        var slot = first
        while let next = cron.nextFire(after: slot, in: zone), next <= nowMs { slot = next }
        return slot
    }

    /// The task id of one slot's fire: the same on every leader, so a second proposal of the
    /// slot could not create a second task even if apply let the fire through.
    public static func fireTaskID(scheduleID: String, fireTimeMs: Milliseconds) -> String {
        let plain = "\(scheduleID)@\(fireTimeMs)"
        if plain.utf8.count <= 200 { return plain }
        // Long schedule ids: keep the id readable and bounded.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in scheduleID.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "\(scheduleID.prefix(100))-\(hex)@\(fireTimeMs)"
    }
}
