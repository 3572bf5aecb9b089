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
    /// Max total entry bytes handed in one `Effects.committedEntries` (at least one entry).
    public var maxCommittedBytesPerBatch: Int = 64 << 20

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
    /// The log starts after this index (0 until the first compaction).
    public var snapshotIndex: LogIndex = .zero
    public var configuration: Configuration
    /// Leader only: match index per follower.
    public var matchIndex: [NodeID: LogIndex]
}

/// The consensus core: a deterministic value with no threads, I/O, clocks or global randomness.
/// The host feeds it inputs and executes the numbered `Effects` it hands out (see `Effects`).
///
/// Every public input ends with `finishInput()`, which re-checks the invariants (TigerBeetle
/// style): a broken one is a bug in this file, never a peer's fault.
public struct RaftNode: Sendable {
    let config: RaftConfig
    var id: NodeID { config.id }

    // Durable state (mirrors `HardState` plus the log).
    var term: Term
    var vote: NodeID?
    var log: RaftLog
    /// Configurations in log order; the first is the base (snapshot or initial), the last is in
    /// force (a configuration takes effect when its entry is appended, thesis §4.1).
    var configurations: [ConfigurationRecord]

    // Volatile state.
    var leader: NodeID?
    var roleState: RoleState = .follower
    var electionElapsed = 0
    var randomizedElectionTimeout = 0
    var random: SplitMix64
    /// Highest index handed to the host in `committedEntries` (or covered by a handed snapshot).
    var applied: LogIndex

    // Output waiting for the next batch.
    var outbox: [Message] = []
    var outboxAfterPersist: [Message] = []
    var readStates: [ReadState] = []
    var pendingSnapshot: Snapshot?

    // The batch protocol.
    var nextBatchNumber: UInt64 = 1
    var unacknowledgedBatch: UInt64?
    var handedHardState: HardState
    var handedSoftState: SoftState

    /// Restores a node from its durable state. `configuration` is used when neither the state's
    /// snapshot nor its log carries a configuration (a fresh cluster). `randomSeed` drives the
    /// election-timeout randomization and nothing else.
    public init(config: RaftConfig, configuration: Configuration, state: PersistentState, randomSeed: UInt64) {
        precondition(config.electionTimeoutTicks > 0 && config.heartbeatIntervalTicks > 0, "tick counts must be positive")
        precondition(config.maxInflightMessages > 0 && config.maxBytesPerMessage > 0, "flow limits must be positive")
        self.config = config
        term = state.hardState.term
        vote = state.hardState.vote
        log = RaftLog(snapshot: state.snapshot, entries: state.entries, committed: state.hardState.commit)
        let base = state.snapshot.map { ConfigurationRecord(index: $0.index, configuration: $0.configuration) }
        configurations = [base ?? ConfigurationRecord(index: .zero, configuration: configuration)]
        random = SplitMix64(seed: randomSeed)
        applied = log.snapshotIndex
        handedHardState = HardState(term: state.hardState.term, vote: state.hardState.vote, commit: log.committed)
        handedSoftState = SoftState(leader: nil, role: .follower)
        if log.lastIndex > log.snapshotIndex {
            applyConfigurationEntries(from: log.firstIndex)
        }
        resetElectionTimer()
        finishInput()
    }

    /// Advances logical time by one tick (elections, heartbeats, check-quorum).
    public mutating func tick() {
        if case .leader = roleState {
            tickLeader()
        } else {
            tickElection()
        }
        finishInput()
    }

    /// Feeds one message from a peer. Stale, malformed or irrelevant messages are ignored:
    /// never a precondition on peer input.
    public mutating func step(_ message: Message) {
        stepMessage(message)
        finishInput()
    }

    /// Leader only: appends `data` items as normal entries (one batch); returns their indexes.
    /// An empty list appends nothing and returns `lastIndex...lastIndex`.
    @discardableResult
    public mutating func propose(_ data: [[UInt8]]) throws(ProposalError) -> ClosedRange<LogIndex> {
        defer { finishInput() }
        return try proposeEntries(data)
    }

    /// Leader only: appends a membership change; one may be pending at a time.
    @discardableResult
    public mutating func proposeConfigurationChange(_ change: ConfigurationChange) throws(ProposalError) -> LogIndex {
        defer { finishInput() }
        return try proposeChange(change)
    }

