import Foundation
import SQLite

/// Snapshots taken beside a running store, for log compaction in a live node: the copy is made
/// through a second, read-only connection, so the thread that applies entries is never blocked
/// by it (in WAL mode a reader sees one consistent transaction while the writer goes on).
extension StateStore {
    /// Writes a consistent copy of the store file at `storePath` to `target` (which must not
    /// exist) through its own read-only connection, fsyncs it and its directory, and returns
    /// the applied index and term the copy holds. Safe to call from any thread while the store's
    /// owner keeps applying.
    public static func snapshot(ofStoreAt storePath: String, to target: String) throws(StoreError) -> (index: UInt64, term: UInt64) {
        guard !FileManager.default.fileExists(atPath: target) else { throw .io("snapshot target \(target) exists") }
        do {
            // wal: false — a read-only connection must not try to switch the journal mode; the
            // database is in WAL mode already and the reader joins it.
            let connection = try Connection(path: storePath, options: .init(readOnly: true, create: false, wal: false))
            defer { connection.close() }
            try connection.vacuum(into: target)
        } catch {
            throw StoreError(error)
        }
        try fsync(path: target)
        try fsync(path: directory(of: target))
        return try appliedPosition(of: target)
    }

    /// The applied index and term recorded inside a store or snapshot file.
    public static func appliedPosition(of path: String) throws(StoreError) -> (index: UInt64, term: UInt64) {
        let connection: Connection
        do {
            connection = try Connection(path: path, options: .init(readOnly: true, create: false, wal: false))
        } catch {
            throw .invalidSnapshot(error.description)
        }
        defer { connection.close() }
        return try readApplied(connection)
    }

    /// Makes every transaction applied so far durable. The store commits with
    /// `synchronous=NORMAL` (the Raft log is the durable record), so before the log behind a
    /// snapshot is dropped, a checkpoint syncs the WAL (SQLite syncs the WAL before it copies
    /// frames back) and then the database file.
    public func makeDurable() throws(StoreError) {
        try commitPending()
        // Paused: a background checkpoint holding the checkpoint lock would make this one a
        // no-op (PASSIVE gives up on a busy lock), and then nothing would be durable.
        try withoutBackgroundCheckpoints { () throws(StoreError) in
            do throws(SQLiteError) {
                try db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            } catch {
                throw StoreError(error)
            }
        }
    }
}
