// The durable Raft log: one SQLite database file per node, WAL mode, synchronous=FULL, one
// transaction (so one WAL fsync) per `save`, except a save of a commit index alone (no fsync).
// Schema and creation in +Schema, load-time validation in +Load, row checksums in +Checksum.

import SQLite

/// `LogStorage` over SQLite.
///
/// Not `Sendable` and not thread-safe: the node's single storage owner (one thread or actor)
/// creates it and makes every call; the SQLite connection inside is confined to that owner.
///
/// Fail-stop: the first error of any call (I/O, corruption, a failed commit or fsync) is
/// remembered and every later call throws it again. A failed fsync may have dropped dirty pages
/// that a retry would then report as written (PostgreSQL's "fsyncgate"), so the only safe
/// continuation is to stop, restart and recover from what `load()` can prove.
public final class SQLiteLogStorage: LogStorage {
    public struct Options: Sendable {
        /// Caps the database at this many pages (`PRAGMA max_page_count`); a write beyond it
        /// fails with SQLITE_FULL like a full disk. nil keeps SQLite's default.
        public var maxPageCount: Int?

        public init(maxPageCount: Int? = nil) {
            self.maxPageCount = maxPageCount
        }
    }

    public let path: String
    /// The node this log belongs to, when it was recorded at creation.
    public private(set) var nodeID: NodeID?
    /// The error that stopped this instance; every call throws it once set.
    public private(set) var failure: LogStorageError?

    let connection: Connection
    private var isClosed = false
    /// Cached bounds of the stored log, for the caller-invariant checks in `save`.
    private(set) var snapshotIndex: LogIndex = .zero
    private(set) var lastIndex: LogIndex = .zero
    /// Term and vote as last written with an fsync (nil: not known yet).
    private var syncedTermAndVote: (term: Term, vote: NodeID?)?
    /// Saves written without an fsync (a commit index alone), for tests.
    private(set) var unsyncedSaves = 0

    /// Opens the log at `path`, creating an empty one if no file exists there. `nodeID`, when
    /// given, is recorded in a new file and must match the one recorded in an existing file.
    public init(path: String, nodeID: NodeID? = nil, options: Options = Options()) throws(LogStorageError) {
        self.path = path
        if Self.fileExists(path) {
            try Self.checkHeader(path)
        } else {
            try Self.create(at: path, nodeID: nodeID)
        }
        connection = try Self.sqlite("open \(path)") { () throws(SQLiteError) in
            // Exclusive: the log has exactly one user, this driver's connection. Per-transaction
            // fcntl locking was 7% of a follower's driver thread at one client; a second
            // process opening the same data directory now fails at once instead of sharing it.
            try Connection(path: path, options: .init(create: false, wal: true, synchronous: .full, exclusive: true))
        }
        if let pages = options.maxPageCount {
            try Self.sqlite("set max_page_count") { () throws(SQLiteError) in
                _ = try connection.scalarInt("PRAGMA max_page_count=\(pages)")
            }
        }
        let stored = try checkFormat()
        if let nodeID, let stored, nodeID != stored {
            throw .corrupt("\(path) belongs to node \(stored), opened as node \(nodeID)")
        }
        self.nodeID = stored ?? nodeID
        (snapshotIndex, lastIndex) = try readBounds()
    }

    /// Closes the database. Every later call throws `.io`.
    public func close() {
        connection.close()
        isClosed = true
    }

    public func load() throws(LogStorageError) -> PersistentState {
        try guarded { () throws(LogStorageError) in
            let state = try validatedState()
            syncedTermAndVote = (state.hardState.term, state.hardState.vote)
            snapshotIndex = state.snapshot?.index ?? .zero
            lastIndex = state.entries.last?.index ?? snapshotIndex
            return state
        }
    }

    public func save(hardState: HardState?, entries: [Entry]) throws(LogStorageError) {
        try guarded { () throws(LogStorageError) in
            guard hardState != nil || !entries.isEmpty else { return }
            if let first = entries.first { try checkAppendable(entries, first: first) }
            // Only the commit index moved: written without an fsync, as etcd's WAL does
            // (`raft.MustSync`). Losing it to an OS crash only makes the node re-learn a commit
            // index from the leader; term, vote and entries are always synced, and the next
            // synced write carries this one's frames with it. The leader saves a commit advance
            // after each round it answers; synced, that fsync delayed the next proposal.
            let commitOnly = entries.isEmpty && hardState.map { state in
                syncedTermAndVote.map { $0.term == state.term && $0.vote == state.vote } ?? false
            } ?? false
            // No checkpoint either while unsynced: one would copy frames into the database file
            // without syncing it, and a later WAL restart could then overwrite them.
            if commitOnly {
                try Self.sqlite("relax sync") { () throws(SQLiteError) in
                    try connection.execute("PRAGMA synchronous=OFF; PRAGMA wal_autocheckpoint=0")
                }
            }
            var failed: LogStorageError?
            do throws(LogStorageError) {
                try write(hardState, entries)
            } catch {
                failed = error
            }
            if commitOnly {
                try Self.sqlite("restore sync") { () throws(SQLiteError) in
                    try connection.execute("PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=\(Self.autoCheckpointPages)")
                }
            }
            if let failed { throw failed }
            if commitOnly { unsyncedSaves += 1 }
            if let hardState, !commitOnly { syncedTermAndVote = (hardState.term, hardState.vote) }
            if let last = entries.last { lastIndex = last.index }
        }
    }

