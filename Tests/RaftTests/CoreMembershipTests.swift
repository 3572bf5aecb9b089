import Testing
@testable import Raft

/// Single-server membership changes (Raft thesis §4.1, §4.2.2) and learners.
@Suite struct CoreMembershipTests {
    /// Learners receive entries but are not counted for commit.
    @Test func learnerReceivesEntriesButIsNotCountedForQuorum() throws {
        var c = CoreTestCluster(voters: [1, 2], learners: [3])
        c.elect(1)
        try c.propose(1, [[1]])
        #expect(c.committedData(3) == [[1]])
        c.isolated = [nid(2)]
        let index = try c.propose(1, [[2]])
        #expect(c.status(1).commit < index.lowerBound, "leader + learner is not a quorum of {1, 2}")
        #expect(c.status(3).lastIndex == index.upperBound)
    }

    /// Thesis §4.1: a configuration takes effect when its entry is appended, not when committed.
    @Test func thesis4_1_configurationTakesEffectOnAppend() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.add(nid(4), configuration: Configuration(voters: []))
        c.isolated = [nid(2), nid(3)]
        try c.with(1) { try $0.proposeConfigurationChange(.addLearner(nid(4))) }
        #expect(c.status(1).configuration.learners == [nid(4)])
        #expect(c.status(1).commit < c.status(1).lastIndex)
        c.isolated = []
        c.tickAll(times: 2)
        #expect(c.status(4).configuration.learners == [nid(4)])
        #expect(c.status(4).lastIndex == c.status(1).lastIndex)
    }

    /// Thesis §4.1: one change at a time; the next is refused while one is uncommitted.
    @Test func thesis4_1_secondChangeRefusedWhileOneIsUncommitted() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolated = [nid(2), nid(3)]
        try c.with(1) { try $0.proposeConfigurationChange(.addLearner(nid(4))) }
        #expect(throws: ProposalError.configurationChangePending) {
            try c.with(1) { try $0.proposeConfigurationChange(.addLearner(nid(5))) }
        }
        c.isolated = []
        c.tickAll(times: 2)
        try c.with(1) { try $0.proposeConfigurationChange(.addLearner(nid(5))) }
        #expect(c.status(1).configuration.learners == [nid(4), nid(5)])
    }

    /// A new leader accepts no change before an entry of its term has committed (Ongaro's
    /// 2015 fix to single-server changes).
    @Test func changeRefusedBeforeLeaderCommitsInItsTerm() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.filter = { if case .appendResponse = $0.payload { return false } else { return true } }
        c.elect(1)
        #expect(throws: ProposalError.configurationChangePending) {
            try c.with(1) { try $0.proposeConfigurationChange(.addLearner(nid(4))) }
        }
    }

    /// Promoting a learner makes it count: with {1, 2, 3} and 3 promoted, 1 + 3 commit while 2 is down.
    @Test func promotedLearnerCountsTowardQuorum() throws {
        var c = CoreTestCluster(voters: [1, 2], learners: [3])
        c.elect(1)
        try c.with(1) { try $0.proposeConfigurationChange(.promote(nid(3))) }
        c.stabilize()
        #expect(c.status(3).configuration.voters == [nid(1), nid(2), nid(3)])
        c.isolated = [nid(2)]
        let index = try c.propose(1, [[9]])
        #expect(c.status(1).commit == index.upperBound)
    }

    /// Thesis §4.2.2: a leader removed from the configuration steps down once the change
    /// commits, and the rest elect a new leader. The removed node never campaigns.
    @Test func thesis4_2_2_removedLeaderStepsDownAfterCommit() throws {
        var c = CoreTestCluster(voters: [1, 2, 3])
        c.elect(1)
        let index = try c.with(1) { try $0.proposeConfigurationChange(.remove(nid(1))) }
        c.stabilize()
        #expect(c.status(1).commit >= index)
        #expect(c.status(1).role == .follower)
        c.tickAll(times: 40)
        #expect(c.leaders.count == 1 && c.leaders != [nid(1)])
        #expect(c.status(1).role == .follower)
        guard let leader = c.leaders.first else { return }
        _ = try c.propose(leader.rawValue, [[4]])
        #expect(c.committedData(leader == nid(2) ? 3 : 2) == [[4]])
        c.with(1) { $0.campaign() }
        #expect(c.status(1).role == .follower, "a node not in the configuration never campaigns")
    }

    /// A follower whose uncommitted configuration entry is overwritten reverts to the old one.
    @Test func truncatedConfigurationEntryIsUndone() {
        let change = Entry(term: Term(1), index: LogIndex(2), kind: .configurationChange, data: ConfigurationChange.addLearner(nid(4)).encoded)
        let state = PersistentState(hardState: HardState(term: Term(1), commit: LogIndex(1)), entries: [Entry(term: Term(1), index: LogIndex(1)), change])
        var solo = SoloNode(id: 2, voters: [1, 2, 3], state: state)
        #expect(solo.node.status.configuration.learners == [nid(4)])
        solo.step(from: 3, term: 2, .append(.init(prevLogIndex: LogIndex(1), prevLogTerm: Term(1), entries: [Entry(term: Term(2), index: LogIndex(2))], commit: .zero)))
        #expect(solo.node.status.configuration.learners.isEmpty)
    }

    @Test func malformedConfigurationEntryIsIgnoredByEveryone() {
        let bad = Entry(term: Term(1), index: LogIndex(1), kind: .configurationChange, data: [0xFF, 1])
        let solo = SoloNode(id: 2, voters: [1, 2, 3], state: PersistentState(hardState: HardState(term: Term(1)), entries: [bad]))
        #expect(solo.node.status.configuration == Configuration(voters: [nid(1), nid(2), nid(3)]))
    }
}
