import Foundation
import Scheduler
@testable import Store
import Testing

/// The API pauses and resumes a schedule by proposing its whole spec as `updateSchedule`; the
/// last fire time must survive that, so resuming fires once for the latest missed slot and
/// then follows the cron again.
extension CronTests {
    @Test func pauseAndResumeThroughUpdateSchedule() throws {
        let created = ms("2026-01-01T00:00:00Z")
        let minute: Milliseconds = 60_000
        let harness = try harness(cron: "*/5 * * * *", zone: "Europe/Berlin", createdAt: created)
        var core = SchedulerCore()
        #expect(try fires(harness, &core, from: created, to: created + 12 * minute, stepMs: minute)
            == [created + 5 * minute, created + 10 * minute])

        func spec(paused: Bool) -> ScheduleSpec {
            ScheduleSpec(id: "s", cron: "*/5 * * * *", timeZone: "Europe/Berlin", queue: "q", kind: "sleep", paused: paused,
                         nowMs: created)
        }
        #expect(try harness.apply(.updateSchedule(spec(paused: true))) == .ok)
        #expect(try harness.state.schedules().first?.lastFireMs == created + 10 * minute)
        #expect(try fires(harness, &core, from: created + 13 * minute, to: created + 40 * minute, stepMs: minute).isEmpty)

        #expect(try harness.apply(.updateSchedule(spec(paused: false))) == .ok)
        let resumedAt = created + 40 * minute + 30_000
        #expect(try fires(harness, &core, from: resumedAt, to: created + 50 * minute, stepMs: 30_000)
            == [created + 40 * minute, created + 45 * minute, created + 50 * minute])
    }
}
