import Foundation
import Logging
import Raft
import Synchronization
import Testing
@testable import Node

/// `SnapshotKeeper` against a real single-voter `RaftNode`, a memory log and a stand-in machine
/// whose "store" is a counter: compaction points, and the InstallSnapshot messages a leader
/// sends (naming an existing file, or waiting for one written on demand).
@Suite struct SnapshotKeeperTests {
    /// Applies nothing but its index; a snapshot is a text file holding it.
    final class CountingMachine: ReplicatedStateMachine {
        typealias Output = Void
        var appliedIndex: UInt64 = 0
        var appliedTerm: UInt64 = 0
        var durableCalls = 0
        var snapshotWriter: @Sendable (String) throws -> (index: UInt64, term: UInt64) {
            let (index, term) = (appliedIndex, appliedTerm)
            return { path in
                try Data("state at \(index)".utf8).write(to: URL(fileURLWithPath: path))
                return (index, term)
            }
        }
        var storeBytes: UInt64 = 0
        func apply(_ entries: [Entry]) throws -> [Void] {
            if let last = entries.last {
                appliedIndex = last.index.rawValue
                appliedTerm = last.term.rawValue
            }
            return entries.map { _ in () }
        }
        func makeDurable() throws { durableCalls += 1 }
        func restore(from path: String) throws {}
        func flushApplied(force: Bool) throws {}
    }

    /// A leader of a one-voter group with `entries` applied entries.
    struct Leader {
        var raft: RaftNode
        let storage = MemoryLogStorage()
        let machine = CountingMachine()

        init(entries: Int) throws {
            raft = RaftNode(config: RaftConfig(id: NodeID(1)), configuration: Configuration(voters: [NodeID(1)]),
                            state: PersistentState(), randomSeed: 7)
            for _ in 0..<100 where raft.status.role != .leader {
                raft.tick()
                try drain()
            }
            try #require(raft.status.role == .leader)
            try append(entries)
        }

        mutating func append(_ count: Int, into keeper: SnapshotKeeper<CountingMachine>? = nil) throws {
            for _ in 0..<count { _ = try raft.propose([[1, 2, 3]]) }
            try drain(into: keeper)
        }

        /// Persists, applies and acknowledges every batch, returning the entries applied.
        @discardableResult
        mutating func drain(into keeper: SnapshotKeeper<CountingMachine>? = nil) throws -> [Entry] {
            var applied: [Entry] = []
            while let effects = raft.takeEffects() {
                try storage.save(hardState: effects.hardState, entries: effects.entries)
                _ = try machine.apply(effects.committedEntries)
                keeper?.noteApplied(effects.committedEntries, machine: machine)
                applied += effects.committedEntries
                raft.acknowledge(effects.number)
            }
            return applied
        }
    }

    static func makeKeeper(entries: UInt64) throws -> (SnapshotKeeper<CountingMachine>, SnapshotFiles, URL) {
        let (files, dir) = try SnapshotFilesTests.makeFiles()
        let keeper = SnapshotKeeper<CountingMachine>(
            files: files, policy: SnapshotPolicy(entries: entries, bytes: 1 << 40, growth: 0), logger: Logger(label: "test"))
        return (keeper, files, dir)
    }

    static func install(to peer: UInt64, at index: UInt64, term: Term) -> Message {
        let metadata = SnapshotMetadata(index: LogIndex(index), term: Term(1), configuration: Configuration(voters: [NodeID(1)]))
        return Message(from: NodeID(1), to: NodeID(peer), term: term, payload: .installSnapshot(Snapshot(metadata: metadata, data: [])))
    }

    @Test func theLogIsCompactedToThePreviousPointAfterTheStoreIsMadeDurable() throws {
        var leader = try Leader(entries: 0)
        let (keeper, _, dir) = try Self.makeKeeper(entries: 10)
        defer { try? FileManager.default.removeItem(at: dir) }
        try leader.append(12, into: keeper)
        let first = leader.machine.appliedIndex
        // Before the first point nothing is due; at it, only the point is recorded.
        #expect(keeper.compactionDue)
        #expect(try !keeper.compactIfDue(raft: &leader.raft, storage: leader.storage, machine: leader.machine))
        #expect(leader.raft.status.snapshotIndex == .zero && leader.machine.durableCalls == 0)
        try leader.append(5, into: keeper)
        #expect(!keeper.compactionDue, "5 entries are below the policy's 10")
        try leader.append(6, into: keeper)
        #expect(keeper.compactionDue)
        #expect(try keeper.compactIfDue(raft: &leader.raft, storage: leader.storage, machine: leader.machine))
        // Compacted to the FIRST point: the interval since stays in the log for slow followers.
        #expect(leader.raft.status.snapshotIndex.rawValue == first)
        #expect(leader.machine.durableCalls == 1)
        #expect(try leader.storage.load().snapshot?.index.rawValue == first)
        #expect(leader.raft.status.lastIndex.rawValue > first)
    }

    @Test func anInstallNamesTheNewestFileAtOrAfterTheCompactionPoint() throws {
        let leader = try Leader(entries: 30)
        let (keeper, files, dir) = try Self.makeKeeper(entries: 10)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try SnapshotFilesTests.add(files, index: 25, term: 1, content: "state at 25")
        let heartbeat = Message(from: NodeID(1), to: NodeID(2), term: leader.raft.status.term, payload: .heartbeat(.init(commit: .zero)))
        let sent = try keeper.outgoing([heartbeat, Self.install(to: 3, at: 20, term: leader.raft.status.term)],
                                       raft: leader.raft, machine: leader.machine, tick: 0) { _ in Issue.record("no snapshot needed") }
        try #require(sent.count == 2)
        #expect(sent[0] == heartbeat)
        guard case .installSnapshot(let snapshot) = sent[1].payload else {
            Issue.record("not an install: \(sent[1])")
            return
        }
        #expect(snapshot.metadata == file.metadata)
        #expect(sent[1].to == NodeID(3))
    }

