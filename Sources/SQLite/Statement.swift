import CSQLite

/// `SQLITE_TRANSIENT`: a C macro Swift does not import. SQLite copies the bound bytes.
let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement. Owned by one connection and used only by that connection's owner.
public final class Statement {
    private var handle: OpaquePointer?
    private unowned let connection: Connection
    public let sql: String

    init(connection: Connection, sql: String) throws(SQLiteError) {
        self.connection = connection
        self.sql = sql
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection.db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(connection.db)), context: sql)
        }
        handle = stmt
    }

    deinit { finalize() }

    func finalize() {
        if let handle {
            sqlite3_finalize(handle)
            self.handle = nil
        }
    }

    private var stmt: OpaquePointer {
        guard let handle else { preconditionFailure("use of a finalized statement: \(sql)") }
        return handle
    }

    /// Resets the statement and clears its bindings.
    public func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    /// Binds values to parameters 1...n.
    public func bind(_ values: [Value]) throws(SQLiteError) {
        let expected = Int(sqlite3_bind_parameter_count(stmt))
        guard values.count == expected else {
            throw SQLiteError(code: SQLITE_RANGE, message: "expected \(expected) bindings, got \(values.count)", context: sql)
        }
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    public func bind(_ value: Value, at index: Int32) throws(SQLiteError) {
        let rc: Int32
        switch value {
        case .null:
            rc = sqlite3_bind_null(stmt, index)
        case .integer(let v):
            rc = sqlite3_bind_int64(stmt, index, v)
        case .real(let v):
            rc = sqlite3_bind_double(stmt, index, v)
        case .text(let v):
            rc = sqlite3_bind_text(stmt, index, v, -1, transientDestructor)
        case .blob(let bytes):
            rc = bytes.withUnsafeBytes { raw in
                // A zero-length blob must still bind as a blob, not NULL.
                sqlite3_bind_blob64(stmt, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(raw.count), transientDestructor)
            }
        }
        guard rc == SQLITE_OK else {
            throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(connection.db)), context: sql)
        }
    }

    /// Advances to the next row. Returns true when a row is available, false when done.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(stmt)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = String(cString: sqlite3_errmsg(connection.db))
            sqlite3_reset(stmt)
            throw SQLiteError(code: rc, message: message, context: sql)
        }
    }

    public var columnCount: Int32 { sqlite3_column_count(stmt) }

    public func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(stmt, column) == SQLITE_NULL
    }

    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(stmt, column) }

    public func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(stmt, column)) }

    public func double(_ column: Int32) -> Double { sqlite3_column_double(stmt, column) }

    public func text(_ column: Int32) -> String {
        guard let cString = sqlite3_column_text(stmt, column) else { return "" }
        let count = Int(sqlite3_column_bytes(stmt, column))
        return String(decoding: UnsafeBufferPointer(start: cString, count: count), as: UTF8.self)
    }

    public func optionalText(_ column: Int32) -> String? {
        isNull(column) ? nil : text(column)
    }

    public func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }

    public func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(stmt, column))
        guard count > 0, let pointer = sqlite3_column_blob(stmt, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The column as a `Value`, by its stored type.
    public func value(_ column: Int32) -> Value {
        switch sqlite3_column_type(stmt, column) {
        case SQLITE_INTEGER: return .integer(int64(column))
        case SQLITE_FLOAT: return .real(double(column))
        case SQLITE_TEXT: return .text(text(column))
        case SQLITE_BLOB: return .blob(blob(column))
        default: return .null
        }
    }
}
