import Testing
@testable import Raft

/// Linearizable reads through ReadIndex (Raft thesis §6.4).
@Suite struct CoreReadIndexTests {
    private func heartbeatsCarrying(_ context: [UInt8], in messages: [Message]) -> [Message] {
        messages.filter { if case .heartbeat(let h) = $0.payload { return h.context == context } else { return false } }
    }

    /// §6.4: the leader records its commit index, confirms leadership with a heartbeat round
    /// carrying the context, and only then emits the ReadState.
    @Test func thesis6_4_leaderConfirmsLeadershipBeforeServingRead() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        try c.propose(1, [[1]])
        let commit = c.status(1).commit
        try c.with(1) { try $0.readIndex(context: [9]) }
        c.process(nid(1))
        #expect(c.readStates[nid(1)] ?? [] == [], "no ReadState before a quorum answered")
        #expect(heartbeatsCarrying([9], in: c.inFlight).count == 2)
        c.stabilize()
        #expect(c.readStates[nid(1)] == [ReadState(index: commit, context: [9])])
    }

    /// §6.4: a leader cut off from its quorum never serves the read.
    @Test func thesis6_4_partitionedLeaderCannotServeRead() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolated = [nid(1)]
        try c.with(1) { try $0.readIndex(context: [9]) }
        c.stabilize()
        c.tick(1, times: 3)
        c.stabilize()
        #expect(c.readStates[nid(1)] ?? [] == [])
    }

    /// §6.4 step 1: a new leader defers reads until an entry of its term has committed.
    @Test func thesis6_4_newLeaderDefersReadUntilItCommitsInItsTerm() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        // Hold back every append response so the no-op cannot commit.
        c.filter = { if case .appendResponse = $0.payload { return false } else { return true } }
        c.with(1) { $0.transferLeadership(to: nid(2)) }
        c.stabilize()
        #expect(c.status(2).role == .leader && c.status(2).commit < c.status(2).lastIndex)
        try c.with(2) { try $0.readIndex(context: [5]) }
        c.process(nid(2))
        #expect(heartbeatsCarrying([5], in: c.inFlight).isEmpty, "read must wait for the no-op to commit")
        c.stabilize()
        #expect(c.readStates[nid(2)] ?? [] == [])
        c.filter = { _ in true }
        c.tickAll(times: 2)
        #expect(c.readStates[nid(2)] == [ReadState(index: c.status(2).commit, context: [5])])
    }

    /// Followers forward the read to the leader and get the index back.
    @Test func thesis6_4_followerForwardsReadToLeader() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        try c.propose(1, [[1]])
        try c.with(3) { try $0.readIndex(context: [7, 7]) }
        c.stabilize()
        #expect(c.readStates[nid(3)] == [ReadState(index: c.status(1).commit, context: [7, 7])])
        #expect(c.delivered.contains { $0.payload == .readIndexRequest(context: [7, 7]) && $0.to == nid(1) })
    }

    @Test func readWithoutKnownLeaderThrows() {
        var solo = SoloNode(id: 1, voters: [1, 2, 3])
        #expect(throws: ProposalError.notLeader(leader: nil)) { try solo.node.readIndex(context: [1]) }
    }

    @Test func singleVoterServesReadAtOnce() throws {
        var c = CoreTestCluster(voters: [1])
        c.elect(1)
        try c.with(1) { try $0.readIndex(context: [3]) }
        c.stabilize()
        #expect(c.readStates[nid(1)] == [ReadState(index: LogIndex(1), context: [3])])
    }
}
