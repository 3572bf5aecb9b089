// Recovery: everything `load()` proves before it returns a state. Any doubt is `.corrupt` with
// what and where; a partial or empty log is never returned in place of a damaged one.

import SQLite

extension SQLiteLogStorage {
    /// Checks the schema's tables and format version; returns the recorded node id, if any.
    func checkFormat() throws(LogStorageError) -> NodeID? {
        let tables = try Self.sqlite("list tables") { () throws(SQLiteError) in
            var names: Set<String> = []
            let statement = try connection.cached("SELECT name FROM sqlite_master WHERE type = 'table'")
            defer { statement.reset() }
            while try statement.step() { names.insert(statement.text(0)) }
            return names
        }
        // The version decides what the rest should look like, so it is read first.
        guard tables.contains("meta") else { throw .corrupt("\(path) has no meta table (not a Raft log)") }
        let (version, node) = try Self.sqlite("read meta") { () throws(SQLiteError) in
            (try connection.scalarInt("SELECT value FROM meta WHERE key = 'format_version'"),
             try connection.scalarInt("SELECT value FROM meta WHERE key = 'node_id'"))
        }
        guard let version else { throw .corrupt("\(path): meta has no format_version") }
        guard version == Self.formatVersion else {
            throw .unsupportedVersion(Int(truncatingIfNeeded: version))
        }
        let missing = Self.tableNames.filter { !tables.contains($0) }
        guard missing.isEmpty else { throw .corrupt("\(path): missing tables \(missing)") }
        guard let node else { return nil }
        guard node != 0 else { throw .corrupt("\(path): meta node_id is 0") }
        return NodeID(UInt64(bitPattern: node))
    }

    /// The snapshot index and last index as stored (unvalidated; `load` validates).
    func readBounds() throws(LogStorageError) -> (LogIndex, LogIndex) {
        try Self.sqlite("read log bounds") { () throws(SQLiteError) in
            let snapshot = UInt64(bitPattern: try connection.scalarInt("SELECT log_index FROM snapshot WHERE id = 1") ?? 0)
            let last = UInt64(bitPattern: try connection.scalarInt("SELECT max(log_index) FROM entries") ?? 0)
            return (LogIndex(snapshot), LogIndex(max(snapshot, last)))
        }
    }

    func validatedState() throws(LogStorageError) -> PersistentState {
        _ = try checkFormat()
        let problem = try Self.sqlite("quick_check") { () throws(SQLiteError) in
            try connection.scalarText("PRAGMA quick_check")
        }
        guard problem == "ok" else { throw .corrupt("\(path): quick_check reports \(problem ?? "nothing")") }
        let hardState = try readHardState()
        let snapshot = try readSnapshot()
        let entries = try readEntries(after: snapshot)
        let lastIndex = entries.last?.index ?? snapshot?.index ?? .zero
        guard hardState.commit <= lastIndex else {
            throw .corrupt("\(path): commit index \(hardState.commit) is beyond the last index \(lastIndex)")
        }
        return PersistentState(hardState: hardState, snapshot: snapshot, entries: entries)
    }

    private func readHardState() throws(LogStorageError) -> HardState {
        let row = try Self.sqlite("read hard state") { () throws(SQLiteError) -> [UInt64]? in
            let statement = try connection.cached("SELECT term, vote, commit_index, crc FROM hard_state WHERE id = 1")
            defer { statement.reset() }
            guard try statement.step() else { return nil }
            return (0..<4).map { UInt64(bitPattern: statement.int64(Int32($0))) }
        }
        guard let row else { throw .corrupt("\(path): the hard_state row is missing") }
        let (term, vote, commit, crc) = (row[0], row[1], row[2], row[3])
        let expected = RowChecksum.hardState(term: term, vote: vote, commit: commit)
        guard crc == UInt64(expected) else {
            throw .corrupt("\(path): hard_state checksum mismatch (stored \(crc), computed \(expected))")
        }
        return HardState(term: Term(term), vote: vote == 0 ? nil : NodeID(vote), commit: LogIndex(commit))
    }

    private func readSnapshot() throws(LogStorageError) -> SnapshotMetadata? {
        let row = try Self.sqlite("read snapshot") { () throws(SQLiteError) -> (UInt64, UInt64, [UInt8], UInt64)? in
            let statement = try connection.cached("SELECT log_index, term, configuration, crc FROM snapshot WHERE id = 1")
            defer { statement.reset() }
            guard try statement.step() else { return nil }
            return (UInt64(bitPattern: statement.int64(0)), UInt64(bitPattern: statement.int64(1)),
                    statement.blob(2), UInt64(bitPattern: statement.int64(3)))
        }
        guard let (index, term, bytes, crc) = row else { return nil }
        let expected = RowChecksum.snapshot(index: index, term: term, configuration: bytes)
        guard crc == UInt64(expected) else {
            throw .corrupt("\(path): snapshot row checksum mismatch (stored \(crc), computed \(expected))")
        }
        let configuration: Configuration
        do {
            configuration = try Configuration.decode(bytes)
        } catch {
            throw .corrupt("\(path): snapshot configuration does not decode: \(error)")
        }
        return SnapshotMetadata(index: LogIndex(index), term: Term(term), configuration: configuration)
    }

    /// One ordered scan of the entries table with a cached statement, checking every row.
    private func readEntries(after snapshot: SnapshotMetadata?) throws(LogStorageError) -> [Entry] {
        let statement = try Self.sqlite("read entries") { () throws(SQLiteError) in
            try connection.cached("SELECT log_index, term, kind, data, crc FROM entries ORDER BY log_index")
        }
        defer { statement.reset() }
        var entries: [Entry] = []
        var expectedIndex = (snapshot?.index ?? .zero).next
        var previousTerm = snapshot?.term ?? .zero
        while try Self.sqlite("read entries", { () throws(SQLiteError) in try statement.step() }) {
            let index = UInt64(bitPattern: statement.int64(0))
            // Covered by the snapshot and not yet trimmed (`trimCompacted`): not part of the log.
            if let snapshot, index <= snapshot.index.rawValue { continue }
            let term = UInt64(bitPattern: statement.int64(1))
            let rawKind = statement.int64(2)
            let data = statement.blob(3)
            let crc = UInt64(bitPattern: statement.int64(4))
            let where_ = "\(path): entry at index \(index) (row \(entries.count + 1) of the scan)"
            guard (0...255).contains(rawKind) else { throw .corrupt("\(where_): kind \(rawKind) out of range") }
            let expected = RowChecksum.entry(index: index, term: term, kind: UInt8(rawKind), data: data)
            guard crc == UInt64(expected) else {
                throw .corrupt("\(where_): checksum mismatch (stored \(crc), computed \(expected))")
            }
            guard let kind = EntryKind(rawValue: UInt8(rawKind)) else {
                throw .corrupt("\(where_): unknown entry kind \(rawKind)")
            }
            guard index == expectedIndex.rawValue else {
                throw .corrupt("\(where_): expected index \(expectedIndex.rawValue) (gap or overlap with the snapshot)")
            }
            guard Term(term) >= previousTerm else {
                throw .corrupt("\(where_): term \(term) is below the previous term \(previousTerm.rawValue)")
            }
            entries.append(Entry(term: Term(term), index: LogIndex(index), kind: kind, data: data))
            expectedIndex = expectedIndex.next
            previousTerm = Term(term)
        }
        return entries
    }
}
