// The public surface of the consensus core. Frozen contract: the simulator and the node are
// written against exactly these signatures. Bodies are filled in by the core's implementation.

public struct RaftConfig: Sendable, Hashable {
    public var id: NodeID
    /// Base election timeout; each node draws its timeout uniformly in [base, 2*base) ticks,
    /// anew after every reset.
    public var electionTimeoutTicks: Int
    public var heartbeatIntervalTicks: Int
    public var preVote: Bool
    public var checkQuorum: Bool
    /// Max append messages in flight to one follower in replicate state.
    public var maxInflightMessages: Int
    /// Max total entry bytes in one append message (at least one entry is always sent).
    public var maxBytesPerMessage: Int
    /// Proposals are refused while uncommitted entries exceed this many bytes (0 = no limit).
    public var maxUncommittedBytes: Int

    public init(
        id: NodeID, electionTimeoutTicks: Int = 10, heartbeatIntervalTicks: Int = 1, preVote: Bool = true,
        checkQuorum: Bool = true, maxInflightMessages: Int = 256, maxBytesPerMessage: Int = 1 << 20,
        maxUncommittedBytes: Int = 64 << 20
    ) {
        self.id = id
        self.electionTimeoutTicks = electionTimeoutTicks
        self.heartbeatIntervalTicks = heartbeatIntervalTicks
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.maxInflightMessages = maxInflightMessages
        self.maxBytesPerMessage = maxBytesPerMessage
        self.maxUncommittedBytes = maxUncommittedBytes
    }
}

public enum ProposalError: Error, Sendable, Hashable {
    /// Not the leader; `leader` is who we believe leads, if anyone.
    case notLeader(leader: NodeID?)
    /// A leadership transfer is in progress; retry shortly.
    case transferInProgress
    /// Too many uncommitted bytes (quorum probably lost); back-pressure.
    case tooManyUncommitted
    /// A membership change is already pending (one at a time).
    case configurationChangePending
}

/// Observable status of one node (for the API and tests).
public struct RaftStatus: Sendable, Hashable {
    public var id: NodeID
    public var role: Role
    public var leader: NodeID?
    public var term: Term
    public var vote: NodeID?
    public var commit: LogIndex
    /// Highest index handed to the host in `committedEntries`.
    public var applied: LogIndex
    public var lastIndex: LogIndex
    public var configuration: Configuration
    /// Leader only: match index per follower.
    public var matchIndex: [NodeID: LogIndex]
}

/// The consensus core: a deterministic value with no threads, I/O, clocks or global randomness.
/// The host feeds it inputs and executes the numbered `Effects` it hands out (see `Effects`).
public struct RaftNode: Sendable {
    /// Restores a node from its durable state. `configuration` is used when neither the state's
    /// snapshot nor its log carries a configuration (a fresh cluster). `randomSeed` drives the
    /// election-timeout randomization and nothing else.
    public init(config: RaftConfig, configuration: Configuration, state: PersistentState, randomSeed: UInt64) {
        preconditionFailure("RaftNode is not implemented yet")
    }

    /// Advances logical time by one tick (elections, heartbeats, check-quorum).
    public mutating func tick() { preconditionFailure("unimplemented") }

    /// Feeds one message from a peer. Stale, malformed or irrelevant messages are ignored:
    /// never a precondition on peer input.
    public mutating func step(_ message: Message) { preconditionFailure("unimplemented") }

    /// Leader only: appends `data` items as normal entries (one batch); returns their indexes.
    @discardableResult
    public mutating func propose(_ data: [[UInt8]]) throws(ProposalError) -> ClosedRange<LogIndex> {
        preconditionFailure("unimplemented")
    }

    /// Leader only: appends a membership change; one may be pending at a time.
    @discardableResult
    public mutating func proposeConfigurationChange(_ change: ConfigurationChange) throws(ProposalError) -> LogIndex {
        preconditionFailure("unimplemented")
    }

    /// Requests a linearizable read. The answer arrives as a `ReadState` with the same context
    /// in a later `Effects` (on a follower, via the leader). Throws when no leader is known.
    public mutating func readIndex(context: [UInt8]) throws(ProposalError) { preconditionFailure("unimplemented") }

    /// Leader only: hands leadership to `target` once it is caught up (TimeoutNow).
    public mutating func transferLeadership(to target: NodeID) { preconditionFailure("unimplemented") }

    /// Starts an election now (pre-vote first when enabled).
    public mutating func campaign() { preconditionFailure("unimplemented") }

    /// The host could not reach `peer`; the leader falls back to probing it.
    public mutating func reportUnreachable(_ peer: NodeID) { preconditionFailure("unimplemented") }

    /// The host finished (or failed) sending a snapshot to `peer`.
    public mutating func reportSnapshot(_ peer: NodeID, success: Bool) { preconditionFailure("unimplemented") }

    /// The host has a snapshot of the state machine at `metadata.index` (≤ applied); the core
    /// may drop log entries up to it and send snapshots to followers that need them.
    public mutating func compact(to metadata: SnapshotMetadata) { preconditionFailure("unimplemented") }

    /// True when `takeEffects()` would return a batch.
    public var hasEffects: Bool { preconditionFailure("unimplemented") }

    /// The next batch, or nil when there is nothing to do or the last batch is unacknowledged.
    public mutating func takeEffects() -> Effects? { preconditionFailure("unimplemented") }

    /// The host has executed batch `number` (persisted, sent, applied).
    public mutating func acknowledge(_ number: UInt64) { preconditionFailure("unimplemented") }

    public var status: RaftStatus { preconditionFailure("unimplemented") }
}
