import CSQLite

/// One SQLite database connection.
///
/// A connection is not thread-safe and is deliberately not `Sendable`: exactly one owner
/// (an actor, a dedicated thread, or a lock-protected class) uses it. Blocking SQLite calls
/// must never run on a NIO event loop.
public final class Connection {
    /// The raw handle. Non-nil until `close()`.
    private var handle: OpaquePointer?
    public let path: String
    /// Cached prepared statements, keyed by SQL text.
    private var cache: [String: Statement] = [:]

    public struct OpenOptions: Sendable {
        public var readOnly: Bool
        public var create: Bool
        /// `PRAGMA journal_mode=WAL` when true.
        public var wal: Bool
        /// `PRAGMA synchronous`: use `.full` for anything that must survive power loss.
        public var synchronous: Synchronous
        /// Milliseconds to wait on a locked database before failing with SQLITE_BUSY.
        public var busyTimeoutMilliseconds: Int32
        /// `PRAGMA locking_mode=EXCLUSIVE`: this connection takes the file's locks once and
        /// keeps them (no `fcntl` lock and unlock per transaction, and with WAL no shared-memory
        /// index). Only for a file no other connection or process may open meanwhile.
        public var exclusive: Bool

        public init(
            readOnly: Bool = false, create: Bool = true, wal: Bool = true,
            synchronous: Synchronous = .full, busyTimeoutMilliseconds: Int32 = 5_000, exclusive: Bool = false
        ) {
            self.readOnly = readOnly
            self.create = create
            self.wal = wal
            self.synchronous = synchronous
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.exclusive = exclusive
        }
    }

    public enum Synchronous: String, Sendable {
        case off = "OFF", normal = "NORMAL", full = "FULL", extra = "EXTRA"
    }

    /// Opens (and by default creates) the database at `path`. `":memory:"` opens a private
    /// in-memory database.
    public init(path: String, options: OpenOptions = OpenOptions()) throws(SQLiteError) {
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if options.readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if options.create { flags |= SQLITE_OPEN_CREATE }
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: message, context: "open \(path)")
        }
        handle = db
        sqlite3_busy_timeout(db, options.busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(db, 1)
        // Before journal_mode: WAL then keeps its index in heap memory, not in a -shm file.
        if options.exclusive && !options.readOnly {
            let mode = try scalarText("PRAGMA locking_mode=EXCLUSIVE")
            guard mode?.lowercased() == "exclusive" else {
                throw SQLiteError(code: SQLITE_ERROR, message: "locking_mode is \(mode ?? "nil"), not exclusive", context: path)
            }
        }
        if options.wal && !options.readOnly && path != ":memory:" {
            let mode = try scalarText("PRAGMA journal_mode=WAL")
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(code: SQLITE_ERROR, message: "journal_mode is \(mode ?? "nil"), not wal", context: path)
            }
        }
        try execute("PRAGMA synchronous=\(options.synchronous.rawValue)")
    }

    deinit {
        close()
    }

    /// Closes the connection. Safe to call twice.
    public func close() {
        for statement in cache.values { statement.finalize() }
        cache.removeAll()
        if let handle {
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }

    var db: OpaquePointer {
        guard let handle else { preconditionFailure("use of a closed SQLite connection to \(path)") }
        return handle
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(errmsg)
            throw SQLiteError(code: rc, message: message, context: sql)
        }
    }

    /// Prepares a statement that the caller owns (finalized when released).
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        try Statement(connection: self, sql: sql)
    }

    /// Returns a cached prepared statement for `sql`, reset and with bindings cleared.
    /// Use for hot statements; the connection owns it.
    public func cached(_ sql: String) throws(SQLiteError) -> Statement {
        if let statement = cache[sql] {
            statement.reset()
            return statement
        }
        let statement = try Statement(connection: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; rolls back if `body` throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            // A failed COMMIT may already have rolled back; ignore a second error here.
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs a query with bindings and calls `row` for each result row.
    public func query(_ sql: String, _ bindings: [Value] = [], row: (Statement) throws -> Void) throws {
        let statement = try cached(sql)
        defer { statement.reset() }
        try statement.bind(bindings)
        while try statement.step() {
            try row(statement)
        }
    }

    /// Runs a statement with bindings that returns no rows; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ bindings: [Value] = []) throws(SQLiteError) -> Int {
        let statement = try cached(sql)
        defer { statement.reset() }
        try statement.bind(bindings)
        while try statement.step() {}
        return changes
    }

    /// The first column of the first row, as text, or nil.
    public func scalarText(_ sql: String, _ bindings: [Value] = []) throws(SQLiteError) -> String? {
        let statement = try cached(sql)
        try statement.bind(bindings)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.text(0)
    }

    /// The first column of the first row, as an integer, or nil.
    public func scalarInt(_ sql: String, _ bindings: [Value] = []) throws(SQLiteError) -> Int64? {
        let statement = try cached(sql)
        try statement.bind(bindings)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int64(0)
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(db)) }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }

    /// `PRAGMA integrity_check`: nil when the database is sound, else the first problem.
    public func integrityProblem() throws(SQLiteError) -> String? {
        let result = try scalarText("PRAGMA integrity_check")
        return result == "ok" ? nil : (result ?? "integrity_check returned nothing")
    }

    /// Writes a consistent copy of the database to `path` (`VACUUM INTO`). The file must not exist.
    public func vacuum(into path: String) throws(SQLiteError) {
        try run("VACUUM INTO ?", [.text(path)])
    }

    /// The SQLite library version, e.g. "3.40.1".
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
