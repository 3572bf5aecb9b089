import Testing
@testable import Raft

/// Log replication: Raft §5.3 (consistency check, suffix truncation), §5.4.2 (commit rule,
/// Figure 8), durability of the leader's own log (I6), flow control and batching.
@Suite struct CoreReplicationTests {
    private func follower(terms: [UInt64], term: UInt64, commit: UInt64 = 0) -> SoloNode {
        let state = PersistentState(hardState: HardState(term: Term(term), commit: LogIndex(commit)), entries: entries(terms: terms))
        return SoloNode(id: 2, voters: [1, 2, 3], state: state)
    }

    private func append(prev: UInt64, prevTerm: UInt64, terms: [UInt64], commit: UInt64 = 0) -> Message.Payload {
        .append(.init(prevLogIndex: LogIndex(prev), prevLogTerm: Term(prevTerm), entries: entries(terms: terms, from: prev + 1), commit: LogIndex(commit)))
    }

    /// §5.3: an append whose prevLogIndex/prevLogTerm does not match is rejected and changes nothing.
    @Test func paper5_3_consistencyCheckRejectsMismatch() {
        var f = follower(terms: [1, 1, 3, 3], term: 4)
        f.step(from: 1, term: 4, append(prev: 4, prevTerm: 2, terms: [4]))
        let response = f.drainMessages().first?.payload
        guard case .appendResponse(let r)? = response else {
            Issue.record("expected an append response, got \(String(describing: response))")
            return
        }
        #expect(r.reject && r.index == LogIndex(4))
        #expect(r.hintIndex == LogIndex(2) && r.hintTerm == Term(1), "hint skips the whole conflicting term 3")
        #expect(f.node.status.lastIndex == LogIndex(4))
    }

    /// §5.3: only the conflicting suffix is deleted; matching entries are kept.
    @Test func paper5_3_truncatesOnlyTheConflictingSuffix() {
        var f = follower(terms: [1, 1, 2, 2], term: 3)
        f.step(from: 1, term: 3, append(prev: 2, prevTerm: 1, terms: [3]))
        let effects = f.drain()
        #expect(effects.entries.map(\.index) == [LogIndex(3)])
        #expect(effects.entries.map(\.term) == [Term(3)])
        #expect(f.node.status.lastIndex == LogIndex(3))
        #expect(effects.messagesAfterPersist.map(\.payload) == [.appendResponse(.init(index: LogIndex(3), reject: false))])
    }

    /// §5.3: an append of entries we already have (a delayed duplicate) truncates nothing.
    @Test func paper5_3_stalePrefixAppendKeepsLaterEntries() {
        var f = follower(terms: [1, 1, 2, 2], term: 3)
        f.step(from: 1, term: 3, append(prev: 0, prevTerm: 0, terms: [1, 1]))
        let effects = f.drain()
        #expect(effects.entries.isEmpty)
        #expect(f.node.status.lastIndex == LogIndex(4))
        #expect(effects.messagesAfterPersist.map(\.payload) == [.appendResponse(.init(index: LogIndex(2), reject: false))])
    }

    /// A commit notice (quiet append) moves the follower's commit index and draws no answer;
    /// one the follower cannot match is rejected as any append would be.
    @Test func aQuietAppendIsAnsweredOnlyWhenRejected() {
        var f = follower(terms: [1, 1, 1], term: 1)
        f.step(from: 1, term: 1, .append(.init(prevLogIndex: LogIndex(3), prevLogTerm: Term(1), entries: [], commit: LogIndex(2), quiet: true)))
        let effects = f.drain()
        #expect(effects.messages.isEmpty && effects.messagesAfterPersist.isEmpty)
        #expect(f.node.status.commit == LogIndex(2))
        // Below the commit index: nothing to say either.
        f.step(from: 1, term: 1, .append(.init(prevLogIndex: LogIndex(1), prevLogTerm: Term(1), entries: [], commit: LogIndex(2), quiet: true)))
        #expect(f.drainMessages().isEmpty)
        // A position we lack: rejected, with the hint.
        f.step(from: 1, term: 1, .append(.init(prevLogIndex: LogIndex(5), prevLogTerm: Term(1), entries: [], commit: LogIndex(5), quiet: true)))
        let answer = f.drainMessages().map(\.payload)
        #expect(answer == [.appendResponse(.init(index: LogIndex(5), reject: true, hintIndex: LogIndex(3), hintTerm: Term(1)))])
        #expect(f.node.status.commit == LogIndex(2))
    }

