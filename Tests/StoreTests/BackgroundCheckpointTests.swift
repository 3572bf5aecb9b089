import Foundation
import SQLite
import Testing
@testable import Store

/// `checkpointInBackground`: the main connection never checkpoints on its own, a thread does,
/// and the store's own checkpoints (makeDurable, restore, close) still work beside it.
@Suite struct BackgroundCheckpointTests {
    static func walBytes(_ store: StateStore) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: store.path + "-wal"))?[.size] as? Int) ?? 0
    }

    static func waitForCheckpoints(_ store: StateStore, atLeast count: Int) async throws {
        for _ in 0..<500 {
            if let stats = store.backgroundCheckpoints, stats.checkpoints >= count { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no background checkpoint within 5 s: \(String(describing: store.backgroundCheckpoints))")
    }

    @Test func theThreadCheckpointsAndTheMainConnectionDoesNot() async throws {
        let s = try TempStore()
        defer { s.cleanup() }
        #expect(s.store.backgroundCheckpoints == nil)
        try s.store.checkpointInBackground(interval: 0.01)
        #expect(try s.store.db.scalarInt("PRAGMA wal_autocheckpoint") == 0)
        try s.apply(.createQueue(queueSpec()))
        // Well past SQLite's 1,000-page automatic threshold.
        for round in 0..<8 {
            _ = try s.store.apply(entries: CrashTests.batch(from: round * 500, count: 500, startIndex: UInt64(2 + round * 500)))
        }
        let before = s.store.backgroundCheckpoints?.checkpoints ?? 0
        try await Self.waitForCheckpoints(s.store, atLeast: before + 2)
        #expect(s.store.backgroundCheckpoints?.failures == 0)
        // Checkpointed: a fresh reader of the file alone (WAL ignored) sees everything.
        try s.store.makeDurable()
        let copy = s.path("copy.db")
        try FileManager.default.copyItem(atPath: s.store.path, toPath: copy)
        #expect(try StateStore.appliedPosition(of: copy).index == 4_001)
    }

    @Test func restoreAndCloseWorkWithTheCheckpointerRunning() async throws {
        let s = try TempStore()
        defer { s.cleanup() }
        try s.store.checkpointInBackground(interval: 0.005)
        try s.apply(.createQueue(queueSpec()))
        _ = try s.store.apply(entries: CrashTests.batch(from: 0, count: 300, startIndex: 2))
        let snapshot = s.path("snap.db")
        #expect(try s.store.snapshot(to: snapshot) == 301)
        _ = try s.store.apply(entries: CrashTests.batch(from: 300, count: 300, startIndex: 302))
        try await Self.waitForCheckpoints(s.store, atLeast: 1)
        try s.store.restore(from: snapshot)
        #expect(s.store.appliedIndex == 301)
        #expect(try s.store.task("t299") != nil)
        #expect(try s.store.task("t300") == nil)
        // Still no automatic checkpoint on the reopened connection, and the thread goes on.
        #expect(try s.store.db.scalarInt("PRAGMA wal_autocheckpoint") == 0)
        let before = s.store.backgroundCheckpoints?.checkpoints ?? 0
        _ = try s.store.apply(entries: CrashTests.batch(from: 300, count: 300, startIndex: 302))
        try await Self.waitForCheckpoints(s.store, atLeast: before + 2)
        #expect(s.store.backgroundCheckpoints?.failures == 0)
        s.store.close()
        // The last connection folded the WAL in and removed it.
        #expect(Self.walBytes(s.store) == 0)
        #expect(try StateStore.appliedPosition(of: s.store.path).index == 601)
    }
}
