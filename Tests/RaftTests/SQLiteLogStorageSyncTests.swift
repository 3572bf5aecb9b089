import Foundation
import SQLite
import Testing
@testable import Raft

/// Which saves fsync: entries, term and vote always; a commit index alone never (etcd's
/// `MustSync`), and the connection is back to synchronous=FULL right after.
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

    @Test func onlyACommitIndexAloneSkipsTheFsync() throws {
        try Self.withStorage { storage, path in
            try storage.save(hardState: HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(0)), entries: Self.entries(1...5, term: 2))
            #expect(storage.unsyncedSaves == 0)
            try storage.save(hardState: HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(4)), entries: [])
            #expect(storage.unsyncedSaves == 1)
            // The connection is strict again, checkpoints included.
            #expect(try storage.connection.scalarInt("PRAGMA synchronous") == 2)
            #expect(try storage.connection.scalarInt("PRAGMA wal_autocheckpoint") == 1000)
            // A new term, a new vote, or entries: synced.
            try storage.save(hardState: HardState(term: Term(3), vote: NodeID(1), commit: LogIndex(4)), entries: [])
            try storage.save(hardState: HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(4)), entries: [])
            try storage.save(hardState: HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(5)), entries: Self.entries(6...6, term: 3))
            #expect(storage.unsyncedSaves == 1)
            try storage.save(hardState: HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(6)), entries: [])
            #expect(storage.unsyncedSaves == 2)
            storage.close()
            // Written all the same: a process crash loses nothing (only an OS crash can lose
            // the commit index, which the leader teaches again).
            let reopened = try SQLiteLogStorage(path: path)
            #expect(try reopened.load().hardState == HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(6)))
        }
    }

    @Test func theFirstSaveAfterOpeningAnOldLogComparesWithWhatWasLoaded() throws {
        try Self.withStorage { storage, path in
            try storage.save(hardState: HardState(term: Term(5), vote: NodeID(3), commit: LogIndex(1)), entries: Self.entries(1...2, term: 5))
            storage.close()
            let reopened = try SQLiteLogStorage(path: path)
            _ = try reopened.load()
            try reopened.save(hardState: HardState(term: Term(5), vote: NodeID(3), commit: LogIndex(2)), entries: [])
            #expect(reopened.unsyncedSaves == 1)
            try reopened.save(hardState: HardState(term: Term(6), vote: nil, commit: LogIndex(2)), entries: [])
            #expect(reopened.unsyncedSaves == 1)
        }
    }
}
