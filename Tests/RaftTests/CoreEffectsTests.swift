import Testing
@testable import Raft

/// The numbered effects protocol and determinism.
@Suite struct CoreEffectsTests {
    @Test func batchesAreNumberedAndOneAtATime() {
        var solo = SoloNode(id: 1, voters: [1])
        solo.node.campaign()
        guard let first = solo.node.takeEffects() else {
            Issue.record("expected a batch")
            return
        }
        #expect(first.number == 1)
        #expect(first.softState == SoftState(leader: nid(1), role: .leader))
        #expect(solo.node.takeEffects() == nil)
        solo.node.acknowledge(first.number)
        #expect(solo.node.takeEffects()?.number == 2)
    }

    @Test func nothingToDoMeansNoBatch() {
        var solo = SoloNode(id: 1, voters: [1, 2, 3])
        #expect(!solo.node.hasEffects)
        #expect(solo.node.takeEffects() == nil)
    }

    /// Same inputs and seeds ⇒ same outputs (no hidden clocks, randomness or hash order).
    @Test func sameSeedsGiveTheSameRun() throws {
        func run() throws -> [Message] {
            var c = CoreTestCluster(voters: [1, 2, 3, 4, 5])
            c.tickAll(times: 40)
            if let leader = c.leaders.first { try c.propose(leader.rawValue, [[1], [2]]) }
            c.tickAll(times: 5)
            return c.delivered
        }
        let a = try run()
        let b = try run()
        #expect(!a.isEmpty)
        #expect(a == b)
    }

    @Test func statusReportsLeaderMatchIndexes() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        try c.propose(1, [[1]])
        let status = c.status(1)
        #expect(status.matchIndex == [nid(2): status.lastIndex, nid(3): status.lastIndex])
        #expect(status.applied == status.commit)
        #expect(c.status(2).matchIndex.isEmpty)
    }
}

@Suite struct CorePeerInputTests {
    /// No leader or candidate ever has term 0: such a message is a peer bug and changes nothing.
    @Test func termZeroMessageIsIgnored() {
        var solo = SoloNode(id: 2, voters: [1, 2, 3])
        solo.step(from: 1, term: 0, .append(.init(prevLogIndex: .zero, prevLogTerm: .zero, entries: [Entry(term: .zero, index: LogIndex(1))], commit: LogIndex(1))))
        #expect(solo.node.status.leader == nil)
        #expect(solo.node.status.lastIndex == .zero)
        #expect(solo.drain().isEmpty)
    }

    /// Messages addressed to another node or claiming to come from us are dropped.
    @Test func misaddressedMessagesAreIgnored() {
        var solo = SoloNode(id: 2, voters: [1, 2, 3])
        solo.node.step(Message(from: nid(1), to: nid(3), term: Term(4), payload: .timeoutNow))
        solo.node.step(Message(from: nid(2), to: nid(2), term: Term(4), payload: .timeoutNow))
        #expect(solo.node.status.term == .zero)
        #expect(solo.drain().isEmpty)
    }
}
