import Testing
@testable import Raft

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
}
