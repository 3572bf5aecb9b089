// The in-memory twin of the SQLite log: same contract and validation, no I/O. Used by tests and
// by the deterministic simulator as a node's "disk" (it survives a simulated crash because the
// simulator keeps the object and only throws away the RaftNode).

/// `LogStorage` kept in memory. Every mutating call validates first and then applies all of its
/// changes, so a rejected call leaves the store untouched (the analogue of a rolled-back
/// transaction). Not thread-safe: one owner at a time, like a SQLite connection.
///
/// Same rules as `SQLiteLogStorage`: entries start inside or right after the log, above the
/// snapshot, contiguous; terms never decrease; commit stays within the stored log; an older
/// snapshot is ignored. One difference, on purpose: where the SQLite log traps on a caller bug
/// (a gap, entries under the snapshot), this twin throws `.corrupt`, so the simulator can report
/// the seed that made the core hand out such a batch instead of dying.
public final class MemoryLogStorage: LogStorage {
    public private(set) var hardState: HardState
    /// The snapshot the log starts after, if any.
    public private(set) var snapshot: SnapshotMetadata?
    /// Entries after the snapshot, contiguous and ascending.
    public private(set) var entries: [Entry]

    /// Fault injection: when set, the next mutating call (`save`, `applySnapshot`, `compact`)
    /// throws `.io` without changing anything, then the flag clears itself (like one failed fsync).
    public var failNextWrite = false
    /// Number of successful mutating calls, for tests that count syncs.
    public private(set) var writeCount = 0

    public init(_ state: PersistentState = PersistentState()) {
        self.hardState = state.hardState
        self.snapshot = state.snapshot
        self.entries = state.entries
    }

    /// Index of the snapshot the log starts after (zero when there is none).
    public var snapshotIndex: LogIndex { snapshot?.index ?? .zero }

    /// The last index covered by the log or the snapshot.
    public var lastIndex: LogIndex { entries.last?.index ?? snapshotIndex }

    /// The term of the entry at `index`: the snapshot's term at its own index, nil when the index
    /// is compacted away (below the snapshot) or beyond the log.
    public func term(at index: LogIndex) -> Term? {
        if index == .zero { return .zero }
        if let snapshot, index == snapshot.index { return snapshot.term }
        return entry(at: index)?.term
    }

    /// The stored entry at `index`, if it is in the log (not compacted, not beyond the end).
    public func entry(at index: LogIndex) -> Entry? {
        guard let first = entries.first, index >= first.index, index <= lastIndex else { return nil }
        return entries[Int(index.rawValue - first.index.rawValue)]
    }

    public func load() throws(LogStorageError) -> PersistentState {
        try Self.validate(snapshot: snapshot, entries: entries, hardState: hardState)
        return PersistentState(hardState: hardState, snapshot: snapshot, entries: entries)
    }

    public func save(hardState newHardState: HardState?, entries newEntries: [Entry]) throws(LogStorageError) {
        guard newHardState != nil || !newEntries.isEmpty else { return }
        try consumeInjectedFailure("save")
        var log = entries
        if let first = newEntries.first {
            guard first.index > snapshotIndex else {
                throw .corrupt("entries start at \(first.index), inside the snapshot up to \(snapshotIndex)")
            }
            guard first.index <= lastIndex.next else {
                throw .corrupt("entries start at \(first.index), leaving a gap after \(lastIndex)")
            }
            // Suffix overwrite: drop every stored entry at or after the first new index.
            if let head = log.first { log.removeLast(log.count - Int(first.index.rawValue - head.index.rawValue)) }
            log.append(contentsOf: newEntries)
        }
        let state = newHardState ?? hardState
        try Self.validate(snapshot: snapshot, entries: log, hardState: state)
        entries = log
        hardState = state
        writeCount += 1
    }

    public func applySnapshot(_ metadata: SnapshotMetadata) throws(LogStorageError) {
        try consumeInjectedFailure("applySnapshot")
        // An older snapshot than the one recorded adds nothing (a re-delivered install).
        guard metadata.index >= snapshotIndex else { return }
        if term(at: metadata.index) == metadata.term {
            entries.removeFirst(entries.prefix { $0.index <= metadata.index }.count)
        } else {
            // The log does not contain the snapshot's last entry: none of it can be trusted.
            entries.removeAll()
        }
        snapshot = metadata
        writeCount += 1
    }

    public func compact(upTo index: LogIndex) throws(LogStorageError) {
        try consumeInjectedFailure("compact")
        guard index <= snapshotIndex else {
            throw .corrupt("cannot compact up to \(index): the snapshot only covers up to \(snapshotIndex)")
        }
        entries.removeFirst(entries.prefix { $0.index <= index }.count)
        writeCount += 1
    }

    private func consumeInjectedFailure(_ operation: String) throws(LogStorageError) {
        if failNextWrite {
            failNextWrite = false
            throw .io("injected failure in \(operation)")
        }
    }
}

extension MemoryLogStorage {
    /// The structural invariants every store keeps: entries contiguous right after the snapshot,
    /// terms never decreasing (a Raft log property), commit within what is stored.
    static func validate(snapshot: SnapshotMetadata?, entries: [Entry], hardState: HardState) throws(LogStorageError) {
        var previousIndex = snapshot?.index ?? .zero
        var previousTerm = snapshot?.term ?? .zero
        for entry in entries {
            guard entry.index == previousIndex.next else {
                throw .corrupt("entry \(entry.index) follows \(previousIndex): indexes must be contiguous")
            }
            guard entry.term >= previousTerm else {
                throw .corrupt("entry \(entry.index) has term \(entry.term) below the previous term \(previousTerm)")
            }
            previousIndex = entry.index
            previousTerm = entry.term
        }
        guard hardState.commit <= previousIndex else {
            throw .corrupt("commit \(hardState.commit) is beyond the last stored index \(previousIndex)")
        }
    }
}
