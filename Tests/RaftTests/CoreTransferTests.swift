import Testing
@testable import Raft

/// Leadership transfer (Raft thesis §3.10).
@Suite struct CoreTransferTests {
    @Test func thesis3_10_transferToUpToDateFollower() {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        let term = c.status(1).term
        c.with(1) { $0.transferLeadership(to: nid(2)) }
        c.stabilize()
        #expect(c.leaders == [nid(2)])
        #expect(c.status(2).term == term.next)
        #expect(c.delivered.contains { $0.payload == .timeoutNow && $0.to == nid(2) })
    }

    /// The leader first catches the target up, refusing proposals meanwhile.
    @Test func thesis3_10_transferCatchesTargetUpAndBlocksProposals() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolated = [nid(3)]
        try c.propose(1, [[1], [2]])
        c.isolated = []
        c.with(1) { $0.transferLeadership(to: nid(3)) }
        #expect(throws: ProposalError.transferInProgress) { _ = try c.proposeOnly(1, [[3]]) }
        c.stabilize()
        #expect(c.leaders == [nid(3)])
        try c.propose(3, [[3]])
        #expect(c.committedData(3) == [[1], [2], [3]])
    }

    /// A transfer whose target does not answer is abandoned after an election timeout.
    @Test func thesis3_10_transferAbortsAfterElectionTimeout() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolated = [nid(3)]
        try c.propose(1, [[1]])
        c.with(1) { $0.transferLeadership(to: nid(3)) }
        #expect(throws: ProposalError.transferInProgress) { _ = try c.proposeOnly(1, [[2]]) }
        for _ in 0..<10 { c.tick(1); c.tick(2); c.stabilize() }
        #expect(c.leaders == [nid(1)])
        try c.propose(1, [[2]])
        #expect(c.committedData(2) == [[1], [2]])
    }

    /// The transfer's vote requests bypass the followers' leader lease.
    @Test func thesis3_10_transferVoteBypassesLeaderLease() {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.with(1) { $0.transferLeadership(to: nid(2)) }
        c.stabilize()
        let requests = c.delivered.compactMap { m -> Message.VoteRequest? in
            if case .voteRequest(let r) = m.payload { return m.from == nid(2) ? r : nil } else { return nil }
        }
        #expect(!requests.isEmpty && requests.allSatisfy { $0.transfer && !$0.preVote })
        #expect(c.leaders == [nid(2)])
    }

    @Test func transferToSelfOrNonVoterIsIgnored() throws {
        var c = CoreTestCluster(voters: [1, 2], learners: [3])
        c.elect(1)
        c.with(1) { $0.transferLeadership(to: nid(1)) }
        c.with(1) { $0.transferLeadership(to: nid(3)) }
        try c.propose(1, [[1]])
        #expect(c.leaders == [nid(1)])
    }
}
