import Foundation
import Scheduler
@testable import Store
import Testing

func ms(_ iso: String) -> Milliseconds {
    guard let date = ISO8601DateFormatter().date(from: iso) else {
        Issue.record("bad ISO date \(iso)")
        return 0
    }
    return Int64(date.timeIntervalSince1970 * 1_000)
}

@Suite struct CronTests {
    func harness(cron: String, zone: String, createdAt: Milliseconds) throws -> StoreHarness {
        let harness = try StoreHarness()
        try harness.apply(.createQueue(QueueSpec(name: "q", nowMs: createdAt)))
        try harness.apply(.createSchedule(ScheduleSpec(id: "s", cron: cron, timeZone: zone, queue: "q", kind: "sleep", nowMs: createdAt)))
        return harness
    }

    /// Plans every `stepMs` from `start` to `end`, applying everything; returns the fire times
    /// of the tasks created, checking each fired no earlier than its slot.
    func fires(_ harness: StoreHarness, _ core: inout SchedulerCore, from start: Milliseconds, to end: Milliseconds,
               stepMs: Milliseconds) throws -> [Milliseconds] {
        var fired: [Milliseconds] = []
        var now = start
        while now <= end {
            for command in try core.plan(nowMs: now, state: harness.state) {
                let outcome = try harness.apply(command)
                core.noteApplied(command)
                if case .recordScheduleFire(_, let slot, let taskID, _) = command {
                    #expect(outcome == .created(id: taskID))
                    #expect(slot <= now, "a slot never fires early (I15)")
                    fired.append(slot)
                }
            }
            now += stepMs
        }
        return fired
    }

    struct DSTCase: Sendable, CustomTestStringConvertible {
        var zone: String
        var cron: String
        var start: String
        var end: String
        var expected: [String]
        var testDescription: String { "\(zone) \(cron) \(start)" }
    }

