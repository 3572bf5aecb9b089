// The durable Raft log: one SQLite database file per node, WAL mode, synchronous=FULL, one
// transaction (so one WAL fsync) per `save` of entries, term or vote; the commit index is written
// only with a new term or vote, or at `close`.
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
    /// The hard state last saved, when only its commit index moved since the last write (see `save`).
    private(set) var deferredHardState: HardState?
    /// Saves whose hard state moved only the commit index (not written), for tests.
    private(set) var deferredSaves = 0

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

    /// Closes the database, writing a deferred commit index first (a clean stop keeps it).
    /// Every later call throws `.io`.
    public func close() {
        if let deferred = deferredHardState, failure == nil, !isClosed {
            // Best effort: the commit index is re-learned from the leader if this fails.
            try? write(deferred, [])
            deferredHardState = nil
        }
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
            // A hard state whose commit index alone moved is not written: it waits for the next
            // change of term or vote, or `close`. etcd writes it but syncs it only with entries,
            // term or vote (`raft.MustSync`); after a crash the node re-learns it from the leader
            // either way. Writing it cost every node a SQLite transaction per round of commits,
            // and a second WAL page in every batch of entries.
            let termOrVoteMoved = hardState.map { state in
                syncedTermAndVote.map { $0.term != state.term || $0.vote != state.vote } ?? true
            } ?? false
            if !termOrVoteMoved {
                if let hardState {
                    deferredHardState = hardState
                    deferredSaves += 1
                }
                if !entries.isEmpty { try write(nil, entries) }
            } else {
                try write(hardState, entries)
                deferredHardState = nil
                if let hardState { syncedTermAndVote = (hardState.term, hardState.vote) }
            }
            if let last = entries.last { lastIndex = last.index }
        }
    }

    private func write(_ hardState: HardState?, _ entries: [Entry]) throws(LogStorageError) {
        try transaction("save") { () throws(SQLiteError) in
            if let first = entries.first {
                // Overwriting a suffix (a new leader's entries): the old ones go first.
                if first.index <= lastIndex {
                    try connection.run("DELETE FROM entries WHERE log_index >= ?", [.integer(Int64(first.index.rawValue))])
                }
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