    /// Odd peer input never traps; it is rejected or ignored.
    @Test(arguments: [
        // prevLogIndex beyond our log
        Message.Payload.append(.init(prevLogIndex: LogIndex(99), prevLogTerm: Term(1), entries: [], commit: LogIndex(99))),
        // entries not contiguous
        .append(.init(prevLogIndex: LogIndex(2), prevLogTerm: Term(1), entries: [Entry(term: Term(1), index: LogIndex(5))], commit: .zero)),
        // entries with decreasing terms
        .append(.init(prevLogIndex: LogIndex(2), prevLogTerm: Term(1), entries: [Entry(term: Term(2), index: LogIndex(3)), Entry(term: Term(1), index: LogIndex(4))], commit: .zero)),
        // entries from a term later than the message
        .append(.init(prevLogIndex: LogIndex(2), prevLogTerm: Term(1), entries: [Entry(term: Term(9), index: LogIndex(3))], commit: .zero)),
        // overwriting a committed entry
        .append(.init(prevLogIndex: .zero, prevLogTerm: .zero, entries: [Entry(term: Term(3), index: LogIndex(1))], commit: .zero)),
        .appendResponse(.init(index: LogIndex(1_000), reject: false)),
        .appendResponse(.init(index: LogIndex(1_000), reject: true, hintIndex: LogIndex(1_000), hintTerm: Term(77))),
        .heartbeatResponse(.init(context: [1, 2, 3])),
        .readIndexResponse(context: [1], index: LogIndex(1_000)),
        .installSnapshot(Snapshot(metadata: SnapshotMetadata(index: .zero, term: .zero, configuration: Configuration(voters: [])))),
        .voteResponse(.init(preVote: true, granted: true)),
        .timeoutNow,
    ])
    func oddPeerInputIsIgnoredWithoutTrapping(payload: Message.Payload) {
        var f = follower(terms: [1, 1, 2], term: 3, commit: 1)
        f.step(from: 1, term: 3, payload)
        _ = f.drain()
        #expect(f.node.status.commit <= f.node.status.lastIndex)
        #expect(f.node.status.lastIndex >= LogIndex(1))
        // Also as a leader.
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        let term = c.status(1).term
        c.with(1) { $0.step(Message(from: nid(2), to: nid(1), term: term, payload: payload)) }
        c.stabilize()
        #expect(c.status(1).role == .leader)
        #expect(c.status(1).commit <= c.status(1).lastIndex)
    }

