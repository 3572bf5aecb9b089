import Foundation
import Raft
import SQLite
import Testing

/// A unique temporary directory per test, removed at the end (also on failure).
private final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("raftlog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String = "raft.db") -> String { url.appendingPathComponent(name).path }
}

private func entries(_ range: ClosedRange<UInt64>, term: UInt64, bytes: Int = 10) -> [Entry] {
    range.map { Entry(term: Term(term), index: LogIndex($0), data: Array(repeating: UInt8(truncatingIfNeeded: $0), count: bytes)) }
}

/// A seeded generator (SplitMix64) so a failing model run replays exactly.
private struct StorageTestRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private let threeNodes = Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)], learners: [NodeID(4)])

/// Expects `.corrupt` mentioning `problem` from opening and loading `path`, whichever notices first.
private func expectCorrupt(_ path: String, _ problem: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let storage = try SQLiteLogStorage(path: path)
        let state = try storage.load()
        Issue.record("expected .corrupt, loaded \(state.entries.count) entries", sourceLocation: sourceLocation)
    } catch {
        // Both calls throw only LogStorageError (typed throws).
        guard case .corrupt(let what) = error, what.contains(problem) else {
            Issue.record("expected .corrupt mentioning \"\(problem)\", got \(error)", sourceLocation: sourceLocation)
            return
        }
    }
}

