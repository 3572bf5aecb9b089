import Raft
import Testing

/// The in-memory twin must keep the `LogStorage` contract: suffix overwrite, all-or-nothing
/// saves, snapshot install and compaction, typed errors instead of a silently broken log.
@Suite struct MemoryLogStorageTests {
    private func entries(_ range: ClosedRange<UInt64>, term: UInt64) -> [Entry] {
        range.map { Entry(term: Term(term), index: LogIndex($0), data: [UInt8($0 & 0xff)]) }
    }

    private func hard(_ term: UInt64, vote: UInt64? = nil, commit: UInt64 = 0) -> HardState {
        HardState(term: Term(term), vote: vote.map { NodeID($0) }, commit: LogIndex(commit))
    }

    @Test func freshStoreLoadsEmpty() throws {
        let store = MemoryLogStorage()
        #expect(try store.load() == PersistentState())
        #expect(store.lastIndex == .zero)
    }

    @Test func saveRoundTripsHardStateAndEntries() throws {
        let store = MemoryLogStorage()
        try store.save(hardState: hard(2, vote: 3, commit: 2), entries: entries(1...3, term: 2))
        let state = try store.load()
        #expect(state.hardState == hard(2, vote: 3, commit: 2))
        #expect(state.entries == entries(1...3, term: 2))
        #expect(store.term(at: LogIndex(3)) == Term(2))
        #expect(store.term(at: LogIndex(4)) == nil)
    }

    @Test func saveWithoutHardStateKeepsTheOldOne() throws {
        let store = MemoryLogStorage()
        try store.save(hardState: hard(1, vote: 1), entries: [])
        try store.save(hardState: nil, entries: entries(1...1, term: 1))
        #expect(store.hardState == hard(1, vote: 1))
    }

    @Test func entriesOverwriteTheSuffixFromTheirFirstIndex() throws {
        let store = MemoryLogStorage()
        try store.save(hardState: hard(1), entries: entries(1...5, term: 1))
        try store.save(hardState: hard(2), entries: entries(3...3, term: 2))
        #expect(store.entries == entries(1...2, term: 1) + entries(3...3, term: 2))
    }

    @Test(arguments: [
        (UInt64(5), "gap"), (UInt64(0), "index 0"),
    ])
    func rejectsBadFirstIndexAndKeepsTheStore(first: UInt64, why: String) throws {
        let store = MemoryLogStorage()
        try store.save(hardState: hard(1), entries: entries(1...3, term: 1))
        let before = try store.load()
        #expect(throws: LogStorageError.self, "\(why)") {
            try store.save(hardState: hard(9), entries: [Entry(term: Term(1), index: LogIndex(first))])
        }
        #expect(try store.load() == before)
    }

    @Test func rejectsNonContiguousBatchAndDecreasingTerms() throws {
        let store = MemoryLogStorage()
        try store.save(hardState: hard(2), entries: entries(1...2, term: 2))
        #expect(throws: LogStorageError.self) {
            try store.save(hardState: nil, entries: [Entry(term: Term(2), index: LogIndex(3)), Entry(term: Term(2), index: LogIndex(5))])
        }
        #expect(throws: LogStorageError.self) {
            try store.save(hardState: nil, entries: entries(3...3, term: 1))
        }
        #expect(store.lastIndex == LogIndex(2))
    }

    @Test func rejectsCommitBeyondTheLog() throws {
        let store = MemoryLogStorage()
        #expect(throws: LogStorageError.self) {
            try store.save(hardState: hard(1, commit: 4), entries: entries(1...3, term: 1))
        }
        #expect(try store.load() == PersistentState())
    }

    @Test func snapshotMatchingTheLogKeepsTheTail() throws {
        let store = MemoryLogStorage()
        try store.save(hardState: hard(1, commit: 3), entries: entries(1...5, term: 1))
        let meta = SnapshotMetadata(index: LogIndex(3), term: Term(1), configuration: Configuration(voters: [NodeID(1)]))
        try store.applySnapshot(meta)
        let state = try store.load()
        #expect(state.snapshot == meta)
        #expect(state.entries == entries(4...5, term: 1))
        #expect(store.term(at: LogIndex(3)) == Term(1))
        #expect(store.term(at: LogIndex(2)) == nil)
    }

    @Test func snapshotNotInTheLogDropsEveryEntry() throws {
        let store = MemoryLogStorage()
        try store.save(hardState: hard(1), entries: entries(1...2, term: 1))
        let meta = SnapshotMetadata(index: LogIndex(7), term: Term(3), configuration: Configuration(voters: [NodeID(1)]))
        try store.applySnapshot(meta)
        #expect(store.entries.isEmpty)
        #expect(store.lastIndex == LogIndex(7))
        // The next entries must follow the snapshot directly.
        #expect(throws: LogStorageError.self) { try store.save(hardState: hard(3), entries: entries(7...7, term: 3)) }
        try store.save(hardState: hard(3), entries: entries(8...8, term: 3))
        #expect(store.lastIndex == LogIndex(8))
    }

    @Test func olderSnapshotIsIgnored() throws {
        let store = MemoryLogStorage()
        let config = Configuration(voters: [NodeID(1)])
        try store.save(hardState: hard(1), entries: entries(1...6, term: 1))
        try store.applySnapshot(SnapshotMetadata(index: LogIndex(5), term: Term(1), configuration: config))
        try store.applySnapshot(SnapshotMetadata(index: LogIndex(4), term: Term(1), configuration: config))
        #expect(store.snapshotIndex == LogIndex(5))
        #expect(store.entries == entries(6...6, term: 1))
    }

    @Test func compactNeedsASnapshotAtOrAboveIt() throws {
        let store = MemoryLogStorage()
        try store.save(hardState: hard(1), entries: entries(1...4, term: 1))
        #expect(throws: LogStorageError.self) { try store.compact(upTo: LogIndex(2)) }
        #expect(store.entries.count == 4)
        try store.applySnapshot(SnapshotMetadata(index: LogIndex(2), term: Term(1), configuration: Configuration(voters: [NodeID(1)])))
        try store.compact(upTo: LogIndex(2))
        #expect(store.entries == entries(3...4, term: 1))
    }

    @Test func injectedFailureThrowsIOOnceAndChangesNothing() throws {
        let store = MemoryLogStorage()
        store.failNextWrite = true
        #expect(throws: LogStorageError.io("injected failure in save")) {
            try store.save(hardState: hard(1), entries: entries(1...1, term: 1))
        }
        #expect(try store.load() == PersistentState())
        #expect(store.writeCount == 0)
        try store.save(hardState: hard(1), entries: entries(1...1, term: 1))
        #expect(store.writeCount == 1)
    }
}
