import Raft

/// One simulated server: its "disk" (storage, state machine, snapshot images — all survive a
/// crash) and its process (the RaftNode and the batch being executed — lost on a crash).
final class SimNode {
    /// How far the host got with the batch it took from the core.
    enum Phase: Int, CaseIterable {
        case taken, sent, persisted, sentAfterPersist, applied
    }

    struct Batch {
        var effects: Effects
        var phase: Phase
        /// The role/term the node had when it handed out the batch (for I2).
        var leaderTerm: Term?
    }

    let id: NodeID
    let storage = MemoryLogStorage()
    var stateMachine = StateMachineModel()
    /// Snapshot images by index, so a snapshot the core sends can carry its state.
    var images: [UInt64: SnapshotImage] = [:]

    /// The process; nil while the node is down.
    var raft: RaftNode? {
        didSet { isUp = raft != nil }
    }
    /// Cached `raft != nil` (testing the optional copies the whole core in debug builds).
    private(set) var isUp = false
    var batch: Batch?
    var incarnation = 0
    /// Ticks that arrived while the node was busy with a batch; delivered when it is done.
    var owedTicks = 0
    /// The node neither steps nor ticks before this tick (a paused process: SIGSTOP).
    var pausedUntil = 0
    /// Peers a send failed to reach during the current batch (reported after it).
    var unreachable: Set<NodeID> = []
    /// When set, the node crashes once its next batch reaches this phase.
    var crashAt: Phase?
    /// Highest `status.applied` in this incarnation (it must not go back).
    var statusApplied: LogIndex = .zero
    /// I4 is checked on the disk once it holds the log the node was elected with:
    /// (term of the election, last index then).
    var leaderCheck: (term: Term, lastIndex: LogIndex)?
    /// Leader only: the term it leads and the index of its first entry (the no-op), and the
    /// configuration changes it accepted in that term (M1).
    var leaderTermStart: (term: Term, index: LogIndex)?
    var changesThisTerm: [LogIndex] = []
    /// Commit index at the last observation (a leader's advance is recorded for I6).
    var observedCommit: LogIndex = .zero
    /// M3 is due once the node is quiescent (its log changed in a way that may move its
    /// configuration: a configuration entry, a truncation, a snapshot).
    var configurationCheckDue = false
    /// Inputs may arrive while a batch is executing (the host persists asynchronously).
    var inputsWhileBusy = false
    /// What the node last said about itself (a hint for the client).
    var role: Role = .follower
    var term: Term = .zero
    var knownLeader: NodeID?

    init(id: NodeID) { self.id = id }

    /// True when the node can take an input now: up, not paused, and not inside a batch unless
    /// the host steps the core while it persists.
    func isIdle(now: Int) -> Bool { isUp && (batch == nil || inputsWhileBusy) && pausedUntil <= now }

    /// True when the node has host work: a batch to continue or one to take.
    func hasWork(now: Int) -> Bool {
        guard isUp, pausedUntil <= now else { return false }
        return batch != nil || raft?.hasEffects == true
    }

    /// Process death: memory is gone, the disk stays.
    func crash() {
        raft = nil
        batch = nil
        crashAt = nil
        leaderCheck = nil
        leaderTermStart = nil
        changesThisTerm = []
        unreachable.removeAll()
        owedTicks = 0
        pausedUntil = 0
        role = .follower
        knownLeader = nil
    }
}