@Suite("SQLiteLogStorage")
struct SQLiteLogStorageTests {
    @Test("a missing file is a fresh node with empty state")
    func freshNode() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path(), nodeID: NodeID(1))
        #expect(try storage.load() == PersistentState())
        #expect(storage.nodeID == NodeID(1))
    }

    @Test("a half-created file from a crash during creation is discarded, never opened")
    func leftoverCreation() throws {
        let dir = try TempDir()
        #expect(FileManager.default.createFile(atPath: dir.path() + ".creating", contents: Data([1, 2, 3])))
        let storage = try SQLiteLogStorage(path: dir.path(), nodeID: NodeID(5))
        #expect(try storage.load() == PersistentState())
        #expect(!FileManager.default.fileExists(atPath: dir.path() + ".creating"))
        #expect(FileManager.default.fileExists(atPath: dir.path()))
    }

    @Test("hard state, entries and snapshot metadata round-trip through close and reopen")
    func roundTripAndReopen() throws {
        let dir = try TempDir()
        let hard = HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(12))
        let snapshot = SnapshotMetadata(index: LogIndex(5), term: Term(2), configuration: threeNodes)
        let stored = entries(6...15, term: 3) + [Entry(term: Term(3), index: LogIndex(16), kind: .configurationChange,
                                                        data: ConfigurationChange.promote(NodeID(4)).encoded)]
        do {
            let storage = try SQLiteLogStorage(path: dir.path())
            try storage.save(hardState: nil, entries: entries(1...5, term: 2))
            try storage.applySnapshot(snapshot)
            try storage.save(hardState: hard, entries: stored)
            #expect(try storage.load() == PersistentState(hardState: hard, snapshot: snapshot, entries: stored))
            storage.close()
        }
        let reopened = try SQLiteLogStorage(path: dir.path())
        #expect(try reopened.load() == PersistentState(hardState: hard, snapshot: snapshot, entries: stored))
        // A nil vote and large values survive too.
        let big = HardState(term: Term(UInt64.max), vote: nil, commit: LogIndex(16))
        try reopened.save(hardState: big, entries: [])
        #expect(try reopened.load().hardState == big)
    }

    @Test("save replaces the conflicting suffix, in one transaction with the hard state")
    func suffixOverwrite() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(2)), entries: entries(1...10, term: 1))
        let replacement = entries(4...6, term: 2, bytes: 3)
        try storage.save(hardState: HardState(term: Term(2), vote: NodeID(3), commit: LogIndex(4)), entries: replacement)
        let state = try storage.load()
        #expect(state.entries == entries(1...3, term: 1) + replacement)
        #expect(state.hardState == HardState(term: Term(2), vote: NodeID(3), commit: LogIndex(4)))
        // Appending right after the end, and overwriting only the last entry.
        try storage.save(hardState: nil, entries: entries(7...7, term: 2))
        try storage.save(hardState: nil, entries: entries(7...8, term: 3))
        #expect(try storage.load().entries.map(\.term.rawValue) == [1, 1, 1, 2, 2, 2, 3, 3])
    }

    @Test("applySnapshot keeps the suffix when it matches, drops everything when it does not; compact")
    func snapshotAndCompact() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        try storage.save(hardState: HardState(term: Term(2), commit: LogIndex(8)), entries: entries(1...10, term: 2))
        let matching = SnapshotMetadata(index: LogIndex(6), term: Term(2), configuration: threeNodes)
        try storage.applySnapshot(matching)
        var state = try storage.load()
        #expect(state.snapshot == matching)
        #expect(state.entries.map(\.index.rawValue) == Array(7...10))
        try storage.compact(upTo: LogIndex(6))
        #expect(try storage.load() == state)
        // A snapshot whose term does not match the log replaces the whole log.
        let foreign = SnapshotMetadata(index: LogIndex(9), term: Term(5), configuration: Configuration(voters: [NodeID(1)]))
        try storage.applySnapshot(foreign)
        state = try storage.load()
        #expect(state.snapshot == foreign)
        #expect(state.entries.isEmpty)
        // The log continues right after the snapshot, and survives a reopen.
        try storage.save(hardState: HardState(term: Term(5), commit: LogIndex(10)), entries: entries(10...11, term: 5))
        storage.close()
        let reopened = try SQLiteLogStorage(path: dir.path())
        state = try reopened.load()
        #expect(state.snapshot == foreign)
        #expect(state.entries == entries(10...11, term: 5))
    }

    @Test("random saves, snapshots and reopens match a simple model", arguments: [UInt64(7), 99])
    func modelBased(seed: UInt64) throws {
        let dir = try TempDir()
        var rng = StorageTestRNG(state: seed)
        var storage = try SQLiteLogStorage(path: dir.path())
        var model = PersistentState()
        // The hard state last saved; `model.hardState` is the one written, which lags behind
        // while only the commit index moved (written with the next term or vote, or at close).
        var latest = model.hardState
        var term: UInt64 = 1
        for step in 0..<150 {
            let snapshotIndex = model.snapshot?.index.rawValue ?? 0
            let last = model.entries.last?.index.rawValue ?? snapshotIndex
            switch UInt64.random(in: 0..<10, using: &rng) {
            case 0:
                storage.close()
                model.hardState = latest
                storage = try SQLiteLogStorage(path: dir.path())
            case 1 where latest.commit.rawValue > snapshotIndex:
                // Snapshot at a committed index: the suffix after it stays.
                let index = UInt64.random(in: snapshotIndex + 1...latest.commit.rawValue, using: &rng)
                let metadata = SnapshotMetadata(index: LogIndex(index), term: model.entries[Int(index - snapshotIndex - 1)].term,
                                                configuration: threeNodes)
                try storage.applySnapshot(metadata)
                model.snapshot = metadata
                model.entries.removeFirst(Int(index - snapshotIndex))
            case 2:
                // A leader's snapshot beyond our log: everything is replaced.
                term += 1
                let metadata = SnapshotMetadata(index: LogIndex(last + 3), term: Term(term), configuration: threeNodes)
                try storage.applySnapshot(metadata)
                model.snapshot = metadata
                model.entries = []
            default:
                // Append or overwrite an uncommitted suffix, sometimes in a new term, and commit some.
                if Bool.random(using: &rng) { term += 1 }
                let first = UInt64.random(in: max(snapshotIndex, latest.commit.rawValue) + 1...last + 1, using: &rng)
                let new = (0..<UInt64.random(in: 0...4, using: &rng)).map {
                    Entry(term: Term(term), index: LogIndex(first + $0), data: [UInt8(truncatingIfNeeded: step)])
                }
                model.entries.removeAll { !new.isEmpty && $0.index.rawValue >= first }
                model.entries += new
                let newLast = model.entries.last?.index.rawValue ?? snapshotIndex
                let commit = UInt64.random(in: latest.commit.rawValue...max(latest.commit.rawValue, newLast), using: &rng)
                let hard = HardState(term: Term(term), vote: Bool.random(using: &rng) ? NodeID(2) : nil, commit: LogIndex(commit))
                try storage.save(hardState: hard, entries: new)
                // Written only when the term or the vote moved.
                if hard.term != model.hardState.term || hard.vote != model.hardState.vote { model.hardState = hard }
                latest = hard
            }
            #expect(try storage.load() == model, "seed \(seed), step \(step)")
        }
    }

    @Test("an uncommitted transaction is invisible after reopen")
    func uncommittedTransaction() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(3)), entries: entries(1...3, term: 1))
        let before = try storage.load()
        storage.close()

        let raw = try Connection(path: dir.path())
        try raw.execute("PRAGMA cache_size=1")  // spill uncommitted pages into the WAL
        try raw.execute("BEGIN IMMEDIATE")
        try raw.execute("DELETE FROM entries")
        try raw.execute("UPDATE hard_state SET term = 99")
        for i in 4...2_000 {
            try raw.run("INSERT INTO entries VALUES (?, 1, 0, zeroblob(500), 0)", [.int(i)])
        }
        // Crash image: copy the files while the transaction is open, then abandon it.
        let walBytes = try FileManager.default.attributesOfItem(atPath: dir.path() + "-wal")[.size] as? Int
        #expect((walBytes ?? 0) > 100_000, "uncommitted pages were spilled into the WAL")
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: dir.path() + suffix, toPath: dir.path("crash.db") + suffix)
        }
        raw.close()

        #expect(try SQLiteLogStorage(path: dir.path()).load() == before)
        #expect(try SQLiteLogStorage(path: dir.path("crash.db")).load() == before)
    }

    @Test("a crash image taken while open recovers every committed save from the WAL")
    func crashImageWhileOpen() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        for i in UInt64(1)...50 {
            try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(i - 1)), entries: entries(i...i, term: 1))
        }
        let expected = try storage.load()
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: dir.path() + suffix) {
            try FileManager.default.copyItem(atPath: dir.path() + suffix, toPath: dir.path("image.db") + suffix)
        }
        #expect(try SQLiteLogStorage(path: dir.path("image.db")).load() == expected)
    }

    @Test("a torn WAL tail loses only the last, unfinished save")
    func tornWALTail() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        defer { storage.close() }
        for i in UInt64(1)...50 {
            try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(i - 1)), entries: entries(i...i, term: 1))
        }
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: dir.path() + suffix, toPath: dir.path("torn.db") + suffix)
        }
        // Cut into the last WAL frame, as a crash in the middle of its write would.
        let wal = dir.path("torn.db") + "-wal"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int)
        #expect(truncate(wal, off_t(size - 100)) == 0)
        let state = try SQLiteLogStorage(path: dir.path("torn.db")).load()
        // The commit index was written with the term (first save) and not since: it alone moved.
        #expect(state == PersistentState(hardState: HardState(term: Term(1), commit: LogIndex(0)), entries: entries(1...49, term: 1)))
    }

    @Test("a flipped byte in an entry's data is detected by its checksum")
    func flippedData() throws {
        let dir = try TempDir()
        try SQLiteLogStorage(path: dir.path()).save(hardState: nil, entries: entries(1...5, term: 1))
        let raw = try Connection(path: dir.path())
        // Entry 3's data is ten 0x03 bytes; the first becomes 0x03 ^ 0xFF.
        try raw.execute("UPDATE entries SET data = CAST(X'FC' || substr(data, 2) AS BLOB) WHERE log_index = 3")
        raw.close()
        expectCorrupt(dir.path(), "entry at index 3 (row 3 of the scan): checksum mismatch")
    }

    @Test("a flipped byte in the database file itself (bit rot) is detected")
    func bitRotInFile() throws {
        let dir = try TempDir()
        let marker = Array("payload-of-entry-seven".utf8)
        do {
            let storage = try SQLiteLogStorage(path: dir.path())
            try storage.save(hardState: nil, entries: entries(1...6, term: 1) + [Entry(term: Term(1), index: LogIndex(7), data: marker)])
            storage.close()
        }
        var file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path())))
        let offset = try #require(file.indices.first { file[$0...].starts(with: marker) })
        file[offset + 3] ^= 0x01
        try Data(file).write(to: URL(fileURLWithPath: dir.path()))
        expectCorrupt(dir.path(), "entry at index 7 (row 7 of the scan): checksum mismatch")
    }

    @Test("tampered rows are each detected", arguments: [
        ("DELETE FROM entries WHERE log_index = 3", "entry at index 4 (row 2 of the scan): expected index 3"),
        ("UPDATE entries SET term = 0 WHERE log_index = 4", "entry at index 4 (row 3 of the scan): checksum mismatch"),
        ("UPDATE hard_state SET commit_index = 3", "hard_state checksum mismatch"),
        ("UPDATE snapshot SET term = 7", "snapshot row checksum mismatch"),
        ("DELETE FROM hard_state", "hard_state row is missing"),
        ("DROP TABLE entries", "missing tables [\"entries\"]"),
        ("DELETE FROM meta WHERE key = 'format_version'", "no format_version"),
    ])
    func tamperedRows(sql: String, problem: String) throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(2)), entries: entries(1...6, term: 1))
        try storage.applySnapshot(SnapshotMetadata(index: LogIndex(1), term: Term(1), configuration: threeNodes))
        storage.close()
        let raw = try Connection(path: dir.path())
        try raw.execute(sql)
        raw.close()
        expectCorrupt(dir.path(), problem)
    }

    @Test("rows with valid checksums that break the log's invariants are detected", arguments: [
        ([Entry(term: Term(2), index: LogIndex(1)), Entry(term: Term(1), index: LogIndex(2))], 1, "below the previous term"),
        ([Entry(term: Term(2), index: LogIndex(1))], 9, "beyond the last index"),
    ])
    func invariantViolations(log: [Entry], commit: UInt64, problem: String) throws {
        // Written through the storage, so every checksum is right: the checks are at load.
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        for entry in log { try storage.save(hardState: nil, entries: [entry]) }
        try storage.save(hardState: HardState(term: Term(2), commit: LogIndex(commit)), entries: [])
        storage.close()
        #expect {
            try SQLiteLogStorage(path: dir.path()).load()
        } throws: { error in
            guard case .corrupt(let what) = error as? LogStorageError else { return false }
            return what.contains(problem)
        }
    }

    @Test("garbage, empty and short files are corrupt", arguments: [
        (0, "is empty (0 bytes)"), (5, "is not a SQLite database"), (100, "is not a SQLite database"),
        (4096, "is not a SQLite database"),
    ])
    func garbageFile(size: Int, problem: String) throws {
        let dir = try TempDir()
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(FileManager.default.createFile(atPath: dir.path(), contents: Data(bytes)))
        expectCorrupt(dir.path(), problem)
    }

    @Test("a database truncated after close is corrupt", arguments: [100, 4096, 9000])
    func truncatedFile(size: Int) throws {
        let dir = try TempDir()
        do {
            let storage = try SQLiteLogStorage(path: dir.path())
            try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(200)), entries: entries(1...400, term: 1, bytes: 200))
            storage.close()  // the last connection checkpoints the WAL into the file
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path() + "-wal"))
        #expect(truncate(dir.path(), off_t(size)) == 0)
        expectCorrupt(dir.path(), "malformed")
    }

    @Test("a database truncated after a checkpoint, WAL file still present, is corrupt")
    func truncatedAfterCheckpoint() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(200)), entries: entries(1...400, term: 1, bytes: 200))
        // The log's connection is exclusive (no second connection may checkpoint it meanwhile):
        // closing checkpoints everything into the file, and what `wal_checkpoint(TRUNCATE)`
        // leaves behind, an empty WAL file, is put back by hand.
        storage.close()
        #expect(!FileManager.default.fileExists(atPath: dir.path() + "-wal"))
        #expect(FileManager.default.createFile(atPath: dir.path() + "-wal", contents: Data()))
        #expect(truncate(dir.path(), 100) == 0)
        expectCorrupt(dir.path(), "malformed")
    }

    @Test("a large compaction deletes a bounded chunk at once, the rest in trim steps; load skips what is left")
    func compactionIsTrimmedInSteps() throws {
        let dir = try TempDir()
        let total: UInt64 = 20_000
        let storage = try SQLiteLogStorage(path: dir.path())
        try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(total)), entries: entries(1...total, term: 1))
        let covered: UInt64 = 19_000
        try storage.applySnapshot(SnapshotMetadata(index: LogIndex(covered), term: Term(1), configuration: threeNodes))
        func rows() throws -> Int64 {
            let raw = try Connection(path: dir.path(), options: .init(busyTimeoutMilliseconds: 50))
            defer { raw.close() }
            return try raw.scalarInt("SELECT count(*) FROM entries") ?? -1
        }
        // Left in place beyond the first chunk, and invisible to a load (a crash here).
        storage.close()
        #expect(try rows() == Int64(total) - Int64(SQLiteLogStorage.trimChunk))
        let reopened = try SQLiteLogStorage(path: dir.path())
        let state = try reopened.load()
        #expect(state.snapshot?.index == LogIndex(covered))
        #expect(state.entries.map(\.index.rawValue) == Array((covered + 1)...total))
        var steps = 0
        while try reopened.trimCompacted(maxEntries: 4_000) { steps += 1 }
        // Steps that leave some covered rows behind: all but the last of ⌈left / 4,000⌉.
        let left = Int(covered) - SQLiteLogStorage.trimChunk
        #expect(steps == (left + 3_999) / 4_000 - 1)
        #expect(try reopened.trimCompacted(maxEntries: 4_000) == false)
        reopened.close()
        #expect(try rows() == Int64(total - covered))
        #expect(try SQLiteLogStorage(path: dir.path()).load().entries.count == Int(total - covered))
    }

    @Test("an unknown format version is unsupportedVersion")
    func unknownVersion() throws {
        let dir = try TempDir()
        try SQLiteLogStorage(path: dir.path()).close()
        let raw = try Connection(path: dir.path())
        try raw.execute("UPDATE meta SET value = 7 WHERE key = 'format_version'")
        raw.close()
        #expect(throws: LogStorageError.unsupportedVersion(7)) { try SQLiteLogStorage(path: dir.path()) }
    }

    @Test("a log recorded for another node is refused")
    func wrongNode() throws {
        let dir = try TempDir()
        try SQLiteLogStorage(path: dir.path(), nodeID: NodeID(1)).close()
        #expect(throws: LogStorageError.self) { try SQLiteLogStorage(path: dir.path(), nodeID: NodeID(2)) }
        #expect(try SQLiteLogStorage(path: dir.path()).nodeID == NodeID(1))
    }

    @Test("a failed write poisons the instance; a new instance recovers the last good state")
    func poisonedAfterFailedWrite() throws {
        let dir = try TempDir()
        let good: PersistentState
        do {
            let storage = try SQLiteLogStorage(path: dir.path(), options: .init(maxPageCount: 8))
            try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(1)), entries: entries(1...2, term: 1))
            good = try storage.load()
            var caught: LogStorageError?
            do {
                try storage.save(hardState: HardState(term: Term(2)), entries: entries(3...100, term: 1, bytes: 4000))
            } catch {
                caught = error
            }
            guard let failure = caught, case .io(let message) = failure else {
                Issue.record("expected .io from a full database, got \(String(describing: caught))")
                return
            }
            #expect(message.contains("full"))
            #expect(storage.failure == failure)
            // Every later call throws, even a small write and a read that would succeed.
            #expect(throws: failure) { try storage.save(hardState: HardState(term: Term(3)), entries: []) }
            #expect(throws: failure) { try storage.load() }
            #expect(throws: failure) { try storage.compact(upTo: .zero) }
            storage.close()
        }
        #expect(try SQLiteLogStorage(path: dir.path()).load() == good)
    }

    @Test("a batch that would break the log is refused with .corrupt and stops the instance", arguments: [
        ([Entry(term: Term(1), index: LogIndex(5))], "leaving a gap after i3"),
        ([Entry(term: Term(1), index: LogIndex(1))], "inside the snapshot up to i1"),
        ([Entry(term: Term(1), index: LogIndex(3)), Entry(term: Term(1), index: LogIndex(5))], "not contiguous"),
        ([Entry(term: Term(1), index: LogIndex(UInt64(Int64.max) + 1))], "leaving a gap"),
    ])
    func refusedBatches(batch: [Entry], problem: String) throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(1)), entries: entries(1...3, term: 1))
        try storage.applySnapshot(SnapshotMetadata(index: LogIndex(1), term: Term(1), configuration: threeNodes))
        let before = try storage.load()
        #expect {
            try storage.save(hardState: nil, entries: batch)
        } throws: { error in
            guard case .corrupt(let what) = error as? LogStorageError else { return false }
            return what.contains(problem)
        }
        #expect(throws: LogStorageError.self) { try storage.load() }
        storage.close()
        #expect(try SQLiteLogStorage(path: dir.path()).load() == before)
    }

    @Test("compact beyond the snapshot is refused; an older snapshot changes nothing")
    func compactAndStaleSnapshot() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        try storage.save(hardState: HardState(term: Term(1), commit: LogIndex(4)), entries: entries(1...6, term: 1))
        try storage.applySnapshot(SnapshotMetadata(index: LogIndex(4), term: Term(1), configuration: threeNodes))
        let before = try storage.load()
        try storage.applySnapshot(SnapshotMetadata(index: LogIndex(2), term: Term(1), configuration: threeNodes))
        #expect(try storage.load() == before)
        #expect(throws: LogStorageError.corrupt("cannot compact up to i5: the snapshot only covers up to i4")) {
            try storage.compact(upTo: LogIndex(5))
        }
    }

    @Test("calls after close throw")
    func closed() throws {
        let dir = try TempDir()
        let storage = try SQLiteLogStorage(path: dir.path())
        storage.close()
        #expect(throws: LogStorageError.self) { try storage.load() }
    }
}
