import Foundation

/// Human-readable output: aligned columns, colour only on a terminal (and never with NO_COLOR
/// set or TERM=dumb, https://no-color.org).
enum Output {
    static let isTerminal = isatty(STDOUT_FILENO) == 1

    static let useColour: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return isTerminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }()

    enum Style: String {
        case bold = "1", red = "31", green = "32", yellow = "33", dim = "2"
    }

    /// Columns padded to their widest cell (measured in characters, before any colour codes, so
    /// colour never breaks the alignment); numeric columns are right-aligned; the last column
    /// is not padded. `style` picks a colour per cell (used only when `colour` is on).
    static func table(_ header: [String], _ rows: [[String]], colour: Bool = useColour,
                      style: (_ column: Int, _ cell: String) -> Style? = stateStyle) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        let numeric = header.indices.map { column in
            !rows.isEmpty && rows.allSatisfy { row in
                column < row.count && (row[column] == "-" || Double(row[column].replacingOccurrences(of: " ms", with: "")) != nil)
            }
        }
        func line(_ cells: [String], isHeader: Bool) -> String {
            cells.enumerated().map { i, cell in
                let last = i == cells.count - 1
                let pad = String(repeating: " ", count: max(0, (i < widths.count ? widths[i] : 0) - cell.count))
                let rightAlign = i < numeric.count && numeric[i]
                let styled = colour ? paint(cell, isHeader ? .bold : style(i, cell)) : cell
                if rightAlign { return pad + styled }
                return last ? styled : styled + pad
            }.joined(separator: "  ")
        }
        return ([line(header, isHeader: true)] + rows.map { line($0, isHeader: false) }).joined(separator: "\n")
    }

    static func paint(_ text: String, _ style: Style?) -> String {
        guard let style else { return text }
        return "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m"
    }

    /// Task, job and queue states, and node roles, by how good they are.
    static func stateStyle(_ column: Int, _ cell: String) -> Style? {
        switch cell {
        case "succeeded", "DONE", "leader": .green
        case "dead", "FAILED", "unreachable", "disabled": .red
        case "running", "leased", "RUNNING", "CANCELLING", "paused", "candidate", "preCandidate": .yellow
        case "cancelled", "CANCELLED": .dim
        default: nil
        }
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `text` (plus a newline) to `path` through a temporary file and a rename, so a
    /// reader never sees half a file.
    static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try Data((text + "\n").utf8).write(to: url, options: .atomic)
        } catch {
            throw OutputError.cannotWrite(path, error.localizedDescription)
        }
    }
}

enum OutputError: Error, CustomStringConvertible {
    case cannotWrite(String, String)
    var description: String {
        switch self {
        case .cannotWrite(let path, let why): "cannot write \(path): \(why)"
        }
    }
}