    /// Figure 7 / §5.3 fast back-off: the follower's hint lets the leader skip whole terms, so a
    /// divergent follower is fixed in a few round trips instead of one per entry.
    @Test func paper5_3_fastBackoffSkipsConflictingTerms() {
        // Leader of Figure 7 (terms 1,1,1,4,4,5,5,6,6,6) and follower (f) with a long term-2/3 tail.
        let leaderLog = entries(terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6])
        let followerLog = entries(terms: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3])
        var c = CoreTestCluster(
            states: [
                1: PersistentState(hardState: HardState(term: Term(7), commit: LogIndex(3)), entries: leaderLog),
                2: PersistentState(hardState: HardState(term: Term(7), commit: LogIndex(3)), entries: followerLog),
                3: PersistentState(hardState: HardState(term: Term(7), commit: LogIndex(3)), entries: leaderLog),
            ], config: plainConfig)
        c.elect(1)
        #expect(c.leaders == [nid(1)])
        let rejects = c.delivered.filter {
            if case .appendResponse(let r) = $0.payload, r.reject, $0.from == nid(2) { return true }
            return false
        }
        #expect(rejects.count <= 2, "took \(rejects.count) rejections")
        #expect(c.status(2).lastIndex == LogIndex(11))
        #expect(c.committed[nid(2)]?.last?.term == Term(8))
    }

    /// §5.4.2 / Figure 8: a leader never commits an entry of an earlier term by counting
    /// replicas; it commits it only indirectly, with an entry of its own term.
    @Test func paper5_4_2_figure8_commitsOnlyCurrentTermEntriesByCounting() {
        var c = CoreTestCluster(
            states: [
                1: PersistentState(hardState: HardState(term: Term(3), commit: LogIndex(1)), entries: entries(terms: [1, 2])),
                2: PersistentState(hardState: HardState(term: Term(3), commit: LogIndex(1)), entries: entries(terms: [1])),
                3: PersistentState(hardState: HardState(term: Term(3), commit: LogIndex(1)), entries: entries(terms: [1])),
            ], config: plainConfig)
        // Deliver the term-2 entry, but never the leader's term-4 no-op at index 3.
        c.transform = { message in
            guard case .append(var a) = message.payload else { return message }
            a.entries.removeAll { $0.index >= LogIndex(3) }
            var stripped = message
            stripped.payload = .append(a)
            return stripped
        }
        c.elect(1)
        #expect(c.status(1).role == .leader && c.status(1).term == Term(4))
        #expect(c.status(2).lastIndex == LogIndex(2), "the old entry is on a majority")
        #expect(c.status(1).commit == LogIndex(1), "but it must not be committed by counting")
        c.transform = { $0 }
        c.tickAll(times: 2)
        #expect(c.status(1).commit == LogIndex(3))
        #expect(c.committed[nid(2)]?.map(\.index) == [LogIndex(1), LogIndex(2), LogIndex(3)])
    }

    /// I6 CommittedIsDurable: the leader counts its own log only up to what the host
    /// acknowledged as persisted, and never commits beyond its own durable log.
    @Test(arguments: [false, true])
    func leaderCommitsOnlyWhatItHasPersisted(bothFollowersPersist: Bool) throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        if !bothFollowersPersist { c.isolated = [nid(2)] }
        let range = try c.proposeOnly(1, [[42]])
        var leader = c.node(1)
        guard let effects = leader.takeEffects() else {
            Issue.record("the leader must hand out its new entry")
            return
        }
        #expect(effects.entries.map(\.index) == [range.lowerBound])
        #expect(effects.messages.contains { $0.to == nid(3) }, "appends go out in parallel with the leader's fsync")
        c.nodes[nid(1)] = leader
        c.inFlight += effects.messages
        c.deliverAll()
        c.process(nid(2))
        c.process(nid(3))
        c.deliverAll()
        #expect(c.status(1).commit < range.lowerBound, "not durable on the leader yet")
        c.with(1) { $0.acknowledge(effects.number) }
        #expect(c.status(1).commit == range.lowerBound)
    }

    /// Committed entries are handed out only once durable locally.
    @Test func committedEntriesAreNeverAheadOfThePersistedLog() throws {
        var c = CoreTestCluster(voters: [1])
        c.elect(1)
        _ = try c.proposeOnly(1, [[1]])
        var leader = c.node(1)
        let batch = leader.takeEffects()
        #expect(batch?.committedEntries.isEmpty == true)
        #expect(leader.takeEffects() == nil, "one batch at a time")
        #expect(!leader.hasEffects)
        leader.acknowledge(batch?.number ?? 0)
        #expect(leader.takeEffects()?.committedEntries.map(\.data) == [[1]])
    }

    /// Proposal batching: proposals between two batches share one append per follower.
    @Test func proposalsBetweenBatchesGoOutInOneAppend() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        let first = try c.proposeOnly(1, [[1], [2], [3]])
        let second = try c.proposeOnly(1, [[4]])
        #expect(first.upperBound == first.lowerBound + 2 && second.lowerBound == first.upperBound.next)
        let effects = c.with(1) { $0.takeEffects() }
        let appends = (effects?.messages ?? []).filter { if case .append = $0.payload { return true } else { return false } }
        #expect(appends.count == 2)
        for message in appends {
            guard case .append(let a) = message.payload else { continue }
            #expect(a.entries.map(\.data) == [[1], [2], [3], [4]])
        }
        #expect(effects?.entries.count == 4)
    }

    /// Flow control: at most maxInflightMessages appends to a silent follower, each within
    /// maxBytesPerMessage but carrying at least one entry.
    @Test func pipelinedAppendsAreBoundedByInflightAndBytes() throws {
        var c = CoreTestCluster(voters: [1, 2]) { RaftConfig(id: $0, maxInflightMessages: 3, maxBytesPerMessage: 100) }
        c.elect(1)
        c.filter = { $0.to != nid(2) }
        c.delivered = []
        try c.propose(1, (0..<20).map { _ in [UInt8](repeating: 7, count: 60) })
        let sent = c.sentAppends(to: 2)
        #expect(sent.count == 3, "sent \(sent.count) appends")
        #expect(sent.allSatisfy { $0.entries.count == 1 }, "60+24 bytes per entry: one per message")
        // One entry larger than the limit still goes out alone.
        var big = CoreTestCluster(voters: [1, 2]) { RaftConfig(id: $0, maxBytesPerMessage: 10) }
        big.elect(1)
        try big.propose(1, [[UInt8](repeating: 1, count: 500)])
        #expect(big.committedData(2) == [[UInt8](repeating: 1, count: 500)])
    }

    /// When the commit index moves, followers in replicate state get a quiet append (a commit
    /// notice) and do not answer it; a follower in probe gets an ordinary one, whose answer
    /// returns it to replicate.
    @Test func commitNoticesAreQuietOnlyToReplicatingFollowers() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.delivered = []
        let range = try c.propose(1, [[1]])
        for id: UInt64 in [2, 3] {
            let appends = c.sentAppends(to: id)
            #expect(appends.filter { !$0.entries.isEmpty }.allSatisfy { !$0.quiet })
            #expect(appends.contains { $0.quiet && $0.entries.isEmpty && $0.commit == range.upperBound })
            let answers = c.delivered.filter { $0.from == nid(id) && { if case .appendResponse = $0.payload { true } else { false } }($0) }
            #expect(answers.count == appends.filter { !$0.quiet }.count, "only the non-quiet appends are answered")
            #expect(c.status(id).commit == range.upperBound)
        }
        // A follower in probe: the notice is an ordinary append, answered, and it replicates again.
        c.with(1) { $0.reportUnreachable(nid(2)) }
        c.filter = { !($0.to == nid(2) && { if case .append(let a) = $0.payload { !a.entries.isEmpty } else { false } }($0)) }
        c.delivered = []
        let next = try c.propose(1, [[2]])
        #expect(c.status(1).commit == next.upperBound)
        #expect(!c.sentAppends(to: 2).isEmpty && c.sentAppends(to: 2).allSatisfy { !$0.quiet })
        #expect(c.sentAppends(to: 3).contains { $0.quiet })
        c.filter = { _ in true }
        c.tickAll(times: 2)
        #expect(c.progressState(leader: 1, of: 2) == .replicate)
        #expect(c.status(2).commit == next.upperBound)
    }

    /// Back-pressure: proposals are refused while uncommitted bytes exceed the limit.
    @Test func tooManyUncommittedBytesRefusesProposals() throws {
        var c = CoreTestCluster(voters: [1, 2, 3]) { RaftConfig(id: $0, maxUncommittedBytes: 1000) }
        c.elect(1)
        c.isolated = [nid(2), nid(3)]
        try c.propose(1, [[UInt8](repeating: 0, count: 600)])
        #expect(throws: ProposalError.tooManyUncommitted) {
            _ = try c.proposeOnly(1, [[UInt8](repeating: 0, count: 600)])
        }
        c.isolated = []
        c.tickAll(times: 2)
        try c.propose(1, [[UInt8](repeating: 0, count: 600)])
        #expect(c.committedData(3).count == 2)
    }

    @Test func proposalOnFollowerNamesTheLeader() {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        #expect(throws: ProposalError.notLeader(leader: nid(1))) {
            _ = try c.proposeOnly(2, [[1]])
        }
    }

    /// Progress: probe until the first success, then replicate; unreachable falls back to probe.
    @Test func progressMovesProbeToReplicateAndBackOnUnreachable() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        #expect(c.progressState(leader: 1, of: 2) == .replicate)
        c.with(1) { $0.reportUnreachable(nid(2)) }
        #expect(c.progressState(leader: 1, of: 2) == .probe)
        try c.propose(1, [[1]])
        #expect(c.progressState(leader: 1, of: 2) == .replicate)
        #expect(c.status(1).matchIndex[nid(2)] == c.status(1).lastIndex)
    }

    /// A restarted follower keeps its durable log, term and vote and rejoins.
    @Test func restartedNodeRecoversFromItsDisk() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        try c.propose(1, [[5], [6]])
        let before = c.status(2)
        c.restart(nid(2))
        #expect(c.status(2).term == before.term && c.status(2).lastIndex == before.lastIndex)
        c.committed[nid(2)] = []
        c.tickAll(times: 2)
        #expect(c.committedData(2) == [[5], [6]], "committed entries are re-handed after restart")
    }
}

