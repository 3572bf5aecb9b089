import Foundation
import Testing
@testable import Store

@Suite struct CronTests {
    @Test(arguments: [
        ("* * * * *", 60, 24, 31, 12, 7),
        ("*/15 9-17 * * MON-FRI", 4, 9, 31, 12, 5),
        ("0 0 1,15 JAN,jul *", 1, 1, 2, 2, 7),
        ("5/20 */6 L * *", -1, -1, -1, -1, -1),
        ("0 12 * * 7", 1, 1, 31, 12, 1),
        ("@daily", 1, 1, 31, 12, 7),
        ("10-20/5 0 * 2-3 sun,sat", 3, 1, 31, 2, 2),
    ])
    func parses(text: String, minutes: Int, hours: Int, days: Int, months: Int, weekdays: Int) {
        let cron = try? CronExpression(parsing: text)
        if minutes < 0 {
            #expect(cron == nil)
            return
        }
        guard let cron else {
            Issue.record("\(text) did not parse")
            return
        }
        #expect(cron.minutes.nonzeroBitCount == minutes)
        #expect(cron.hours.nonzeroBitCount == hours)
        #expect(cron.daysOfMonth.nonzeroBitCount == days)
        #expect(cron.months.nonzeroBitCount == months)
        #expect(cron.daysOfWeek.nonzeroBitCount == weekdays)
    }

    @Test(arguments: [
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
        "* * * * 8", "5-1 * * * *", "*/0 * * * *", "1,,2 * * * *", "a * * * *", "* * * FOO *", "1-2-3 * * * *",
        "*/5/2 * * * *", "@reboot", "１ * * * *",
    ])
    func rejectsMalformed(text: String) {
        #expect {
            _ = try CronExpression(parsing: text)
        } throws: { error in
            guard case .malformedCron = error as? CommandError else { return false }
            return true
        }
    }

    static func ms(_ iso: String) -> Milliseconds {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: iso) else { return -1 }
        return Int64(date.timeIntervalSince1970 * 1_000)
    }

    @Test(arguments: [
        // (cron, zone, after, expected next fire)
        ("*/15 * * * *", "UTC", "2026-01-01T10:07:30Z", "2026-01-01T10:15:00Z"),
        ("0 9 * * MON-FRI", "America/New_York", "2026-01-02T15:00:00Z", "2026-01-05T14:00:00Z"),
        ("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 1 * 1", "UTC", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"),  // day-of-month OR day-of-week
        // Spring forward in Berlin (2026-03-29 02:00 → 03:00): 02:30 does not exist that day.
        ("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"),
        // Fall back (2026-10-25 03:00 → 02:00): 02:30 happens twice and fires once, the first time.
        ("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"),
        ("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"),
    ])
    func nextFire(cron: String, zone: String, after: String, expected: String) throws {
        let expression = try CronExpression(parsing: cron)
        let timeZone = try #require(TimeZone(identifier: zone))
        #expect(expression.nextFire(after: Self.ms(after), in: timeZone) == Self.ms(expected))
    }

    @Test func impossibleDateNeverFires() throws {
        let expression = try CronExpression(parsing: "0 0 30 2 *")
        #expect(expression.nextFire(after: 0, in: TimeZone(identifier: "UTC")!, searchDays: 800) == nil)
    }
}
