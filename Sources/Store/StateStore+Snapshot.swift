import Foundation
import SQLite

/// Snapshots for log compaction: a consistent copy of the store at its applied index (the
/// index lives inside, in `meta`), and an atomic restore that swaps the file underneath.
extension StateStore {
    /// Writes a consistent, compact copy of the store to `path` (`VACUUM INTO`, which reads
    /// one transaction's view), then fsyncs it and its directory. `path` must not exist.
    /// Returns the applied index the snapshot holds.
    @discardableResult
    public func snapshot(to path: String) throws(StoreError) -> UInt64 {
        guard !FileManager.default.fileExists(atPath: path) else { throw .io("snapshot target \(path) exists") }
        try commitPending()
        do {
            try db.vacuum(into: path)
        } catch {
            throw StoreError(error)
        }
        try Self.fsync(path: path)
        try Self.fsync(path: Self.directory(of: path))
        return appliedIndex
    }

    /// Checks a snapshot file without changing anything: integrity, schema version and a
    /// readable applied index. Returns that index.
    public static func validateSnapshot(at path: String) throws(StoreError) -> UInt64 {
        guard FileManager.default.fileExists(atPath: path) else { throw .invalidSnapshot("\(path) does not exist") }
        do {
            let connection = try Connection(path: path, options: .init(readOnly: true, create: false, wal: false))
            defer { connection.close() }
            if let problem = try connection.integrityProblem() { throw StoreError.invalidSnapshot("integrity_check: \(problem)") }
            let tables = try connection.scalarInt("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'") ?? 0
            guard tables == 1 else { throw StoreError.invalidSnapshot("no meta table") }
            let version = try connection.scalarInt("SELECT schema_version FROM meta WHERE id = 1") ?? -1
            // An older version is upgraded when the restored file is opened.
            guard version == schemaVersion || migrations[version] != nil else {
                throw StoreError.schemaMismatch(found: version, expected: schemaVersion)
            }
            return try readApplied(connection).0
        } catch let error as SQLiteError {
            throw .invalidSnapshot(error.description)
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// Replaces this store's content with a snapshot: validate, copy aside, fsync, close,
    /// drop the old WAL, rename over the live file, fsync the directory, reopen. A crash at any
    /// point leaves either the old store or the new one. No other connection may be open on
    /// the store's file.
    public func restore(from snapshotPath: String) throws(StoreError) {
        guard path != ":memory:" else { throw .unsupported("restore into an in-memory store") }
        _ = try Self.validateSnapshot(at: snapshotPath)
        let aside = path + ".restoring"
        do {
            try? FileManager.default.removeItem(atPath: aside)
            try FileManager.default.copyItem(atPath: snapshotPath, toPath: aside)
        } catch {
            throw .io("copy \(snapshotPath) to \(aside): \(error)")
        }
        try Self.fsync(path: aside)
        try commitPending()
        // With no background checkpointer connected: its connection must not outlive the
        // files replaced below.
        try withoutBackgroundCheckpoints { () throws(StoreError) in
            // Fold the WAL into the old file, so deleting it below loses nothing of the old store
            // if we crash before the rename; after the rename a stale WAL must not exist.
            do throws(SQLiteError) {
                try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            } catch {
                throw StoreError(error)
            }
            db.close()
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let renamed = rename(aside, path)
            let renameError = errno
            try Self.fsync(path: Self.directory(of: path))
            db = try Self.open(path: path, synchronous: synchronous)
            if checkpointer != nil {
                do throws(SQLiteError) {
                    try db.execute("PRAGMA wal_autocheckpoint=0")
                } catch {
                    throw StoreError(error)
                }
            }
            (appliedIndex, appliedTerm) = try Self.readApplied(db)
            guard renamed == 0 else { throw .io("rename \(aside) → \(path): errno \(renameError)") }
        }
    }

    static func directory(of path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : directory
    }

    /// fsync a file or a directory by path.
    static func fsync(path: String) throws(StoreError) {
        let failure = fsyncPath(path)
        if let failure { throw .io(failure) }
    }
}

/// A free function, so `open`/`close` are the POSIX calls and not `StateStore` methods.
private func fsyncPath(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "open \(path) for fsync: errno \(errno)" }
    defer { close(fd) }
    guard fsync(fd) == 0 else { return "fsync \(path): errno \(errno)" }
    return nil
}
