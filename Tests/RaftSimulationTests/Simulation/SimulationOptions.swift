import Raft

/// The kinds of fault the simulator injects; each can be switched off (`SIM_DISABLE=crash,pause`)
/// and each run reports which ones fired, so coverage (M22) can be measured.
enum FaultKind: String, CaseIterable, Sendable, Hashable {
    case crash, crashMidBatch, crashAll, partition, oneWayPartition, isolateLeader, pause, storageFailure
    case messageLoss, messageDuplication, messageReorder, clockDrift, transfer, campaign, snapshot
    /// An operator asks the leader for a single-server change (add learner, promote, remove).
    case membership
}

/// Everything a run depends on besides the seed's own stream: cluster shape, Raft settings,
/// fault rates and budgets. `random(seed:)` derives all of it from the seed, so the seed alone
/// replays a run.
struct SimulationOptions: Sendable {
    /// Every server that may ever be a member (n1…nN). The first `initialVoters` form the
    /// cluster; the others start as non-members (running, empty disk) until a membership change
    /// adds them.
    var nodeCount = 3
    var initialVoters = 3
    /// Steps in the fault phase (each step is one event: a tick, a delivery, a batch, a client
    /// call, or a fault).
    var steps = 2_000
    var electionTimeoutTicks = 10
    var heartbeatIntervalTicks = 1
    var preVote = true
    var checkQuorum = true
    var maxInflightMessages = 256
    var maxBytesPerMessage = 1 << 20
    var maxUncommittedBytes = 64 << 20

    /// Chance that a step advances the clock although work is pending (slow "CPUs" time out).
    var tickProbability = 0.08
    var maxDelayTicks = 1
    var lossRate = 0.0
    var duplicateRate = 0.0
    /// Chance that a message overtakes others on its link (links are FIFO otherwise).
    var reorderRate = 0.0
    /// Chance that a node stops executing a batch after a random phase (left pending; a crash
    /// then hits it between take and persist, between persist and send, and so on).
    var splitBatchRate = 0.0
    /// The host keeps stepping the core while a batch is being executed (asynchronous
    /// persistence); otherwise it finishes a batch before the next input.
    var inputsWhileBusy = false
    /// Per node: chance that a tick is skipped (a slow clock).
    var clockSkipRate = 0.0
    /// Chance per step that some fault fires.
    var faultRate = 0.0
    var enabledFaults: Set<FaultKind> = []
    /// Weight of client calls against deliveries and batches.
    var clientWeight = 1.0
    /// Steps between snapshots a node may take once it applied this many entries past its last.
    var snapshotThreshold = 30
    /// Ticks the cluster gets after the fault phase to elect a leader and commit on every node
    /// (plus 4 ticks per entry it still has to replicate).
    var livenessTicks = 200
    /// Let a leader remove itself from a two-voter configuration (finding F2 in
    /// Tests/RaftSimulationTests/FINDINGS.md: the cluster can deadlock). Off unless SIM_F2=1.
    var removeLeaderOfTwo = false
    /// `tickProbability` after the heal: the "CPUs" are no longer overloaded either.
    var quietTickProbability = 0.01

    /// A quiet cluster: no faults, no loss; scenarios add their own faults by hand.
    static func quiet(nodes: Int, voters: Int? = nil) -> SimulationOptions {
        var options = SimulationOptions()
        options.nodeCount = nodes
        options.initialVoters = voters ?? nodes
        options.clientWeight = 0
        return options
    }

    /// All knobs drawn from the seed. `disabled` faults never fire.
    static func random(seed: UInt64, steps: Int, disabled: Set<FaultKind> = []) -> SimulationOptions {
        var rng = SplitMix64(seed: seed ^ 0x5EED_0F_0C71_0A5)
        var o = SimulationOptions()
        o.nodeCount = rng.chance(0.6) ? 3 : 5
        o.steps = steps
        o.heartbeatIntervalTicks = rng.int(1...2)
        o.preVote = rng.chance(0.8)
        o.checkQuorum = rng.chance(0.8)
        o.maxInflightMessages = rng.pick([1, 4, 256])
        o.maxBytesPerMessage = rng.pick([1, 100, 1 << 20])
        o.maxUncommittedBytes = rng.pick([0, 600, 64 << 20])
        o.tickProbability = rng.double(0.01, 0.1)
        o.maxDelayTicks = rng.int(0...3)
        o.splitBatchRate = rng.pick([0, 0.05, 0.3])
        o.inputsWhileBusy = rng.chance(0.3)
        o.faultRate = rng.double(0.003, 0.02)
        o.clientWeight = rng.double(0.3, 1.5)
        o.snapshotThreshold = rng.pick([5, 20, 60])
        var faults = Set(FaultKind.allCases)
        // Each seed leaves out some fault kinds so that runs differ in character.
        for kind in FaultKind.allCases where rng.chance(0.3) { faults.remove(kind) }
        faults.subtract(disabled)
        o.enabledFaults = faults
        o.lossRate = faults.contains(.messageLoss) ? rng.double(0, 0.3) : 0
        o.duplicateRate = faults.contains(.messageDuplication) ? rng.double(0, 0.1) : 0
        o.reorderRate = faults.contains(.messageReorder) ? rng.double(0, 0.2) : 0
        o.clockSkipRate = faults.contains(.clockDrift) ? rng.double(0, 0.3) : 0
        o.initialVoters = o.nodeCount
        if faults.contains(.membership) {
            // Servers beyond the initial voters to add, promote and remove; mostly five in all
            // (the cost of a seed grows with the number of nodes).
            let shape = rng.pick([(voters: 1, nodes: 3), (voters: 3, nodes: 4), (voters: 3, nodes: 4), (voters: 3, nodes: 5), (voters: 5, nodes: 6)])
            o.initialVoters = shape.voters
            o.nodeCount = shape.nodes
        }
        return o
    }

    func raftConfig(for id: NodeID) -> RaftConfig {
        RaftConfig(
            id: id, electionTimeoutTicks: electionTimeoutTicks, heartbeatIntervalTicks: heartbeatIntervalTicks,
            preVote: preVote, checkQuorum: checkQuorum, maxInflightMessages: maxInflightMessages,
            maxBytesPerMessage: maxBytesPerMessage, maxUncommittedBytes: maxUncommittedBytes)
    }

    var summary: String {
        "\(nodeCount) nodes (\(initialVoters) voters at start), preVote \(preVote), checkQuorum \(checkQuorum), heartbeat \(heartbeatIntervalTicks), "
            + "inflight \(maxInflightMessages), maxBytes \(maxBytesPerMessage), uncommitted \(maxUncommittedBytes), "
            + "delay ≤ \(maxDelayTicks), loss \(percent(lossRate)), dup \(percent(duplicateRate)), reorder \(percent(reorderRate)), "
            + "split \(percent(splitBatchRate))\(inputsWhileBusy ? " (inputs while busy)" : ""), faults \(enabledFaults.map(\.rawValue).sorted().joined(separator: ","))"
    }

    private func percent(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }
}
