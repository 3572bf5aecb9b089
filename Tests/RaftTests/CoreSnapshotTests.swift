import Testing
@testable import Raft

/// Log compaction and InstallSnapshot (Raft §7).
@Suite struct CoreSnapshotTests {
    private func compactLeader(_ c: inout CoreTestCluster, _ id: UInt64) {
        let status = c.status(id)
        let term = c.node(id).log.term(at: status.applied) ?? .zero
        c.with(id) { $0.compact(to: SnapshotMetadata(index: status.applied, term: term, configuration: status.configuration)) }
    }

    /// §7: a follower that needs compacted entries gets a snapshot, installs it, answers at the
    /// snapshot index after persisting, and then catches up by appends.
    @Test func paper7_laggingFollowerCatchesUpThroughSnapshot() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolated = [nid(3)]
        try c.propose(1, [[1], [2], [3]])
        compactLeader(&c, 1)
        try c.propose(1, [[4]])
        c.isolated = []
        c.tickAll(times: 3)
        #expect(c.snapshotsInstalled[nid(3)]?.map(\.index) == [LogIndex(4)])
        #expect(c.status(3).lastIndex == c.status(1).lastIndex)
        #expect(c.committedData(3) == [[4]], "entries after the snapshot arrive as appends")
        #expect(c.disks[nid(3)]?.state.snapshot?.index == LogIndex(4))
    }

    /// §7: the follower resets its log to the snapshot and answers only after persisting it.
    @Test func paper7_followerInstallsSnapshotThenAnswersAfterPersist() {
        var solo = SoloNode(id: 2, voters: [1, 2, 3], state: PersistentState(hardState: HardState(term: Term(1)), entries: entries(terms: [1])))
        let metadata = SnapshotMetadata(index: LogIndex(10), term: Term(2), configuration: Configuration(voters: [nid(1), nid(2), nid(3)]))
        solo.step(from: 1, term: 2, .installSnapshot(Snapshot(metadata: metadata)))
        let effects = solo.drain()
        #expect(effects.snapshot?.metadata == metadata)
        #expect(effects.messages.isEmpty)
        #expect(effects.messagesAfterPersist.map(\.payload) == [.appendResponse(.init(index: LogIndex(10), reject: false))])
        #expect(solo.node.status.commit == LogIndex(10) && solo.node.status.applied == LogIndex(10))
        #expect(solo.node.status.lastIndex == LogIndex(10))
    }

    /// Simulator finding F1 (seeds 166/216/331/390): a duplicated InstallSnapshot arrives before
    /// the first copy is persisted. The second copy is at or below commit, and its ack must
    /// still wait for the persist — else the leader counts entries this node could lose.
    @Test func duplicateSnapshotIsAcknowledgedOnlyAfterPersist() {
        var solo = SoloNode(id: 2, voters: [1, 2, 3], state: PersistentState(hardState: HardState(term: Term(1)), entries: entries(terms: [1])))
        let metadata = SnapshotMetadata(index: LogIndex(10), term: Term(2), configuration: Configuration(voters: [nid(1), nid(2), nid(3)]))
        solo.step(from: 1, term: 2, .installSnapshot(Snapshot(metadata: metadata)))
        solo.step(from: 1, term: 2, .installSnapshot(Snapshot(metadata: metadata)))
        let effects = solo.drain()
        #expect(effects.snapshot?.metadata == metadata)
        let earlyAcks = effects.messages.filter {
            if case .appendResponse(let response) = $0.payload { return !response.reject }
            return false
        }
        #expect(earlyAcks.isEmpty, "an ack sent before the persist: \(earlyAcks)")
        #expect(effects.messagesAfterPersist.count == 2)
    }

    @Test func paper7_snapshotOlderThanCommitIsNotInstalled() {
        var solo = SoloNode(id: 2, voters: [1, 2, 3], state: PersistentState(hardState: HardState(term: Term(2), commit: LogIndex(3)), entries: entries(terms: [1, 1, 2])))
        let metadata = SnapshotMetadata(index: LogIndex(2), term: Term(1), configuration: Configuration(voters: [nid(1), nid(2), nid(3)]))
        solo.step(from: 1, term: 2, .installSnapshot(Snapshot(metadata: metadata)))
        let effects = solo.drain()
        #expect(effects.snapshot == nil)
        #expect(solo.node.status.lastIndex == LogIndex(3))
    }

    /// A failed snapshot send puts the follower back to probing; the leader retries.
    @Test func failedSnapshotIsRetried() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.autoReportSnapshots = false
        c.elect(1)
        c.isolated = [nid(3)]
        try c.propose(1, [[1]])
        compactLeader(&c, 1)
        c.isolated = []
        // The host's snapshot stream is lost on the way.
        c.filter = { if case .installSnapshot = $0.payload { return false } else { return true } }
        c.tickAll(times: 1)
        #expect(c.progressState(leader: 1, of: 3) == .snapshot(pendingIndex: LogIndex(2)))
        c.with(1) { $0.reportSnapshot(nid(3), success: false) }
        #expect(c.progressState(leader: 1, of: 3) == .probe)
        c.filter = { _ in true }
        c.autoReportSnapshots = true
        c.tickAll(times: 3)
        #expect(c.progressState(leader: 1, of: 3) == .replicate)
        #expect(c.status(3).lastIndex == c.status(1).lastIndex)
    }
}
