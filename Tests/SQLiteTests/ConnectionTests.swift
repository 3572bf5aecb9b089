import Testing
import Foundation
@testable import SQLite
import CSQLite

@Suite struct ConnectionTests {
    @Test func roundTripsEveryValueType() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, n)")
        try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                   [.integer(-42), .real(2.5), .text("héllo ✓"), .blob([]), .null])
        var rows = 0
        try db.query("SELECT i, r, s, b, n, typeof(b) FROM t") { row in
            rows += 1
            #expect(row.int64(0) == -42)
            #expect(row.double(1) == 2.5)
            #expect(row.text(2) == "héllo ✓")
            #expect(row.blob(3) == [])
            #expect(row.text(5) == "blob")   // an empty blob stays a blob, not NULL
            #expect(row.isNull(4))
        }
        #expect(rows == 1)
    }

    @Test func transactionRollsBackOnError() throws {
        struct Boom: Error {}
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t(x INTEGER)")
        #expect(throws: Boom.self) {
            try db.transaction { () throws -> Void in
                try db.run("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
    }

    /// A taken key (a rowid table's TEXT PRIMARY KEY, a WITHOUT ROWID key, a UNIQUE index) is
    /// `isDuplicateKey`; other constraint failures are not; the failed INSERT wrote nothing.
    @Test func aTakenKeyIsADuplicateKeyAndWritesNothing() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("""
            CREATE TABLE r (id TEXT PRIMARY KEY, n INTEGER NOT NULL CHECK (n > 0)) STRICT;
            CREATE INDEX r_by_n ON r (n, id);
            CREATE TABLE w (id TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT, WITHOUT ROWID;
            CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT UNIQUE) STRICT;
            INSERT INTO r VALUES ('a', 1); INSERT INTO w VALUES ('a', 1); INSERT INTO u VALUES (1, 'x');
            """)
        func failure(_ sql: String) -> SQLiteError? {
            do {
                try db.run(sql)
                return nil
            } catch {
                return error
            }
        }
        for sql in ["INSERT INTO r VALUES ('a', 2)", "INSERT INTO w VALUES ('a', 2)", "INSERT INTO u VALUES (2, 'x')"] {
            let error = try #require(failure(sql), "\(sql) succeeded")
            #expect(error.isDuplicateKey && error.isConstraint, "\(sql): \(error)")
        }
        for sql in ["INSERT INTO r VALUES ('b', 0)", "INSERT INTO r VALUES ('b', NULL)", "INSERT INTO w VALUES (NULL, 1)"] {
            let error = try #require(failure(sql), "\(sql) succeeded")
            #expect(error.isConstraint && !error.isDuplicateKey, "\(sql): \(error)")
        }
        #expect(try db.scalarInt("SELECT count(*) FROM r") == 1)
        #expect(try db.scalarInt("SELECT count(*) FROM r INDEXED BY r_by_n WHERE n > 0") == 1)
        #expect(try db.scalarInt("SELECT n FROM w WHERE id = 'a'") == 1)
        #expect(try db.scalarText("PRAGMA integrity_check") == "ok")
    }

    @Test func syntaxErrorIsTypedAndNamesTheSQL() throws {
        let db = try Connection(path: ":memory:")
        do {
            try db.execute("SELEKT 1")
            Issue.record("expected an error")
        } catch {
            #expect(error.context.contains("SELEKT"))
        }
    }

    @Test func walModeOnFileAndGarbageFileIsCorrupt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.db").path
        let db = try Connection(path: good)
        #expect(try db.scalarText("PRAGMA journal_mode") == "wal")
        #expect(try db.integrityProblem() == nil)
        db.close()

        let bad = dir.appendingPathComponent("bad.db").path
        try Data(repeating: 0xAB, count: 8192).write(to: URL(fileURLWithPath: bad))
        do {
            _ = try Connection(path: bad)
            Issue.record("opening garbage must fail")
        } catch {
            #expect(error.isCorrupt)
        }
    }

    /// An exclusive connection keeps the file to itself: no -shm index, and another connection
    /// cannot read or write it until it closes.
    @Test func anExclusiveConnectionKeepsTheFileToItself() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("log.db").path
        let owner = try Connection(path: path, options: .init(exclusive: true))
        #expect(try owner.scalarText("PRAGMA locking_mode") == "exclusive")
        try owner.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
        do {
            let other = try Connection(path: path, options: .init(busyTimeoutMilliseconds: 50))
            _ = try other.scalarInt("SELECT count(*) FROM t")
            Issue.record("a second connection read an exclusive connection's file")
        } catch {
            #expect(error.code & 0xFF == SQLITE_BUSY)
        }
        owner.close()
        let after = try Connection(path: path)
        #expect(try after.scalarInt("SELECT count(*) FROM t") == 1)
        after.close()
    }

    @Test func aThrowingRowCallbackLeavesTheStatementReusable() throws {
        struct Stop: Error {}
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3)")
        #expect(throws: Stop.self) { try db.query("SELECT x FROM t ORDER BY x") { _ in throw Stop() } }
        // A statement left mid-step would hold a read transaction open and make this BEGIN fail
        // to see fresh data; after the reset the same cached statement starts from the top.
        var seen: [Int64] = []
        try db.query("SELECT x FROM t ORDER BY x") { seen.append($0.int64(0)) }
        #expect(seen == [1, 2, 3])
        _ = try db.transaction { try db.run("INSERT INTO t VALUES (4)") }
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 4)
    }

    @Test func bindingCountMismatchIsAnError() throws {
        let db = try Connection(path: ":memory:")
        #expect(throws: SQLiteError.self) { try db.run("SELECT ?", []) }
    }
}
