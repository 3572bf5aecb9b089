// Schema, creation and the checks made when a file is opened.
//
// A new file is built under a temporary name in rollback-journal mode (each commit synced),
// then renamed into place and the directory synced. So a file at `path` is either absent (a
// fresh node) or fully initialised; an empty, schema-less or non-SQLite file there is corrupt,
// never mistaken for a fresh node.

import SQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SQLiteLogStorage {
    /// The on-disk format this build writes and reads.
    public static let formatVersion: Int64 = 1

    // STRICT tables: SQLite itself refuses a value of the wrong type. Unsigned 64-bit values
    // are stored by bit pattern. `vote` 0 means no vote.
    static let schema = """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
        CREATE TABLE hard_state(
            id INTEGER PRIMARY KEY CHECK (id = 1),
            term INTEGER NOT NULL, vote INTEGER NOT NULL, commit_index INTEGER NOT NULL,
            crc INTEGER NOT NULL) STRICT;
        CREATE TABLE entries(
            log_index INTEGER PRIMARY KEY, term INTEGER NOT NULL, kind INTEGER NOT NULL,
            data BLOB NOT NULL, crc INTEGER NOT NULL) STRICT;
        CREATE TABLE snapshot(
            id INTEGER PRIMARY KEY CHECK (id = 1),
            log_index INTEGER NOT NULL, term INTEGER NOT NULL, configuration BLOB NOT NULL,
            crc INTEGER NOT NULL) STRICT;
        """

    static let tableNames = ["meta", "hard_state", "entries", "snapshot"]

    /// Creates an initialised database at `path` atomically (temp file, sync, rename, sync dir).
    static func create(at path: String, nodeID: NodeID?) throws(LogStorageError) {
        let temporary = path + ".creating"
        for leftover in [temporary, temporary + "-journal", temporary + "-wal", temporary + "-shm"] {
            unlink(leftover)  // a crash during an earlier creation; ENOENT is the usual result
        }
        try sqlite("create \(temporary)") { () throws(SQLiteError) in
            let connection = try Connection(
                path: temporary, options: .init(create: true, wal: false, synchronous: .full))
            defer { connection.close() }
            try connection.execute("BEGIN IMMEDIATE")
            try connection.execute(schema)
            try connection.run("INSERT INTO meta(key, value) VALUES ('format_version', ?)", [.integer(formatVersion)])
            if let nodeID {
                try connection.run(
                    "INSERT INTO meta(key, value) VALUES ('node_id', ?)", [.integer(Int64(bitPattern: nodeID.rawValue))])
            }
            let crc = RowChecksum.hardState(term: 0, vote: 0, commit: 0)
            try connection.run(
                "INSERT INTO hard_state(id, term, vote, commit_index, crc) VALUES (1, 0, 0, 0, ?)", [.integer(Int64(crc))])
            try connection.execute("COMMIT")
        }
        guard rename(temporary, path) == 0 else { throw .io("rename \(temporary) to \(path): \(errnoText())") }
        try syncDirectory(of: path)
    }

    /// Makes a rename in the directory of `path` durable.
    static func syncDirectory(of path: String) throws(LogStorageError) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY)
        guard fd >= 0 else { throw .io("open directory \(directory): \(errnoText())") }
        defer { closeDescriptor(fd) }
        guard fsync(fd) == 0 else { throw .io("fsync directory \(directory): \(errnoText())") }
    }

    static func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Rejects an empty or non-SQLite file before SQLite sees it, with a clear message.
    static func checkHeader(_ path: String) throws(LogStorageError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io("open \(path): \(errnoText())") }
        defer { closeDescriptor(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let count = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        guard count >= 0 else { throw .io("read \(path): \(errnoText())") }
        guard count > 0 else { throw .corrupt("\(path) is empty (0 bytes): not an initialised log") }
        let magic = Array("SQLite format 3".utf8) + [0]
        guard count == 16, header == magic else {
            throw .corrupt("\(path) is not a SQLite database (bad 16-byte header, \(count) bytes read)")
        }
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// `close(2)`, named apart from `SQLiteLogStorage.close()`.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
