/// The invariants the simulator checks (RELIABILITY.md 3.4) plus the host-contract checks.
enum Invariant: String, Sendable {
    case electionSafety = "I1 ElectionSafety"
    case leaderAppendOnly = "I2 LeaderAppendOnly"
    case logMatching = "I3 LogMatching"
    case leaderCompleteness = "I4 LeaderCompleteness"
    case stateMachineSafety = "I5 StateMachineSafety"
    case committedDurable = "I6 CommittedIsDurable"
    case monotonicState = "I8 MonotonicPersistedState"
    case persistBeforeSend = "I8 PersistBeforeSend"
    case appliedInOrder = "AppliedInOrder"
    case readIndexSafety = "ReadIndexSafety"
    case oneChangeAtATime = "M1 OneChangeAtATime"
    case leaderIsMember = "M2 LeaderIsMember"
    case configurationFromLog = "M3 ConfigurationFromLog"
    case proposalIntegrity = "ProposalIntegrity"
    case storageContract = "StorageContract"
    case liveness = "Liveness"
    case convergence = "Convergence"
}

/// A broken invariant: which one and what exactly was seen.
struct Violation: Error, Sendable, CustomStringConvertible {
    var invariant: Invariant
    var detail: String

    init(_ invariant: Invariant, _ detail: String) {
        self.invariant = invariant
        self.detail = detail
    }

    var description: String { "\(invariant.rawValue): \(detail)" }
}
