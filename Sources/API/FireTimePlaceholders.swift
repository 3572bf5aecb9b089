import Foundation

/// `{{name}}` placeholders in a `job` task's string parameters, filled in when the task runs
/// from its fire time (a schedule's slot, else the task's creation time) read in a time zone:
///
/// | placeholder | value (fire time 2026-11-30 02:00 Europe/Berlin) |
/// | --- | --- |
/// | `{{date}}` | `2026-11-30` |
/// | `{{yesterday}}` / `{{tomorrow}}` | `2026-11-29` / `2026-12-01` (calendar days in the zone) |
/// | `{{datetime}}` | `2026-11-30T02:00:00` (local, no offset) |
/// | `{{year}}` `{{month}}` `{{day}}` `{{hour}}` `{{minute}}` | `2026` `11` `30` `02` `00` |
/// | `{{timestamp}}` | `1764464400` (Unix seconds) |
/// | `{{taskId}}` / `{{run}}` | the task's id / the job run number (1, 2 … one per failed run) |
///
/// Placeholders are filled once, when the run is launched, and the filled parameters are stored
/// with the job, so every replica sees the same job whatever its time-zone data.
public enum FireTimePlaceholders {
    public static let names = ["date", "datetime", "day", "hour", "minute", "month", "run", "taskId", "timestamp", "tomorrow", "year",
                               "yesterday"]

    public struct Context: Sendable {
        public var fireTimeMs: Int64
        public var timeZone: TimeZone
        public var taskID: String
        public var run: Int

        public init(fireTimeMs: Int64, timeZone: TimeZone, taskID: String, run: Int) {
            self.fireTimeMs = fireTimeMs
            self.timeZone = timeZone
            self.taskID = taskID
            self.run = run
        }
    }

    /// The first placeholder in `value` (any depth) that is not one of `names`.
    public static func unknownPlaceholder(in value: JSONValue) -> String? {
        switch value {
        case .string(let text): return placeholders(in: text).first { !names.contains($0) }
        case .array(let items): return items.lazy.compactMap(unknownPlaceholder(in:)).first
        case .object(let object): return object.sorted { $0.key < $1.key }.lazy.compactMap { unknownPlaceholder(in: $0.value) }.first
        default: return nil
        }
    }

    /// `value` with every known placeholder in its strings replaced (unknown ones stay).
    public static func expand(_ value: JSONValue, _ context: Context) -> JSONValue {
        switch value {
        case .string(let text): return .string(expand(text, values(context)))
        case .array(let items): return .array(items.map { expand($0, context) })
        case .object(let object): return .object(object.mapValues { expand($0, context) })
        default: return value
        }
    }

    public static func values(_ context: Context) -> [String: String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = context.timeZone
        let date = Date(timeIntervalSince1970: Double(context.fireTimeMs) / 1_000)
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        func day(_ offset: Int) -> String {
            let shifted = calendar.date(byAdding: .day, value: offset, to: date) ?? date
            let p = calendar.dateComponents([.year, .month, .day], from: shifted)
            return "\(String(format: "%04d", p.year ?? 0))-\(two(p.month))-\(two(p.day))"
        }
        let today = day(0)
        return [
            "date": today, "yesterday": day(-1), "tomorrow": day(1),
            "datetime": "\(today)T\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second))",
            "year": String(format: "%04d", parts.year ?? 0), "month": two(parts.month), "day": two(parts.day),
            "hour": two(parts.hour), "minute": two(parts.minute), "timestamp": String(context.fireTimeMs / 1_000),
            "taskId": context.taskID, "run": String(context.run),
        ]
    }

    static func placeholders(in text: String) -> [String] {
        var found: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            found.append(String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func expand(_ text: String, _ values: [String: String]) -> String {
        guard text.contains("{{") else { return text }
        var out = ""
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            out += rest[..<open.lowerBound]
            let name = String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
            out += values[name] ?? String(rest[open.lowerBound..<close.upperBound])
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
