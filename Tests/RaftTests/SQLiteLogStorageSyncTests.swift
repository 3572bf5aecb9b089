import Foundation
import SQLite
import Testing
@testable import Raft

/// What a save writes: entries, term and vote at once (synced); a commit index that alone moved
/// not at all until the next term or vote, or `close` (etcd syncs it only with those, `MustSync`).
@Suite struct SQLiteLogStorageSyncTests {
    static func withStorage(_ body: (SQLiteLogStorage, String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("raftsync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("raft.db").path
        let storage = try SQLiteLogStorage(path: path)
        _ = try storage.load()
        try body(storage, path)
    }

    static func entries(_ range: ClosedRange<UInt64>, term: UInt64) -> [Entry] {
        range.map { Entry(term: Term(term), index: LogIndex($0), kind: .normal, data: [UInt8](repeating: 7, count: 10)) }
    }

    /// The stored row, read on the storage's own (exclusive) connection.
    static func stored(_ storage: SQLiteLogStorage) throws -> [Int64] {
        var values: [Int64] = []
        try storage.connection.query("SELECT term, vote, commit_index FROM hard_state WHERE id = 1") { row in
            values = [row.int64(0), row.int64(1), row.int64(2)]
        }
        return values
    }

    /// What reopening a copy of the files finds: what a crash would leave (the original is
    /// exclusively locked while open).
    static func afterCrash(_ path: String) throws -> PersistentState {
        let copy = path + ".crash-\(UUID().uuidString)"
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
        }
        let recovered = try SQLiteLogStorage(path: copy)
        defer { recovered.close() }
        return try recovered.load()
    }

    @Test func aCommitIndexThatAloneMovedWaitsForANewTermOrVote() throws {
        try Self.withStorage { storage, path in
            try storage.save(hardState: HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(0)), entries: Self.entries(1...5, term: 2))
            #expect(try Self.stored(storage) == [2, 1, 0])
            #expect(storage.deferredSaves == 0)
            try storage.save(hardState: HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(4)), entries: [])
            #expect(storage.deferredSaves == 1)
            // Entries are written (and survive a crash); the commit index that came with them is not.
            try storage.save(hardState: HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(5)), entries: Self.entries(6...6, term: 2))
            #expect(try Self.stored(storage) == [2, 1, 0])
            #expect(storage.deferredHardState == HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(5)))
            let crashed = try Self.afterCrash(path)
            #expect(crashed.entries.map(\.index.rawValue) == [1, 2, 3, 4, 5, 6])
            #expect(crashed.hardState == HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(0)))
            // A new term, or a new vote: written at once, commit index included.
            try storage.save(hardState: HardState(term: Term(3), vote: nil, commit: LogIndex(5)), entries: [])
            #expect(try Self.stored(storage) == [3, 0, 5])
            #expect(storage.deferredHardState == nil)
            try storage.save(hardState: HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(6)), entries: [])
            #expect(try Self.stored(storage) == [3, 2, 6])
            #expect(try Self.afterCrash(path).hardState == HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(6)))
            try storage.save(hardState: HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(6)), entries: Self.entries(7...7, term: 3))
            try storage.save(hardState: HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(7)), entries: [])
            #expect(storage.deferredSaves == 4)
            #expect(try Self.stored(storage) == [3, 2, 6])
            // A clean close writes it: a restart after a clean stop keeps the commit index.
            storage.close()
            let reopened = try SQLiteLogStorage(path: path)
            #expect(try reopened.load().hardState == HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(7)))
            reopened.close()
        }
    }

    @Test func theFirstSaveAfterOpeningAnOldLogComparesWithWhatWasLoaded() throws {
        try Self.withStorage { storage, path in
            try storage.save(hardState: HardState(term: Term(5), vote: NodeID(3), commit: LogIndex(1)), entries: Self.entries(1...2, term: 5))
            storage.close()
            let reopened = try SQLiteLogStorage(path: path)
            _ = try reopened.load()
            try reopened.save(hardState: HardState(term: Term(5), vote: NodeID(3), commit: LogIndex(2)), entries: [])
            #expect(reopened.deferredSaves == 1)
            try reopened.save(hardState: HardState(term: Term(6), vote: nil, commit: LogIndex(2)), entries: [])
            #expect(reopened.deferredSaves == 1)
            #expect(reopened.deferredHardState == nil)
            reopened.close()
        }
    }
}