    /// SQLite's default, which this connection otherwise keeps.
    static let autoCheckpointPages = 1000

    private func write(_ hardState: HardState?, _ entries: [Entry]) throws(LogStorageError) {
        try transaction("save") { () throws(SQLiteError) in
            if let first = entries.first {
                try connection.run("DELETE FROM entries WHERE log_index >= ?", [.integer(Int64(first.index.rawValue))])
                let insert = try connection.cached(
                    "INSERT INTO entries(log_index, term, kind, data, crc) VALUES (?, ?, ?, ?, ?)")
                for entry in entries { try insertEntry(entry, with: insert) }
            }
            if let hardState { try writeHardState(hardState) }
        }
    }

    public func applySnapshot(_ metadata: SnapshotMetadata) throws(LogStorageError) {
        try guarded { () throws(LogStorageError) in
            // An older snapshot than the one recorded adds nothing (a re-delivered install).
            guard metadata.index >= snapshotIndex else { return }
            try Self.checkFitsSQLite(metadata.index)
            var keepsSuffix = false
            try transaction("apply snapshot") { () throws(SQLiteError) in
                let index = Int64(metadata.index.rawValue)
                let term = try connection.scalarInt("SELECT term FROM entries WHERE log_index = ?", [.integer(index)])
                keepsSuffix = term.map { UInt64(bitPattern: $0) } == metadata.term.rawValue
                if keepsSuffix {
                    // At most `trimChunk` rows now: deleting 200,000 rows took the driver thread
                    // 100-250 ms. The rest goes in `trimCompacted` steps; until then `load` skips
                    // rows the snapshot covers.
                    _ = try deleteCovered(upTo: index, atMost: Self.trimChunk)
                } else {
                    try connection.run("DELETE FROM entries")
                }
                try writeSnapshot(metadata)
            }
            snapshotIndex = metadata.index
            lastIndex = keepsSuffix ? max(lastIndex, metadata.index) : metadata.index
        }
    }

    /// Rows `applySnapshot` deletes at once; the rest are left to `trimCompacted` (the node
    /// trims this many per 10 ms tick). Deleting 8,192 rows of ~350 bytes took 8-19 ms, 1,024
    /// took ~1.2 ms: the driver thread stalls a millisecond a tick instead of 10-20 ms.
    public static let trimChunk = 1_024

    public func trimCompacted(maxEntries: Int) throws(LogStorageError) -> Bool {
        try guarded { () throws(LogStorageError) -> Bool in
            let covered = Int64(snapshotIndex.rawValue)
            var remaining = false
            try transaction("trim compacted entries") { () throws(SQLiteError) in
                remaining = try deleteCovered(upTo: covered, atMost: maxEntries)
            }
            return remaining
        }
    }

    /// Deletes the lowest stored entries at or below `covered`, at most `atMost` of them (inside
    /// the caller's transaction); true when some at or below `covered` remain.
    private func deleteCovered(upTo covered: Int64, atMost: Int) throws(SQLiteError) -> Bool {
        guard let lowest = try connection.scalarInt("SELECT min(log_index) FROM entries"), lowest <= covered else { return false }
        let upTo = min(covered, lowest + Int64(max(1, atMost)) - 1)
        try connection.run("DELETE FROM entries WHERE log_index <= ?", [.integer(upTo)])
        return upTo < covered
    }

    /// `applySnapshot` drops the entries it covers (some of them later, see `trimCompacted`);
    /// this exists for hosts that compact separately and is checked against the snapshot.
    public func compact(upTo index: LogIndex) throws(LogStorageError) {
        try guarded { () throws(LogStorageError) in
            guard index <= snapshotIndex else {
                throw .corrupt("cannot compact up to \(index): the snapshot only covers up to \(snapshotIndex)")
            }
            try transaction("compact") { () throws(SQLiteError) in
                try connection.run("DELETE FROM entries WHERE log_index <= ?", [.integer(Int64(index.rawValue))])
            }
        }
    }

