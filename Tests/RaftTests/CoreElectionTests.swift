import Testing
@testable import Raft

/// Leader election: Raft §5.2, §5.4.1; thesis §9.3 (randomized timeouts), §9.6 (pre-vote),
/// §6.2 / §4.2.3 (check-quorum and the leader lease).
@Suite struct CoreElectionTests {
    @Test func singleNodeElectsItselfAndCommitsItsNoop() {
        var c = CoreTestCluster(voters: [1])
        c.elect(1)
        #expect(c.status(1).role == .leader)
        #expect(c.status(1).commit == LogIndex(1))
        #expect(c.committed[nid(1)]?.map(\.index) == [LogIndex(1)])
    }

    @Test func threeNodesElectOneLeaderAndReplicate() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        #expect(c.leaders == [nid(1)])
        try c.propose(1, [[1], [2]])
        for id: UInt64 in [1, 2, 3] {
            #expect(c.committedData(id) == [[1], [2]])
        }
    }

    /// §5.2 / §9.3: each node draws its timeout uniformly in [base, 2*base), anew each time.
    @Test func paper5_2_electionTimeoutIsRandomizedInBaseToTwiceBase() {
        var seen: Set<Int> = []
        for seed: UInt64 in 0..<50 {
            var node = RaftNode(
                config: RaftConfig(id: nid(1), electionTimeoutTicks: 10, preVote: false),
                configuration: Configuration(voters: [nid(1), nid(2), nid(3)]), state: PersistentState(), randomSeed: seed)
            var ticks = 0
            while node.status.role == .follower && ticks < 100 {
                node.tick()
                ticks += 1
            }
            #expect((10..<20).contains(ticks), "seed \(seed) campaigned after \(ticks) ticks")
            seen.insert(ticks)
        }
        #expect(seen.count >= 5, "timeouts are not randomized: \(seen)")
    }

    /// §5.2 and I8: at most one vote per term, also across a restart from the persisted state.
    @Test func paper5_2_grantsAtMostOneVotePerTerm() {
        var solo = SoloNode(id: 1, voters: [1, 2, 3], config: RaftConfig(id: nid(1), preVote: false))
        let request = Message.Payload.voteRequest(.init(preVote: false, lastLogTerm: .zero, lastLogIndex: .zero))
        solo.step(from: 2, term: 5, request)
        let first = solo.drain()
        #expect(first.hardState?.vote == nid(2))
        #expect(first.messages.isEmpty, "a vote grant must wait for persistence")
        #expect(first.messagesAfterPersist.map(\.payload) == [.voteResponse(.init(preVote: false, granted: true))])
        solo.step(from: 3, term: 5, request)
        #expect(solo.drainMessages().map(\.payload) == [.voteResponse(.init(preVote: false, granted: false))])
        // Restarted from what was persisted: still no second vote in term 5.
        var restarted = SoloNode(
            id: 1, voters: [1, 2, 3], state: PersistentState(hardState: first.hardState ?? HardState()),
            config: RaftConfig(id: nid(1), preVote: false))
        restarted.step(from: 3, term: 5, request)
        #expect(restarted.drainMessages().map(\.payload) == [.voteResponse(.init(preVote: false, granted: false))])
        // The same candidate asking again gets the same answer (lost response).
        restarted.step(from: 2, term: 5, request)
        #expect(restarted.drainMessages().map(\.payload) == [.voteResponse(.init(preVote: false, granted: true))])
    }

    /// §5.4.1: a vote goes only to a candidate whose log is at least as up-to-date.
    @Test(arguments: [
        (lastTerm: 1 as UInt64, lastIndex: 9 as UInt64, granted: false),  // older last term, longer log
        (lastTerm: 2, lastIndex: 1, granted: false),  // same last term, shorter log
        (lastTerm: 2, lastIndex: 2, granted: true),  // identical
        (lastTerm: 3, lastIndex: 1, granted: true),  // later last term, shorter log
    ])
    func paper5_4_1_electionRestriction(lastTerm: UInt64, lastIndex: UInt64, granted: Bool) {
        let state = PersistentState(hardState: HardState(term: Term(2)), entries: entries(terms: [1, 2]))
        var solo = SoloNode(id: 1, voters: [1, 2, 3], state: state, config: RaftConfig(id: nid(1), preVote: false))
        solo.step(from: 2, term: 3, .voteRequest(.init(preVote: false, lastLogTerm: Term(lastTerm), lastLogIndex: LogIndex(lastIndex))))
        #expect(solo.drainMessages().map(\.payload) == [.voteResponse(.init(preVote: false, granted: granted))])
    }

    /// §5.2: a candidate's own vote requests are sent only after its new term and vote are durable.
    @Test func paper5_2_candidateRequestsVotesAfterPersistingItsVote() {
        var solo = SoloNode(id: 1, voters: [1, 2, 3], config: RaftConfig(id: nid(1), preVote: false))
        solo.node.campaign()
        let effects = solo.drain()
        #expect(effects.hardState == HardState(term: Term(1), vote: nid(1), commit: .zero))
        #expect(effects.messages.isEmpty)
        #expect(Set(effects.messagesAfterPersist.map(\.to)) == [nid(2), nid(3)])
    }

    @Test func paper5_2_splitVoteCandidateTimesOutAndRetriesInNextTerm() {
        var solo = SoloNode(id: 1, voters: [1, 2, 3], config: RaftConfig(id: nid(1), preVote: false))
        solo.node.campaign()
        _ = solo.drain()
        for _ in 0..<20 { solo.node.tick() }
        #expect(solo.node.status.role == .candidate)
        #expect(solo.node.status.term == Term(2))
    }

    /// Thesis §9.6: a partitioned node keeps pre-campaigning without bumping its term, so it
    /// does not depose the leader when it rejoins.
    @Test func thesis9_6_preVoteKeepsRejoiningNodeFromDisruptingLeader() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        let term = c.status(1).term
        c.isolated = [nid(3)]
        for _ in 0..<100 { c.tick(3); c.stabilize() }
        #expect(c.status(3).term == term, "pre-vote must not bump the term")
        #expect(c.status(3).role == .preCandidate)
        c.isolated = []
        c.tickAll(times: 3)
        #expect(c.leaders == [nid(1)])
        #expect(c.status(1).term == term)
        try c.propose(1, [[7]])
        #expect(c.committedData(3) == [[7]])
    }

    /// The control for the test above: without pre-vote the rejoining node bumps the terms.
    @Test func thesis9_6_withoutPreVoteRejoiningNodeDisruptsLeader() {
        var c = CoreTestCluster(voters: [1, 2, 3], config: { RaftConfig(id: $0, preVote: false, checkQuorum: false) })
        c.elect(1)
        let term = c.status(1).term
        c.isolated = [nid(3)]
        for _ in 0..<100 { c.tick(3); c.stabilize() }
        #expect(c.status(3).term > term)
        c.isolated = []
        c.tickAll(times: 30)
        #expect(c.status(1).term > term, "the rejoining node forced a new term on the leader")
    }

    /// Thesis §6.2: a leader that hears from no quorum within an election timeout steps down.
    @Test func thesis6_2_checkQuorumLeaderStepsDownWithoutQuorum() {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolated = [nid(1)]
        for _ in 0..<9 { c.tick(1) }
        #expect(c.status(1).role == .leader)
        for _ in 0..<11 { c.tick(1) }
        #expect(c.status(1).role == .follower)
        #expect(c.status(1).leader == nil)
    }

    @Test func thesis6_2_checkQuorumLeaderStaysWhileQuorumAnswers() {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolated = [nid(3)]
        c.tickAll(times: 50)
        #expect(c.status(1).role == .leader)
    }

    /// Thesis §4.2.3: a follower that heard from its leader within the election timeout ignores
    /// a vote request for a higher term (no term bump, no answer), unless it is a transfer.
    @Test func thesis4_2_3_leaderLeaseRejectsDisruptiveVote() {
        var solo = SoloNode(id: 2, voters: [1, 2, 3])
        solo.step(from: 1, term: 1, .heartbeat(.init(commit: .zero)))
        _ = solo.drain()
        solo.step(from: 3, term: 2, .voteRequest(.init(preVote: false, lastLogTerm: Term(1), lastLogIndex: LogIndex(5))))
        #expect(solo.node.status.term == Term(1))
        #expect(solo.drainMessages().isEmpty)
        solo.step(from: 3, term: 2, .voteRequest(.init(preVote: false, lastLogTerm: Term(1), lastLogIndex: LogIndex(5), transfer: true)))
        #expect(solo.node.status.term == Term(2))
        #expect(solo.drainMessages().map(\.payload) == [.voteResponse(.init(preVote: false, granted: true))])
    }

    @Test func paper5_2_candidateStepsDownOnAppendFromLeaderOfItsTerm() {
        var solo = SoloNode(id: 1, voters: [1, 2, 3], config: RaftConfig(id: nid(1), preVote: false))
        solo.node.campaign()
        _ = solo.drain()
        solo.step(from: 2, term: 1, .append(.init(prevLogIndex: .zero, prevLogTerm: .zero, entries: [], commit: .zero)))
        #expect(solo.node.status.role == .follower)
        #expect(solo.node.status.leader == nid(2))
    }

    /// §5.1: a higher term in any message turns a leader into a follower of that term.
    @Test func paper5_1_leaderStepsDownOnHigherTerm() {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.with(1) { $0.step(Message(from: nid(2), to: nid(1), term: Term(9), payload: .appendResponse(.init(index: .zero, reject: false)))) }
        #expect(c.status(1).role == .follower)
        #expect(c.status(1).term == Term(9))
    }

    /// §5.1: a message from an older term is not obeyed; a stale leader is told the new term.
    @Test func paper5_1_staleTermAppendIsRefusedWithCurrentTerm() {
        var solo = SoloNode(id: 2, voters: [1, 2, 3], state: PersistentState(hardState: HardState(term: Term(5))))
        solo.step(from: 1, term: 3, .append(.init(prevLogIndex: .zero, prevLogTerm: .zero, entries: entries(terms: [3]), commit: LogIndex(1))))
        let messages = solo.drainMessages()
        #expect(messages.map(\.term) == [Term(5)])
        #expect(solo.node.status.lastIndex == .zero)
    }

    @Test func learnerAndNonMemberNeverCampaign() {
        var c = CoreTestCluster(voters: [1], learners: [2])
        c.add(nid(9), configuration: Configuration(voters: [nid(1)], learners: [nid(2)]))
        c.isolated = [nid(1)]
        for _ in 0..<100 { c.tick(2); c.tick(9); c.stabilize() }
        #expect(c.status(2).role == .follower && c.status(2).term == .zero)
        #expect(c.status(9).role == .follower && c.status(9).term == .zero)
        c.with(2) { $0.campaign() }
        #expect(c.status(2).role == .follower)
    }

    /// Learners are not counted: a learner's grant does not elect a candidate.
    @Test func learnerVoteIsNotCounted() {
        var solo = SoloNode(id: 1, voters: [1, 2, 3], learners: [4], config: RaftConfig(id: nid(1), preVote: false))
        solo.node.campaign()
        _ = solo.drain()
        solo.step(from: 4, term: 1, .voteResponse(.init(preVote: false, granted: true)))
        #expect(solo.node.status.role == .candidate)
        solo.step(from: 2, term: 1, .voteResponse(.init(preVote: false, granted: true)))
        #expect(solo.node.status.role == .leader)
    }

    /// §8: a new leader appends an empty no-op entry of its term.
    @Test func paper8_leaderAppendsNoopAtTermStart() {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(2)
        let noop = c.committed[nid(1)]?.last
        #expect(noop?.data == [] && noop?.term == c.status(2).term && noop?.kind == .normal)
    }
}
