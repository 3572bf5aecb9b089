import Foundation
import SQLite
import Testing
@testable import Store

/// `deferCommits`: many apply batches share one SQLite transaction. What other connections and a
/// crash see is the last COMMIT; the owner sees everything applied; a failed batch undoes only
/// itself.
@Suite struct DeferredCommitTests {
    struct Abort: Error {}

    /// The applied index as a second connection (or a crash image) sees it.
    static func committedIndex(_ store: StateStore) throws -> UInt64 {
        try StateStore.appliedPosition(of: store.path).index
    }

    @Test func batchesStayInOneOpenTransactionUntilCommitPending() throws {
        let s = try TempStore()
        defer { s.cleanup() }
        s.store.deferCommits = true
        try s.apply(.createQueue(queueSpec()))
        #expect(try Self.committedIndex(s.store) == 0, "nothing committed yet")
        _ = try s.store.apply(entries: CrashTests.batch(from: 0, count: 50, startIndex: 2))
        _ = try s.store.apply(entries: CrashTests.batch(from: 50, count: 50, startIndex: 52))
        // The owner reads its own applied state…
        #expect(s.store.appliedIndex == 101)
        #expect(try s.store.task("t99") != nil)
        #expect(s.store.uncommitted?.entries == 101)
        // …another connection still sees the file as it was.
        #expect(try Self.committedIndex(s.store) == 0)
        try s.store.commitPending()
        #expect(s.store.uncommitted == nil)
        #expect(try Self.committedIndex(s.store) == 101)
    }

    @Test func aFailedBatchUndoesOnlyItselfAndEarlierBatchesStillCommit() throws {
        let s = try TempStore()
        defer { s.cleanup() }
        s.store.deferCommits = true
        try s.apply(.createQueue(queueSpec()))
        _ = try s.store.apply(entries: CrashTests.batch(from: 0, count: 100, startIndex: 2))
        let hashAfterFirst = try s.store.stateHash()
        let failing = CrashTests.batch(from: 100, count: 100, startIndex: 102)
        #expect(throws: StoreError.self) {
            _ = try s.store.apply(entries: failing, afterEach: { offset in if offset == 60 { throw Abort() } })
        }
        #expect(s.store.appliedIndex == 101)
        #expect(try s.store.stateHash() == hashAfterFirst)
        #expect(try s.store.task("t150") == nil)
        try s.store.commitPending()
        #expect(try Self.committedIndex(s.store) == 101)
        #expect(try s.store.taskCounts(queue: "q") == [.queued: 100])
        // The same batch applies cleanly afterwards.
        _ = try s.store.apply(entries: failing)
        #expect(try s.store.taskCounts(queue: "q") == [.queued: 200])
    }

    @Test func snapshotsAndCheckpointsCommitFirst() throws {
        let s = try TempStore()
        defer { s.cleanup() }
        s.store.deferCommits = true
        try s.apply(.createQueue(queueSpec()))
        _ = try s.store.apply(entries: CrashTests.batch(from: 0, count: 10, startIndex: 2))
        let copy = s.path("snap.db")
        #expect(try s.store.snapshot(to: copy) == 11)
        #expect(try StateStore.appliedPosition(of: copy).index == 11)
        _ = try s.store.apply(entries: CrashTests.batch(from: 10, count: 10, startIndex: 12))
        try s.store.makeDurable()
        #expect(try Self.committedIndex(s.store) == 21)
    }

    @Test func withoutDeferCommitsEveryBatchCommits() throws {
        let s = try TempStore()
        defer { s.cleanup() }
        try s.apply(.createQueue(queueSpec()))
        _ = try s.store.apply(entries: CrashTests.batch(from: 0, count: 10, startIndex: 2))
        #expect(s.store.uncommitted == nil)
        #expect(try Self.committedIndex(s.store) == 11)
    }
}
