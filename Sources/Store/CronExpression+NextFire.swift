import Foundation

extension CronExpression {
    /// The first fire time strictly after `afterMs`, in wall-clock time of `timeZone`, or nil
    /// when nothing matches within `searchDays` (e.g. "0 0 30 2 *").
    ///
    /// DST: a local time that does not exist (the spring-forward gap) does not fire; a local
    /// time that occurs twice (fall back) fires once, at its first occurrence. Pure: for the
    /// scheduler, never called inside apply.
    public func nextFire(after afterMs: Milliseconds, in timeZone: TimeZone, searchDays: Int = 366 * 8) -> Milliseconds? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let after = Date(timeIntervalSince1970: Double(afterMs) / 1_000)
        let firstDay = calendar.startOfDay(for: after)
        for offset in 0..<searchDays {
            guard let day = calendar.date(byAdding: .day, value: offset, to: firstDay) else { return nil }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday else { continue }
            guard months & (1 << UInt64(month)) != 0, matchesDay(day: dayOfMonth, weekday: weekday - 1) else { continue }
            if let fire = firstFire(year: year, month: month, day: dayOfMonth, after: afterMs, calendar: calendar) {
                return fire
            }
        }
        return nil
    }

    private func firstFire(year: Int, month: Int, day: Int, after afterMs: Milliseconds, calendar: Calendar) -> Milliseconds? {
        for hour in 0..<24 where hours & (1 << UInt64(hour)) != 0 {
            for minute in 0..<60 where minutes & (1 << UInt64(minute)) != 0 {
                let wanted = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
                guard let date = calendar.date(from: wanted) else { continue }
                // A wall time in a DST gap comes back shifted: it does not exist, skip it.
                let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
                guard back.year == year, back.month == month, back.day == day, back.hour == hour, back.minute == minute else { continue }
                let fireMs = Int64((date.timeIntervalSince1970 * 1_000).rounded())
                if fireMs > afterMs { return fireMs }
            }
        }
        return nil
    }
}
