// Role-only state. Each case carries exactly what that role may touch: only a leader can reach
// follower progress, only a candidate its vote tally (an improvement on etcd, whose `raft`
// struct holds every role's fields at once, see `tracker/progress.go`).

enum RoleState: Sendable {
    case follower
    case preCandidate(VoteTally)
    case candidate(VoteTally)
    case leader(LeaderState)
    /// The leader state is moved out while a leader handler mutates it (see
    /// `RaftNode.withLeader`), so the progress array is not copied. Never observable between inputs.
    case moved

    var role: Role {
        switch self {
        case .follower, .moved: .follower
        case .preCandidate: .preCandidate
        case .candidate: .candidate
        case .leader: .leader
        }
    }
}

/// Votes received in one (pre-)election. Only voters of our configuration are counted.
struct VoteTally: Sendable {
    private(set) var votes: [NodeID: Bool] = [:]
    /// The campaign was started by a leader transfer (the requests carry transfer = true).
    var transfer = false

    mutating func record(_ voter: NodeID, granted: Bool) {
        if votes[voter] == nil { votes[voter] = granted }
    }

    enum Result { case won, lost, pending }

    func result(in configuration: Configuration) -> Result {
        var granted = 0
        var rejected = 0
        for voter in configuration.voters {
            switch votes[voter] {
            case true?: granted += 1
            case false?: rejected += 1
            case nil: break
            }
        }
        let quorum = configuration.quorum
        if granted >= quorum { return .won }
        if rejected > configuration.voters.count - quorum { return .lost }
        return .pending
    }
}

/// Everything only a leader has.
struct LeaderState: Sendable {
    /// One entry per other member (voters and learners), sorted by id so that iteration, and so
    /// message order, is deterministic. Small clusters: a linear search beats hashing.
    var progress: [Progress]
    var heartbeatElapsed = 0
    /// Leader transfer in progress: the target and the ticks since it started.
    var transferTarget: NodeID?
    /// Index of the latest configuration-change entry (or the last index at election, so no
    /// change is accepted before the leader has committed every older entry).
    var pendingConfigurationIndex: LogIndex
    /// Payload bytes appended in this term and not yet committed (back-pressure).
    var uncommittedBytes = 0
    /// First index of this term (its no-op); only entries from here count as uncommitted bytes.
    var termStartIndex: LogIndex
    var reads = ReadIndexQueue()
    /// Reads that arrived before the leader committed an entry of its term (thesis §6.4 step 1).
    var deferredReads: [(context: [UInt8], from: NodeID)] = []
    /// Proposals were appended since the last flush: broadcast at `takeEffects`.
    var broadcastPending = false

    func index(of id: NodeID) -> Int? { progress.firstIndex { $0.id == id } }
}
