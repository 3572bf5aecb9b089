import Raft
import Testing

/// The checkers must be able to fail: hand-made bad histories, each must be reported as the
/// violation it is.
@Suite struct CheckerSelfTests {
    private let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    private func expectViolation(_ invariant: Invariant, _ body: () throws(Violation) -> Void) {
        do {
            try body()
            Issue.record("expected a \(invariant.rawValue) violation, none was reported")
        } catch {
            #expect(error.invariant == invariant, "\(error)")
        }
    }

    @Test func twoLeadersInOneTerm() {
        var checker = SafetyChecker(quorum: 2)
        expectViolation(.electionSafety) { () throws(Violation) in
            _ = try checker.observeRole(n1, role: .leader, term: Term(3))
            _ = try checker.observeRole(n2, role: .leader, term: Term(4))
            _ = try checker.observeRole(n3, role: .leader, term: Term(3))
        }
    }

    @Test func twoDifferentEntriesAppliedAtOneIndex() {
        var checker = SafetyChecker(quorum: 2)
        let a = Entry(term: Term(1), index: LogIndex(1), data: Array("a".utf8))
        let b = Entry(term: Term(2), index: LogIndex(1), data: Array("b".utf8))
        checker.observeProposal(a.data, at: a.index)
        checker.observeProposal(b.data, at: b.index)
        expectViolation(.stateMachineSafety) { () throws(Violation) in
            try checker.observeApply(n1, entry: a, hashAfter: StateMachineModel.chain(StateMachineModel.emptyHash, a))
            try checker.observeApply(n2, entry: b, hashAfter: StateMachineModel.chain(StateMachineModel.emptyHash, b))
        }
    }

    @Test func phantomCommitIsReported() {
        var checker = SafetyChecker(quorum: 2)
        expectViolation(.proposalIntegrity) { () throws(Violation) in
            try checker.observeApply(n1, entry: Entry(term: Term(1), index: LogIndex(1), data: [1]), hashAfter: 7)
        }
    }

    @Test func secondVoteInOneTerm() {
        var checker = SafetyChecker(quorum: 2)
        expectViolation(.monotonicState) { () throws(Violation) in
            try checker.observePersistedHardState(n1, HardState(term: Term(2), vote: n2))
            try checker.observePersistedHardState(n1, HardState(term: Term(2), vote: n3))
        }
    }

    @Test func sameIndexAndTermWithDifferentData() throws {
        var checker = SafetyChecker(quorum: 2)
        let first = MemoryLogStorage(), second = MemoryLogStorage()
        let x = [Entry(term: Term(1), index: LogIndex(1), data: [1])]
        let y = [Entry(term: Term(1), index: LogIndex(1), data: [2])]
        try first.save(hardState: HardState(term: Term(1)), entries: x)
        try second.save(hardState: HardState(term: Term(1)), entries: y)
        expectViolation(.logMatching) { () throws(Violation) in
            try checker.observeSave(n1, store: first, entries: x, hardState: nil)
            try checker.observeSave(n2, store: second, entries: y, hardState: nil)
        }
    }

    @Test func appliedEntryOnlyOnAMinorityOfDisks() throws {
        var checker = SafetyChecker(quorum: 2)
        let entry = Entry(term: Term(1), index: LogIndex(1), data: [9])
        checker.observeProposal(entry.data, at: entry.index)
        try checker.observeApply(n1, entry: entry, hashAfter: 1)
        let holder = MemoryLogStorage(), empty = MemoryLogStorage()
        try holder.save(hardState: HardState(term: Term(1), commit: LogIndex(1)), entries: [entry])
        expectViolation(.committedDurable) { () throws(Violation) in
            try checker.checkDurability([(n1, holder), (n2, empty), (n3, empty)], only: nil)
        }
    }

    @Test func newLeaderWithoutACommittedEntry() throws {
        var checker = SafetyChecker(quorum: 2)
        let entry = Entry(term: Term(1), index: LogIndex(1), data: [9])
        checker.observeProposal(entry.data, at: entry.index)
        _ = try checker.observeRole(n1, role: .follower, term: Term(1))
        try checker.observeApply(n1, entry: entry, hashAfter: 1)
        expectViolation(.leaderCompleteness) { () throws(Violation) in
            try checker.checkLeaderCompleteness(n2, term: Term(2), store: MemoryLogStorage())
        }
    }

    @Test func staleReadIndex() {
        var checker = SafetyChecker(quorum: 2)
        checker.observeCommitIndex(LogIndex(5))
        checker.observeReadRequest(context: [7])
        expectViolation(.readIndexSafety) { () throws(Violation) in
            try checker.observeReadState(n1, ReadState(index: LogIndex(4), context: [7]))
        }
    }

    @Test func voteGrantedBeforeItIsOnDisk() {
        let checker = SafetyChecker(quorum: 2)
        let grant = Message(from: n1, to: n2, term: Term(2), payload: .voteResponse(.init(preVote: false, granted: true)))
        expectViolation(.persistBeforeSend) { () throws(Violation) in
            try checker.checkSend(grant, senderStore: MemoryLogStorage())
        }
    }
}
