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
