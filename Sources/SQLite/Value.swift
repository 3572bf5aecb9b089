import CSQLite

/// A value bound to or read from SQLite.
public enum Value: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public static func int(_ v: Int) -> Value { .integer(Int64(v)) }
    public static func optional(_ v: String?) -> Value { v.map(Value.text) ?? .null }
    public static func optional(_ v: Int64?) -> Value { v.map(Value.integer) ?? .null }
}

/// An error from SQLite: the (extended) result code, SQLite's message, and what we were doing.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let context: String

    public init(code: Int32, message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    /// The primary result code (the low byte of an extended code).
    public var primaryCode: Int32 { code & 0xff }

    public var isCorrupt: Bool { primaryCode == SQLITE_CORRUPT || primaryCode == SQLITE_NOTADB }
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    public var isFull: Bool { primaryCode == SQLITE_FULL }
    public var isConstraint: Bool { primaryCode == SQLITE_CONSTRAINT }
    /// A row's key was taken: a UNIQUE index (a rowid table's PRIMARY KEY is one) or the key of
    /// a WITHOUT ROWID table.
    /// (Swift does not import sqlite3.h's extended-code macros: SQLITE_CONSTRAINT_PRIMARYKEY is
    /// SQLITE_CONSTRAINT | 6 << 8, SQLITE_CONSTRAINT_UNIQUE is SQLITE_CONSTRAINT | 8 << 8.)
    public var isDuplicateKey: Bool { code == SQLITE_CONSTRAINT | 6 << 8 || code == SQLITE_CONSTRAINT | 8 << 8 }

    public var description: String {
        "SQLite error \(code) (\(String(cString: sqlite3_errstr(code)))): \(message) [\(context)]"
    }
}