    static let dstCases: [DSTCase] = [
        // Berlin springs forward 2026-03-29 02:00 → 03:00: 02:30 does not exist that day.
        DSTCase(zone: "Europe/Berlin", cron: "30 2 * * *", start: "2026-03-27T12:00:00Z", end: "2026-03-31T00:00:00Z",
                expected: ["2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"]),
        // Berlin falls back 2026-10-25 03:00 → 02:00: 02:30 happens twice, fires once (the first).
        DSTCase(zone: "Europe/Berlin", cron: "30 2 * * *", start: "2026-10-24T12:00:00Z", end: "2026-10-27T00:00:00Z",
                expected: ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]),
        // New York springs forward 2026-03-08 02:00 → 03:00.
        DSTCase(zone: "America/New_York", cron: "30 2 * * *", start: "2026-03-06T12:00:00Z", end: "2026-03-10T00:00:00Z",
                expected: ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z"]),
        // New York falls back 2026-11-01 02:00 → 01:00: 01:30 EDT fires, 01:30 EST does not.
        DSTCase(zone: "America/New_York", cron: "30 1 * * *", start: "2026-10-31T12:00:00Z", end: "2026-11-03T00:00:00Z",
                expected: ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]),
    ]

    @Test(arguments: dstCases)
    func dailyFiresAcrossDST(_ c: DSTCase) throws {
        let harness = try harness(cron: c.cron, zone: c.zone, createdAt: ms(c.start))
        var core = SchedulerCore()
        let fired = try fires(harness, &core, from: ms(c.start), to: ms(c.end), stepMs: 120_000)
        #expect(fired == c.expected.map(ms))
    }

    @Test func missedSlotsFireOnceForTheLatest() throws {
        let created = ms("2026-01-01T00:00:00Z")
        let harness = try harness(cron: "*/5 * * * *", zone: "UTC", createdAt: created)
        var core = SchedulerCore()
        // The first look comes 3 h 2 min late: one fire, for 03:00; the 35 older slots are skipped.
        let late = try fires(harness, &core, from: created + 10_920_000, to: created + 10_920_000, stepMs: 1)
        #expect(late == [ms("2026-01-01T03:00:00Z")])
        let after = try fires(harness, &core, from: created + 10_920_001, to: ms("2026-01-01T03:10:30Z"), stepMs: 30_000)
        #expect(after == [ms("2026-01-01T03:05:00Z"), ms("2026-01-01T03:10:00Z")])
    }

    @Test func monthlyScheduleAfterALongOutage() throws {
        let created = ms("2026-01-15T00:00:00Z")
        let harness = try harness(cron: "0 0 1 * *", zone: "UTC", createdAt: created)
        var core = SchedulerCore()
        let fired = try fires(harness, &core, from: ms("2026-05-15T00:00:00Z"), to: ms("2026-05-15T00:00:00Z"), stepMs: 1)
        #expect(fired == [ms("2026-05-01T00:00:00Z")], "Feb, Mar, Apr slots skipped")
    }

    @Test func oneTaskPerSlotAcrossALeaderChange() throws {
        let created = ms("2026-01-01T00:00:00Z")
        let slot = ms("2026-01-01T00:01:00Z")
        let harness = try harness(cron: "* * * * *", zone: "UTC", createdAt: created)
        // The old leader proposes the slot and loses leadership before it applies.
        var old = SchedulerCore()
        let proposedByOld = try old.plan(nowMs: slot + 10, state: harness.state)
        #expect(proposedByOld.count == 1)
        // The new leader starts from the replicated state alone and proposes the same slot.
        var new = SchedulerCore()
        let proposedByNew = try new.plan(nowMs: slot + 500, state: harness.state)
        #expect(proposedByNew.count == 1)
        guard case .recordScheduleFire(_, let oldSlot, let oldTask, _) = proposedByOld.first,
              case .recordScheduleFire(_, let newSlot, let newTask, _) = proposedByNew.first else {
            Issue.record("expected schedule fires")
            return
        }
        #expect(oldSlot == slot && newSlot == slot && oldTask == newTask, "same slot, same task id on both leaders")
        // Both commit: the old one first. The second is refused.
        #expect(try harness.apply(proposedByOld[0]) == .created(id: oldTask))
        #expect(try harness.apply(proposedByNew[0]) == .rejected(.staleFire))
        new.noteApplied(proposedByNew[0])
        #expect(try new.plan(nowMs: slot + 1_000, state: harness.state).isEmpty, "the slot is done")
        #expect(try harness.store.taskCounts(queue: "q") == [.queued: 1])
        // A third leader after that starts clean and fires only the next slot.
        var third = SchedulerCore()
        let next = try fires(harness, &third, from: slot + 2_000, to: slot + 60_000, stepMs: 1_000)
        #expect(next == [slot + 60_000])
    }

    @Test func pausedScheduleDoesNotFire() throws {
        let created = ms("2026-01-01T00:00:00Z")
        let harness = try StoreHarness()
        try harness.apply(.createQueue(QueueSpec(name: "q", nowMs: created)))
        try harness.apply(.createSchedule(ScheduleSpec(id: "s", cron: "* * * * *", queue: "q", kind: "sleep", paused: true, nowMs: created)))
        var core = SchedulerCore()
        #expect(try fires(harness, &core, from: created, to: created + 600_000, stepMs: 10_000).isEmpty)
    }

    @Test func longScheduleIDsGiveBoundedTaskIDs() {
        let id = String(repeating: "x", count: 480)
        let taskID = SchedulerCore.fireTaskID(scheduleID: id, fireTimeMs: t0)
        #expect(taskID.utf8.count < 200)
        #expect(taskID != SchedulerCore.fireTaskID(scheduleID: id + "y", fireTimeMs: t0))
        #expect(SchedulerCore.fireTaskID(scheduleID: "s", fireTimeMs: 42) == "s@42")
    }
}
