import Foundation
import SQLite
import Testing
@testable import Store

/// Crash safety (RELIABILITY I9): a batch and its applied index commit together. We stop a
/// batch half-way and look at (1) the live store after the abort and (2) a copy of the files
/// taken mid-transaction — exactly what `kill -9` at that instant leaves on disk (the page
/// cache survives a process kill; the -shm index is rebuilt on open).
@Suite struct CrashTests {
    struct Abort: Error {}

    static func batch(from first: Int, count: Int, startIndex: UInt64) -> [LogEntry] {
        (0..<count).map { i in
            LogEntry(index: startIndex + UInt64(i), term: 2,
                     data: Command.createTask(taskSpec("t\(first + i)", payload: String(repeating: "x", count: 500))).encoded())
        }
    }

    @Test func killMidBatchReopensAtThePreviousBatch() throws {
        let s = try TempStore()
        defer { s.cleanup() }
        try s.apply(.createQueue(queueSpec()))
        _ = try s.store.apply(entries: Self.batch(from: 0, count: 200, startIndex: 2))
        let committedIndex = s.store.appliedIndex
        let committedHash = try s.store.stateHash()
        let walPath = s.store.path + "-wal"
        let walAfterCommit = try FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int ?? 0
        // A tiny page cache forces the open transaction's dirty pages out to the WAL as
        // uncommitted frames, so the crash image really contains half a batch.
        try s.store.db.execute("PRAGMA cache_size=8")
        let image = s.path("crash")
        try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
        let second = Self.batch(from: 200, count: 400, startIndex: committedIndex + 1)
        var walMidBatch = 0
        let midBatch: (Int) throws -> Void = { offset in
            guard offset == 299 else { return }
            walMidBatch = try FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int ?? 0
            for suffix in ["", "-wal"] {
                try FileManager.default.copyItem(atPath: s.store.path + suffix, toPath: image + "/state.db" + suffix)
            }
            throw Abort()
        }
        var aborted = false
        do {
            _ = try s.store.apply(entries: second, afterEach: midBatch)
        } catch {
            aborted = true
        }
        #expect(aborted)
        #expect(walMidBatch > walAfterCommit, "uncommitted frames reached the WAL")
        // (1) The live store rolled back: same index, same content, still usable.
        #expect(s.store.appliedIndex == committedIndex)
        #expect(try s.store.stateHash() == committedHash)
        #expect(try s.store.task("t250") == nil)
        // (2) The crash image reopens consistent at the last committed batch.
        let recovered = try StateStore(path: image + "/state.db")
        defer { recovered.close() }
        #expect(try recovered.db.integrityProblem() == nil)
        #expect(recovered.appliedIndex == committedIndex)
        #expect(try recovered.stateHash() == committedHash)
        // Both continue from there and agree again.
        _ = try recovered.apply(entries: second)
        _ = try s.store.apply(entries: second)
        #expect(recovered.appliedIndex == committedIndex + 400)
        #expect(try recovered.stateHash() == s.store.stateHash())
        #expect(try recovered.taskCounts(queue: "q") == [.queued: 600])
    }

    @Test func reapplyingAtOrBelowTheAppliedIndexIsANoOp() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            let entry = LogEntry(index: 2, data: Command.createTask(taskSpec("t")).encoded())
            #expect(try s.store.apply(entries: [entry]).first?.outcome == .created(id: "t"))
            let hash = try s.store.stateHash()
            #expect(try s.store.apply(entries: [entry]).first?.outcome == .alreadyApplied)
            #expect(try s.store.apply(index: 1, data: Command.createQueue(queueSpec("z")).encoded()).outcome == .alreadyApplied)
            #expect(try s.store.stateHash() == hash)
            // A Raft no-op advances the index (and the term) and nothing else.
            #expect(try s.store.apply(index: 3, term: 4, data: []).outcome == .noop)
            #expect(s.store.appliedIndex == 3 && s.store.appliedTerm == 4)
            s.store.close()
            let reopened = try StateStore(path: s.store.path)
            defer { reopened.close() }
            #expect(reopened.appliedIndex == 3 && reopened.appliedTerm == 4)
        }
    }

    @Test func aRejectedCommandStillAdvancesTheIndex() throws {
        try withStore { (s: TempStore) throws in
            #expect(try s.apply(.pauseQueue(name: "none")) == .rejected(.unknownQueue))
            #expect(s.store.appliedIndex == 1)
        }
    }
}

@Suite struct ApplyBatchTests {
    @Test func aBatchMayStraddleTheAppliedIndex() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            let entries = (1...4).map { LogEntry(index: UInt64($0), term: 1, data: Command.createTask(taskSpec("t\($0)")).encoded()) }
            let outcomes = try s.store.apply(entries: entries).map(\.outcome)
            #expect(outcomes == [.alreadyApplied, .created(id: "t2"), .created(id: "t3"), .created(id: "t4")])
            #expect(try s.store.task("t1") == nil)
            #expect(s.store.appliedIndex == 4)
        }
    }

    @Test func idempotencyKeysAreCollectedAfterTheirWindow() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            try s.apply(.createTask(taskSpec("t1", key: "k")))
            let end = t0 + StateStore.idempotencyWindowMs
            #expect(try s.apply(.collectGarbage(nowMs: end - 1, limit: 10)) == .counted(changed: 0, rejected: 0))
            #expect(try s.apply(.collectGarbage(nowMs: end, limit: 10)) == .counted(changed: 1, rejected: 0))
        }
    }

    @Test func restoreNeedsAFile() throws {
        let store = try StateStore(path: ":memory:")
        defer { store.close() }
        #expect(throws: StoreError.unsupported("restore into an in-memory store")) { try store.restore(from: "/nonexistent") }
    }

    @Test func aNewerSchemaIsRefused() throws {
        let s = try TempStore()
        defer { s.cleanup() }
        try s.store.db.execute("UPDATE meta SET schema_version = 99")
        #expect(throws: StoreError.schemaMismatch(found: 99, expected: StateStore.schemaVersion)) {
            _ = try StateStore(path: s.store.path)
        }
    }
}