    /// Requests a linearizable read. The answer arrives as a `ReadState` with the same context
    /// in a later `Effects` (on a follower, via the leader). Throws when no leader is known.
    public mutating func readIndex(context: [UInt8]) throws(ProposalError) {
        defer { finishInput() }
        try requestRead(context: context)
    }

    /// Leader only: hands leadership to `target` once it is caught up (TimeoutNow).
    public mutating func transferLeadership(to target: NodeID) {
        startTransfer(to: target)
        finishInput()
    }

    /// Starts an election now (pre-vote first when enabled).
    public mutating func campaign() {
        startCampaign(transfer: false)
        finishInput()
    }

    /// The host could not reach `peer`; the leader falls back to probing it.
    public mutating func reportUnreachable(_ peer: NodeID) {
        if var state = takeLeaderState() {
            if let i = state.index(of: peer), state.progress[i].state == .replicate {
                state.progress[i].becomeProbe()
            }
            restoreLeaderState(state)
        }
        finishInput()
    }

    /// The host finished (or failed) sending a snapshot to `peer`.
    public mutating func reportSnapshot(_ peer: NodeID, success: Bool) {
        if var state = takeLeaderState() {
            if let i = state.index(of: peer), case .snapshot = state.progress[i].state {
                state.progress[i].snapshotFinished(success: success)
            }
            restoreLeaderState(state)
        }
        finishInput()
    }

    /// The host has a snapshot of the state machine at `metadata.index` (≤ applied); the core
    /// may drop log entries up to it and send snapshots to followers that need them.
    public mutating func compact(to metadata: SnapshotMetadata) {
        precondition(metadata.index <= applied, "compact beyond the applied index")
        if metadata.index > log.snapshotIndex {
            log.compact(to: metadata)
            configurations.removeAll { $0.index <= metadata.index }
            configurations.insert(ConfigurationRecord(index: metadata.index, configuration: metadata.configuration), at: 0)
        }
        finishInput()
    }

    /// True when `takeEffects()` would return a batch.
    public var hasEffects: Bool { unacknowledgedBatch == nil && hasPendingOutput }

    /// The next batch, or nil when there is nothing to do or the last batch is unacknowledged.
    public mutating func takeEffects() -> Effects? {
        defer { finishInput() }
        return makeEffects()
    }

    /// The host has executed batch `number` (persisted, sent, applied).
    public mutating func acknowledge(_ number: UInt64) {
        precondition(unacknowledgedBatch == number, "acknowledged batch \(number), expected \(String(describing: unacknowledgedBatch))")
        unacknowledgedBatch = nil
        log.acknowledgePersisted()
        if var state = takeLeaderState() {
            maybeCommit(&state)
            restoreLeaderState(state)
        }
        finishInput()
    }

    /// The term of the entry at `index`, or nil when it is compacted away or beyond the log.
    /// The host needs it to describe a snapshot it takes at its applied index (`compact`).
    public func term(at index: LogIndex) -> Term? { log.term(at: index) }

    /// The configuration in effect right after the entry at `index` (applied or not), or nil
    /// when `index` lies before the oldest configuration still known (compacted away).
    /// The host needs it, with `term(at:)`, to describe a snapshot it took at `index`.
    public func configuration(at index: LogIndex) -> Configuration? {
        guard let first = configurations.first, first.index <= index else { return nil }
        return configurations.last { $0.index <= index }?.configuration
    }

    public var status: RaftStatus {
        var matchIndex: [NodeID: LogIndex] = [:]
        if case .leader(let state) = roleState {
            for progress in state.progress { matchIndex[progress.id] = progress.match }
        }
        return RaftStatus(
            id: id, role: roleState.role, leader: leader, term: term, vote: vote, commit: log.committed,
            applied: applied, lastIndex: log.lastIndex, snapshotIndex: log.snapshotIndex, configuration: configuration,
            matchIndex: matchIndex)
    }
}

/// A configuration and the index of the entry (or snapshot) that introduced it.
struct ConfigurationRecord: Sendable {
    var index: LogIndex
    var configuration: Configuration
}