    @Test func withoutAFileTheInstallWaitsForOneWrittenOnDemand() async throws {
        let leader = try Leader(entries: 30)
        let (keeper, files, dir) = try Self.makeKeeper(entries: 10)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A file older than the compaction point the core asks for is no use.
        _ = try SnapshotFilesTests.add(files, index: 5, term: 1, content: "state at 5")
        let taken = Mutex<SnapshotKeeper<CountingMachine>.Taken?>(nil)
        let term = leader.raft.status.term
        let sent = try keeper.outgoing([Self.install(to: 2, at: 20, term: term)], raft: leader.raft, machine: leader.machine,
                                       tick: 0) { result in taken.withLock { $0 = result } }
        #expect(sent.isEmpty, "the install waits for the file")
        var result: SnapshotKeeper<CountingMachine>.Taken?
        for _ in 0..<500 {
            result = taken.withLock { $0 }
            if result != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let written = try #require(result)
        let released = try keeper.finish(written, raft: leader.raft, tick: 1)
        try #require(released.count == 1)
        guard case .installSnapshot(let snapshot) = released[0].payload else {
            Issue.record("not an install: \(released[0])")
            return
        }
        let applied = leader.machine.appliedIndex
        #expect(snapshot.metadata.index.rawValue == applied, "a file of the current state")
        #expect(snapshot.metadata.configuration.voters == [NodeID(1)])
        let meta = try #require(files.meta(index: applied, term: snapshot.metadata.term.rawValue))
        #expect(files.verify(meta))
        #expect(try String(contentsOfFile: files.dataPath(index: meta.index, term: meta.term), encoding: .utf8) == "state at \(applied)")
        // A second follower asking later gets the same file at once.
        let again = try keeper.outgoing([Self.install(to: 3, at: 20, term: term)], raft: leader.raft, machine: leader.machine,
                                        tick: 2) { _ in Issue.record("the file exists") }
        #expect(again.count == 1)
    }

    @Test func anInstallOfAnOlderTermIsDroppedWhenItsFileIsReady() async throws {
        let leader = try Leader(entries: 30)
        let (keeper, _, dir) = try Self.makeKeeper(entries: 10)
        defer { try? FileManager.default.removeItem(at: dir) }
        let taken = Mutex<SnapshotKeeper<CountingMachine>.Taken?>(nil)
        let stale = Term(leader.raft.status.term.rawValue - 1)
        _ = try keeper.outgoing([Self.install(to: 2, at: 20, term: stale)], raft: leader.raft, machine: leader.machine,
                                tick: 0) { result in taken.withLock { $0 = result } }
        var result: SnapshotKeeper<CountingMachine>.Taken?
        for _ in 0..<500 {
            result = taken.withLock { $0 }
            if result != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try keeper.finish(try #require(result), raft: leader.raft, tick: 1).isEmpty)
    }

    @Test func compactionWaitsWhileASnapshotFileIsBeingWritten() async throws {
        var leader = try Leader(entries: 0)
        let (keeper, _, dir) = try Self.makeKeeper(entries: 10)
        defer { try? FileManager.default.removeItem(at: dir) }
        try leader.append(12, into: keeper)
        #expect(try !keeper.compactIfDue(raft: &leader.raft, storage: leader.storage, machine: leader.machine), "the first point")
        let taken = Mutex<SnapshotKeeper<CountingMachine>.Taken?>(nil)
        _ = try keeper.outgoing([Self.install(to: 2, at: 5, term: leader.raft.status.term)], raft: leader.raft,
                                machine: leader.machine, tick: 0) { result in taken.withLock { $0 = result } }
        try leader.append(12, into: keeper)
        #expect(keeper.compactionDue)
        #expect(try !keeper.compactIfDue(raft: &leader.raft, storage: leader.storage, machine: leader.machine))
        #expect(leader.raft.status.snapshotIndex == .zero, "the log keeps what follows the file being written")
        var result: SnapshotKeeper<CountingMachine>.Taken?
        for _ in 0..<500 {
            result = taken.withLock { $0 }
            if result != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = try keeper.finish(try #require(result), raft: leader.raft, tick: 1)
        #expect(try keeper.compactIfDue(raft: &leader.raft, storage: leader.storage, machine: leader.machine))
        #expect(leader.raft.status.snapshotIndex > .zero)
    }

    @Test func afterARestartTheGrowthRuleSeesTheReopenedStore() throws {
        var leader = try Leader(entries: 0)
        leader.machine.storeBytes = 1 << 30
        // A fresh keeper, as after a restart, with the byte rule on: 3-byte entries are far
        // from a 1 GiB store's worth of log however many there are.
        let (files, dir) = try SnapshotFilesTests.makeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keeper = SnapshotKeeper<CountingMachine>(
            files: files, policy: SnapshotPolicy(entries: 10, bytes: 1 << 40, growth: 1), logger: Logger(label: "test"))
        try leader.append(50, into: keeper)
        #expect(!keeper.compactionDue, "the rule counted the store it reopened, not an empty one")
        leader.machine.storeBytes = 100
        let fresh = SnapshotKeeper<CountingMachine>(
            files: files, policy: SnapshotPolicy(entries: 10, bytes: 1 << 40, growth: 1), logger: Logger(label: "test"))
        try leader.append(50, into: fresh)
        #expect(fresh.compactionDue, "150 bytes of entries past a 100-byte store")
    }
}
