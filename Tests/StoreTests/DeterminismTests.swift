import Foundation
import Testing
@testable import Store

@Suite struct DeterminismTests {
    /// Generates `count` entries against `store` (applying them in random batches) and
    /// returns them, so other stores can replay exactly the same log.
    static func generate(seed: UInt64, count: Int, on store: StateStore) throws -> [LogEntry] {
        var generator = CommandGenerator(seed: seed)
        var log: [LogEntry] = []
        var index = store.appliedIndex
        func append(_ entries: [LogEntry]) throws {
            _ = try store.apply(entries: entries)
            log += entries
        }
        try append(generator.preamble().map { command in
            index += 1
            return LogEntry(index: index, term: 1, data: command.encoded())
        })
        // The generator peeks at the state, so generation applies one entry at a time;
        // replays below use other batch sizes.
        while log.count < count {
            index += 1
            let command = try generator.next(store)
            try append([LogEntry(index: index, term: 1 + index / 500, data: command?.encoded() ?? [])])
        }
        return log
    }

    static func replay(_ log: [LogEntry], on store: StateStore, batchSizes: [Int]) throws {
        var start = 0
        var turn = 0
        while start < log.count {
            let size = batchSizes[turn % batchSizes.count]
            turn += 1
            let end = min(start + size, log.count)
            _ = try store.apply(entries: Array(log[start..<end]))
            start = end
        }
    }

    /// Task counts by a full scan, to check the maintained `queue_counts`.
    static func recount(_ store: StateStore) throws -> [String: [TaskState: Int]] {
        var counts: [String: [TaskState: Int]] = [:]
        try store.db.query("SELECT queue, state, count(*) FROM tasks GROUP BY queue, state") { row in
            if let state = TaskState(rawValue: row.text(1)) { counts[row.text(0), default: [:]][state] = row.int(2) }
        }
        return counts
    }

    @Test(arguments: [UInt64(1), 42, 2026])
    func twoStoresApplyingTheSameLogAreIdentical(seed: UInt64) throws {
        let a = try TempStore()
        defer { a.cleanup() }
        let log = try Self.generate(seed: seed, count: 3_000, on: a.store)
        // B: in memory, replayed in different batch sizes — batching must not change the result.
        let b = try StateStore(path: ":memory:")
        try Self.replay(log, on: b, batchSizes: [1, 7, 64, 300])
        #expect(b.appliedIndex == a.store.appliedIndex)
        #expect(try b.tableHashes() == a.store.tableHashes())
        #expect(try b.stateHash() == a.store.stateHash())
        // Replaying the whole log again is a no-op.
        let before = try b.stateHash()
        let results = try b.apply(entries: log)
        #expect(results.allSatisfy { $0.outcome == .alreadyApplied })
        #expect(try b.stateHash() == before)
        // The maintained counts match a full recount (batched in A one way, in B another).
        #expect(try a.store.allTaskCounts() == Self.recount(a.store))
        #expect(try b.allTaskCounts() == Self.recount(b))
        // The workload really exercised the interesting paths.
        let counts = try a.store.allTaskCounts().values.reduce(into: [TaskState: Int]()) { $0.merge($1, uniquingKeysWith: +) }
        #expect(counts[.succeeded, default: 0] > 0 && counts[.queued, default: 0] > 0)
        #expect(counts[.dead, default: 0] + counts[.cancelled, default: 0] > 0)
        #expect(try a.store.staleFenceRejections > 0)
    }

    @Test func snapshotRestoreContinueStaysIdentical() throws {
        let a = try TempStore()
        defer { a.cleanup() }
        let log = try Self.generate(seed: 7, count: 4_000, on: a.store)
        let cut = log.count / 2
        // Reference: one store that applies everything.
        let reference = try StateStore(path: ":memory:")
        try Self.replay(log, on: reference, batchSizes: [32])
        #expect(try reference.stateHash() == a.store.stateHash())
        // B applies the first half, snapshots; C restores the snapshot; both continue.
        let b = try TempStore()
        defer { b.cleanup() }
        try Self.replay(Array(log[..<cut]), on: b.store, batchSizes: [50])
        let snapshotPath = b.path("snap.db")
        #expect(try b.store.snapshot(to: snapshotPath) == log[cut - 1].index)
        #expect(try StateStore.validateSnapshot(at: snapshotPath) == log[cut - 1].index)
        let c = try TempStore()
        defer { c.cleanup() }
        try Self.replay(Array(log[..<10]), on: c.store, batchSizes: [5])  // some older state to replace
        try c.store.restore(from: snapshotPath)
        #expect(c.store.appliedIndex == log[cut - 1].index)
        #expect(try c.store.stateHash() == b.store.stateHash())
        try Self.replay(Array(log[cut...]), on: b.store, batchSizes: [64])
        try Self.replay(log, on: c.store, batchSizes: [100])  // entries up to the cut are skipped
        #expect(try c.store.stateHash() == reference.stateHash())
        #expect(try b.store.stateHash() == reference.stateHash())
        // Byte-for-byte: compacted copies of two replicas are identical files.
        try b.store.snapshot(to: b.path("end-b.db"))
        try c.store.snapshot(to: c.path("end-c.db"))
        // Header bytes 40–43 are SQLite's schema cookie, which each VACUUM INTO bumps: C's
        // file was made by one more VACUUM INTO than B's. It is file metadata, not state.
        var bytesB = try Data(contentsOf: URL(fileURLWithPath: b.path("end-b.db")))
        var bytesC = try Data(contentsOf: URL(fileURLWithPath: c.path("end-c.db")))
        #expect(bytesB.count > 100 && bytesB.count == bytesC.count)
        bytesB.replaceSubrange(40..<44, with: [0, 0, 0, 0])
        bytesC.replaceSubrange(40..<44, with: [0, 0, 0, 0])
        #expect(bytesB == bytesC)
        // A reopened store reads the same state and index.
        c.store.close()
        let reopened = try StateStore(path: c.store.path)
        defer { reopened.close() }
        #expect(reopened.appliedIndex == log.last?.index)
        #expect(try reopened.stateHash() == reference.stateHash())
    }

    @Test func restoreRefusesABadSnapshot() throws {
        try withStore { s in
            try s.apply(.createQueue(queueSpec()))
            let bad = s.path("bad.db")
            try Data("not a database at all, just some bytes".utf8).write(to: URL(fileURLWithPath: bad))
            #expect(throws: StoreError.self) { try s.store.restore(from: bad) }
            #expect(throws: StoreError.self) { try s.store.restore(from: s.path("missing.db")) }
            // The live store is untouched and usable.
            #expect(try s.store.queue("q") != nil)
            #expect(try s.apply(.pauseQueue(name: "q")) == .ok)
            #expect(throws: StoreError.self) { try s.store.snapshot(to: bad) }
        }
    }
}