    // MARK: - Writing

    /// Entries from the core are contiguous, fit in SQLite's signed integers and start inside
    /// or right after the stored log (never leaving a gap or reaching under the snapshot).
    /// A violation is a core bug; like the in-memory twin, it is reported as `.corrupt` (and
    /// stops this instance) rather than trapping, so a simulator can name the seed.
    private func checkAppendable(_ entries: [Entry], first: Entry) throws(LogStorageError) {
        guard first.index > snapshotIndex else {
            throw .corrupt("entries start at \(first.index), inside the snapshot up to \(snapshotIndex)")
        }
        guard first.index <= lastIndex.next else {
            throw .corrupt("entries start at \(first.index), leaving a gap after \(lastIndex)")
        }
        for (offset, entry) in entries.enumerated() where entry.index != first.index + UInt64(offset) {
            throw .corrupt("entry \(entry.index) at position \(offset) of a batch starting at \(first.index): not contiguous")
        }
        try Self.checkFitsSQLite(entries[entries.count - 1].index)
    }

    private static func checkFitsSQLite(_ index: LogIndex) throws(LogStorageError) {
        guard index.rawValue <= UInt64(Int64.max) else { throw .corrupt("log index \(index) does not fit SQLite's INTEGER") }
    }

    private func insertEntry(_ entry: Entry, with insert: Statement) throws(SQLiteError) {
        let crc = RowChecksum.entry(
            index: entry.index.rawValue, term: entry.term.rawValue, kind: entry.kind.rawValue, data: entry.data)
        insert.reset()
        try insert.bind(.integer(Int64(entry.index.rawValue)), at: 1)
        try insert.bind(.integer(Int64(bitPattern: entry.term.rawValue)), at: 2)
        try insert.bind(.integer(Int64(entry.kind.rawValue)), at: 3)
        try insert.bind(.blob(entry.data), at: 4)
        try insert.bind(.integer(Int64(crc)), at: 5)
        while try insert.step() {}
    }

    private func writeHardState(_ hardState: HardState) throws(SQLiteError) {
        let term = hardState.term.rawValue
        let vote = hardState.vote?.rawValue ?? 0
        let commit = hardState.commit.rawValue
        let crc = RowChecksum.hardState(term: term, vote: vote, commit: commit)
        // INSERT OR REPLACE rather than UPDATE: a missing row must not make the write a no-op.
        try connection.run(
            "INSERT OR REPLACE INTO hard_state(id, term, vote, commit_index, crc) VALUES (1, ?, ?, ?, ?)",
            [.integer(Int64(bitPattern: term)), .integer(Int64(bitPattern: vote)),
             .integer(Int64(bitPattern: commit)), .integer(Int64(crc))])
    }

    private func writeSnapshot(_ metadata: SnapshotMetadata) throws(SQLiteError) {
        let configuration = metadata.configuration.encoded
        let crc = RowChecksum.snapshot(
            index: metadata.index.rawValue, term: metadata.term.rawValue, configuration: configuration)
        try connection.run(
            "INSERT OR REPLACE INTO snapshot(id, log_index, term, configuration, crc) VALUES (1, ?, ?, ?, ?)",
            [.integer(Int64(metadata.index.rawValue)), .integer(Int64(bitPattern: metadata.term.rawValue)),
             .blob(configuration), .integer(Int64(crc))])
    }

    // MARK: - Failure handling

    /// Runs `body` unless this instance has stopped; any error stops it for good.
    private func guarded<T>(_ body: () throws(LogStorageError) -> T) throws(LogStorageError) -> T {
        if let failure { throw failure }
        guard !isClosed else { throw .io("\(path) is closed") }
        do {
            return try body()
        } catch {
            failure = error
            throw error
        }
    }

    /// One write transaction. On any error it rolls back what it can and reports the error;
    /// `guarded` then stops the instance (no retry).
    private func transaction(_ what: String, _ body: () throws(SQLiteError) -> Void) throws(LogStorageError) {
        do throws(SQLiteError) {
            try connection.run("BEGIN IMMEDIATE")
            try body()
            try connection.run("COMMIT")
        } catch {
            _ = try? connection.run("ROLLBACK")
            throw Self.map(error, what)
        }
    }

    /// Runs SQLite calls, turning their errors into storage errors.
    static func sqlite<T>(_ what: String, _ body: () throws(SQLiteError) -> T) throws(LogStorageError) -> T {
        do {
            return try body()
        } catch {
            throw map(error, what)
        }
    }

    static func map(_ error: SQLiteError, _ what: String) -> LogStorageError {
        error.isCorrupt
            ? .corrupt("\(what): SQLite reports \(error.message) (code \(error.code))")
            : .io("\(what): \(error.description)")
    }
}
