import Raft
import Testing

/// The membership checks and I6 under changing configurations must be able to fail.
@Suite struct MembershipCheckerSelfTests {
    private let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)
    private var three: Configuration { Configuration(voters: [n1, n2, n3]) }

    private func expectViolation(_ invariant: Invariant, _ body: () throws(Violation) -> Void) {
        do {
            try body()
            Issue.record("expected a \(invariant.rawValue) violation, none was reported")
        } catch {
            #expect(error.invariant == invariant, "\(error)")
        }
    }

    /// n3's removal is applied (committed) while the highest term is t2.
    private func checkerWithN3Removed() throws -> SafetyChecker {
        var checker = SafetyChecker(initial: three)
        _ = try checker.observeRole(n1, role: .leader, term: Term(2))
        checker.observeLeaderCommit(from: LogIndex(1), through: LogIndex(1), voters: [n1, n2])
        let removal = Entry(term: Term(2), index: LogIndex(1), kind: .configurationChange, data: ConfigurationChange.remove(n3).encoded)
        try checker.observeApply(n1, entry: removal, hashAfter: 1)
        return checker
    }

    @Test func removedNodeLeadsAfterItsRemovalCommitted() throws {
        let checker = try checkerWithN3Removed()
        #expect(checker.committedConfigurations.last?.configuration.voters == [n1, n2])
        expectViolation(.leaderIsMember) { () throws(Violation) in
            // n3 never saw its removal: it still believes in the old configuration.
            try checker.checkLeaderMembership(n3, term: Term(3), configuration: three) { _ in false }
        }
    }

    @Test func removedNodeMayLeadInItsOwnTermOrOnceReAdded() throws {
        let checker = try checkerWithN3Removed()
        // A leader removing itself leads its term until the change commits.
        try checker.checkLeaderMembership(n3, term: Term(2), configuration: three) { _ in false }
        // Re-added and promoted after the removal (proposed at a later index).
        try checker.checkLeaderMembership(n3, term: Term(4), configuration: three) { $0 < LogIndex(2) }
    }

    @Test func leaderThatIsNoVoterOfItsConfiguration() {
        let checker = SafetyChecker(initial: three)
        expectViolation(.leaderIsMember) { () throws(Violation) in
            try checker.checkLeaderMembership(n3, term: Term(1), configuration: Configuration(voters: [n1, n2], learners: [n3])) { _ in true }
        }
    }

    @Test func committedEntryOnTooFewOfItsLeadersVoters() throws {
        var checker = SafetyChecker(initial: three)
        let entry = Entry(term: Term(1), index: LogIndex(1), data: [9])
        checker.observeProposal(entry.data, at: entry.index)
        // Committed by a leader of five voters: three of them must hold it.
        checker.observeLeaderCommit(from: LogIndex(1), through: LogIndex(1), voters: [n1, n2, n3, NodeID(4), NodeID(5)])
        try checker.observeApply(n1, entry: entry, hashAfter: 1)
        let holder = MemoryLogStorage(), other = MemoryLogStorage(), empty = MemoryLogStorage()
        try holder.save(hardState: HardState(term: Term(1), commit: LogIndex(1)), entries: [entry])
        try other.save(hardState: HardState(term: Term(1)), entries: [entry])
        expectViolation(.committedDurable) { () throws(Violation) in
            try checker.checkDurability([(n1, holder), (n2, other), (n3, empty)], only: nil)
        }
    }

    @Test func appliedEntryNoLeaderCommitted() throws {
        var checker = SafetyChecker(initial: three)
        let entry = Entry(term: Term(1), index: LogIndex(1), data: [9])
        checker.observeProposal(entry.data, at: entry.index)
        try checker.observeApply(n1, entry: entry, hashAfter: 1)
        expectViolation(.committedDurable) { () throws(Violation) in
            try checker.checkDurability([], only: LogIndex(1))
        }
    }
}
