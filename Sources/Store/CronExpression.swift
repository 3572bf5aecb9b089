/// A standard 5-field cron expression: minute hour day-of-month month day-of-week.
/// Fields accept `*`, numbers, names (JAN–DEC, SUN–SAT), ranges `a-b`, steps `*/n` `a-b/n`
/// `a/n`, and comma lists; day-of-week 7 is Sunday too. Macros: @yearly @annually @monthly
/// @weekly @daily @midnight @hourly. As in Vixie cron, when both day fields are restricted
/// a day matches if EITHER matches.
public struct CronExpression: Sendable, Equatable {
    /// Bit i set ⇔ value i allowed.
    public let minutes: UInt64
    public let hours: UInt64
    public let daysOfMonth: UInt64
    public let months: UInt64
    /// Bits 0–6, Sunday = 0.
    public let daysOfWeek: UInt64
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(parsing text: String) throws(CommandError) {
        guard text.utf8.count <= 200 else { throw .malformedCron(expression: String(text.prefix(200)), reason: "too long") }
        let trimmed = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(separator: " ").map(String.init)
        guard fields.count == 5 else {
            throw .malformedCron(expression: text, reason: "expected 5 fields, found \(fields.count)")
        }
        func field(_ index: Int, _ name: String, _ range: ClosedRange<Int>, _ names: [String], _ base: Int) throws(CommandError) -> UInt64 {
            do {
                return try Self.parseField(fields[index], range: range, names: names, nameBase: base)
            } catch let reason {
                throw .malformedCron(expression: text, reason: "\(name): \(reason.text)")
            }
        }
        minutes = try field(0, "minute", 0...59, [], 0)
        hours = try field(1, "hour", 0...23, [], 0)
        daysOfMonth = try field(2, "day of month", 1...31, [], 0)
        months = try field(3, "month", 1...12, Self.monthNames, 1)
        var dow = try field(4, "day of week", 0...7, Self.dayNames, 0)
        if dow & (1 << 7) != 0 { dow = (dow & ~(1 << 7)) | 1 }
        daysOfWeek = dow
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    struct Reason: Error {
        let text: String
    }

    static func parseField(_ field: String, range: ClosedRange<Int>, names: [String], nameBase: Int) throws(Reason) -> UInt64 {
        var bits: UInt64 = 0
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = part.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw Reason(text: "bad step in '\(part)'") }
            var step = 1
            if stepParts.count == 2 {
                guard let value = Int(stepParts[1]), value >= 1, value <= range.upperBound + 1 else {
                    throw Reason(text: "bad step '\(stepParts[1])'")
                }
                step = value
            }
            let rangeText = stepParts[0]
            var low: Int
            var high: Int
            if rangeText == "*" {
                low = range.lowerBound
                high = range.upperBound
            } else {
                let bounds = rangeText.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count == 1 || bounds.count == 2 else { throw Reason(text: "bad range '\(rangeText)'") }
                low = try value(bounds[0], range: range, names: names, nameBase: nameBase)
                if bounds.count == 2 {
                    high = try value(bounds[1], range: range, names: names, nameBase: nameBase)
                    guard low <= high else { throw Reason(text: "range '\(rangeText)' runs backwards") }
                } else {
                    // `a/n` means from a to the end, stepping n.
                    high = stepParts.count == 2 ? range.upperBound : low
                }
            }
            for v in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(v) }
        }
        return bits
    }

    static func value(_ text: Substring, range: ClosedRange<Int>, names: [String], nameBase: Int) throws(Reason) -> Int {
        if let number = Int(text), text.allSatisfy(\.isASCII) {
            guard range.contains(number) else { throw Reason(text: "\(number) outside \(range)") }
            return number
        }
        if let index = names.firstIndex(of: text.uppercased()) { return index + nameBase }
        throw Reason(text: "'\(text)' is not a value")
    }

    /// Whether the calendar fields of one local minute match.
    public func matches(minute: Int, hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        guard minutes & (1 << UInt64(minute)) != 0, hours & (1 << UInt64(hour)) != 0,
              months & (1 << UInt64(month)) != 0 else { return false }
        return matchesDay(day: day, weekday: weekday)
    }

    func matchesDay(day: Int, weekday: Int) -> Bool {
        let domOK = daysOfMonth & (1 << UInt64(day)) != 0
        let dowOK = daysOfWeek & (1 << UInt64(weekday)) != 0
        if dayOfMonthRestricted && dayOfWeekRestricted { return domOK || dowOK }
        return domOK && dowOK
    }
}