extension CoreTestCluster {
    func sentAppends(to id: UInt64) -> [Message.Append] {
        (delivered + dropped + inFlight).compactMap { message in
            if message.to == nid(id), case .append(let a) = message.payload { return a }
            return nil
        }
    }

    func progressState(leader: UInt64, of peer: UInt64) -> Progress.State? {
        guard case .leader(let state) = node(leader).roleState else { return nil }
        return state.progress.first { $0.id == nid(peer) }?.state
    }
}

@Suite struct CoreFlowControlTests {
    /// Every append that filled the in-flight window is lost: heartbeat answers still get the
    /// follower back (an empty append draws a rejection, then probe, then replicate).
    @Test func followerRecoversWhenAllInflightAppendsAreLost() throws {
        var c = CoreTestCluster(voters: [1, 2, 3]) { RaftConfig(id: $0, maxInflightMessages: 2, maxBytesPerMessage: 1) }
        c.elect(1)
        c.filter = { !($0.to == nid(2) && { if case .append = $0.payload { return true } else { return false } }($0)) }
        let range = try c.propose(1, [[1], [2], [3], [4], [5]])
        #expect(c.sentAppends(to: 2).count >= 2)
        c.filter = { _ in true }
        c.tickAll(times: 3)
        #expect(c.status(2).lastIndex == range.upperBound)
        #expect(c.progressState(leader: 1, of: 2) == .replicate)
    }

    /// A caught-up follower left in probe (after reportUnreachable) returns to replicate on
    /// the next heartbeat answer.
    @Test func caughtUpProbeFollowerReturnsToReplicateOnHeartbeat() {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.with(1) { $0.reportUnreachable(nid(2)) }
        #expect(c.progressState(leader: 1, of: 2) == .probe)
        c.tickAll(times: 1)
        #expect(c.progressState(leader: 1, of: 2) == .replicate)
    }
}
