/// One value of a record being cleaned. CSV fields start as `.string` (empty = missing);
/// JSON values keep their type; nested arrays and objects travel as `.raw` JSON text.
public enum CleanValue: Sendable, Equatable, Hashable {
    case null
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case raw(String)

    var isMissing: Bool {
        switch self {
        case .null: return true
        case .string(let s): return s.isEmpty
        default: return false
        }
    }

    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The value as text, for comparisons and CSV output.
    var text: String {
        switch self {
        case .null: return ""
        case .string(let s), .raw(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return CleanValue.format(d)
        case .bool(let b): return b ? "true" : "false"
        }
    }

    /// Shortest round-trip form; integral values keep a `.0` so a double stays a double.
    static func format(_ d: Double) -> String {
        d == 0 ? "0.0" : String(d)  // normalises -0.0
    }

    /// Casts to `type`; nil when the value does not cast. Missing values stay `.null`.
    func cast(to type: CSVCleanSpec.ColumnType) -> CleanValue? {
        if isMissing { return .null }
        switch (type, self) {
        case (.string, .raw): return self
        case (.string, _): return .string(text)
        case (.int, .int), (.double, .double), (.bool, .bool): return self
        case (.int, .double(let d)):
            guard d.rounded() == d, let i = Int64(exactly: d) else { return nil }
            return .int(i)
        case (.int, .string(let s)): return Int64(s.trimmingASCIISpaces()).map(CleanValue.int)
        case (.double, .int(let i)): return .double(Double(i))
        case (.double, .string(let s)):
            guard let d = Double(s.trimmingASCIISpaces()), d.isFinite else { return nil }
            return .double(d)
        case (.bool, .string(let s)):
            switch s.trimmingASCIISpaces().lowercased() {
            case "true", "t", "yes", "y", "1": return .bool(true)
            case "false", "f", "no", "n", "0": return .bool(false)
            default: return nil
            }
        case (.bool, .int(let i)) where i == 0 || i == 1: return .bool(i == 1)
        default: return nil
        }
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
