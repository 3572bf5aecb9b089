// Durable Raft state behind a protocol. Frozen contract (see Core/Types.swift).

/// Errors of durable storage. Any of them means the node must stop voting and appending
/// (fail-stop); a corrupt store is never silently treated as empty.
public enum LogStorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database is unreadable, truncated, fails its checksums or breaks an invariant
    /// (gap in indexes, unknown format version). Carries what was found and where.
    case corrupt(String)
    /// An I/O or SQLite failure while reading or writing (disk full, EIO, fsync failure).
    case io(String)
    /// The store was written by an unknown format version.
    case unsupportedVersion(Int)

    public var description: String {
        switch self {
        case .corrupt(let what): "raft log storage is corrupt: \(what)"
        case .io(let what): "raft log storage I/O error: \(what)"
        case .unsupportedVersion(let v): "raft log storage format version \(v) is not supported"
        }
    }
}

/// Durable storage of term, vote, commit, the log and the snapshot metadata.
///
/// Contract: `save` is atomic and durable when it returns (one transaction, synced): after a
/// crash either all of it is visible or none of it is. Entries passed to `save` may start at or
/// below the current last index; every stored entry at or after `entries.first.index` is
/// replaced.
public protocol LogStorage: AnyObject {
    /// Recovers everything stored. Throws `.corrupt` rather than return a partial log.
    func load() throws(LogStorageError) -> PersistentState

    /// Persists one batch of effects: optional new hard state and entries (a suffix), in one sync.
    func save(hardState: HardState?, entries: [Entry]) throws(LogStorageError)

    /// Records that a snapshot now covers the log up to `metadata.index`, dropping entries at or
    /// below it (and all entries, if the log does not contain `metadata.index` with that term).
    func applySnapshot(_ metadata: SnapshotMetadata) throws(LogStorageError)

    /// Drops entries at or below `index` (which must be covered by a saved snapshot).
    func compact(upTo index: LogIndex) throws(LogStorageError)

    /// Deletes up to `maxEntries` of the entries a snapshot covers that `applySnapshot` left in
    /// place (it drops a bounded number at once); true while some remain. The host calls it when
    /// idle, so a large compaction never stalls it in one go.
    func trimCompacted(maxEntries: Int) throws(LogStorageError) -> Bool
}

extension LogStorage {
    /// Storage whose `applySnapshot` drops everything at once has nothing left to trim.
    public func trimCompacted(maxEntries: Int) throws(LogStorageError) -> Bool { false }
}
