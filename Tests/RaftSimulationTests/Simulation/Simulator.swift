import Raft

/// A whole cluster in one deterministic loop. One seed drives everything: which event happens at
/// each step (a tick, a delivery, a host batch, a client call, a fault), message delays, losses
/// and duplicates, crash points, and the nodes' own election timers. Safety is checked after
/// every step (see `SafetyChecker`); a run is a pure function of (seed, options).
///
/// Structure: this file holds the state and the step loop; `+Host` executes the core's Effects
/// per the contract, `+Network` delivers packets, `+Faults` injects and heals faults, `+Client`
/// proposes and reads, `+Liveness` ends a run with heal, recovery and the final accounting.
final class Simulator {
    let seed: UInt64
    var options: SimulationOptions
    var rng: SplitMix64
    let nodes: [SimNode]
    /// The initial configuration (the first `initialVoters` nodes); every node boots with it
    /// until its log or snapshot says otherwise.
    let configuration: Configuration
    /// Every configuration change a leader accepted: (index, change), for M2's re-add case.
    var acceptedChanges: [(index: LogIndex, change: ConfigurationChange)] = []
    /// (id, disk) of every node, for the durability checks.
    let stores: [(NodeID, MemoryLogStorage)]
    var network: SimNetwork
    var checker: SafetyChecker
    var client = ClientModel()
    var trace = TraceRing()
    var stats = SimulationStats()
    /// Logical time in ticks.
    var now = 0
    var stepCount = 0
    /// False once the fault phase is over: no new faults, no clock skips, no client load.
    var faultsActive = true
    var clientActive = true
    var scheduled: [(at: Int, action: ScheduledAction)] = []

    enum ScheduledAction {
        case restart(NodeID)
        case healPartition
    }

    init(seed: UInt64, options: SimulationOptions) {
        self.seed = seed
        self.options = options
        rng = SplitMix64(seed: seed)
        nodes = (1...options.nodeCount).map { SimNode(id: NodeID(UInt64($0))) }
        for node in nodes { node.inputsWhileBusy = options.inputsWhileBusy }
        configuration = Configuration(voters: Set(nodes.prefix(max(1, options.initialVoters)).map(\.id)))
        stores = nodes.map { ($0.id, $0.storage) }
        checker = SafetyChecker(initial: configuration)
        network = SimNetwork(nodeCount: options.nodeCount)
        network.lossRate = options.lossRate
        network.reorderRate = options.reorderRate
        network.duplicateRate = options.duplicateRate
        network.maxDelayTicks = options.maxDelayTicks
        client.leaderGuess = nodes[0].id
    }

    func node(_ id: NodeID) -> SimNode? {
        let i = Int(id.rawValue) - 1
        return nodes.indices.contains(i) ? nodes[i] : nil
    }

    func record(_ event: TraceEvent) { trace.record(step: stepCount, tick: now, event) }

    /// Starts every node on its (empty or surviving) disk.
    func boot() throws(Violation) {
        for node in nodes where !node.isUp { try start(node) }
    }

    /// Builds the process from what the disk holds; the election timer gets a fresh seed
    /// derived from the run's seed.
    func start(_ node: SimNode) throws(Violation) {
        let state: PersistentState
        do {
            state = try node.storage.load()
        } catch {
            throw Violation(.storageContract, "\(node.id) cannot load its disk: \(error)")
        }
        node.raft = RaftNode(
            config: options.raftConfig(for: node.id), configuration: configuration, state: state, randomSeed: rng.next())
        node.incarnation += 1
        node.statusApplied = .zero
        stats.restarts += node.incarnation > 1 ? 1 : 0
        if node.incarnation > 1 { record(.restart(node.id)) }
        try observe(node)
        // A fresh process holds exactly its disk: M3 applies at once.
        try checkConfigurationFromLog(node)
    }

    /// Runs the fault phase for `options.steps` steps.
    func runFaultPhase() throws(Violation) {
        try boot()
        for _ in 0..<options.steps { try step() }
    }

    /// One event, then the per-step safety checks.
    func step() throws(Violation) {
        stepCount += 1
        if faultsActive && rng.chance(options.faultRate) {
            try injectFault()
        } else {
            try doWork()
        }
        try checker.checkDurability(stores, only: checker.maxApplied)
    }

    /// Picks a tick, a delivery, a host batch or a client call, weighted by how much of each is
    /// pending. Time also advances with some probability while work is pending, so slow nodes
    /// (relative to their timers) are explored too.
    private func doWork() throws(Violation) {
        let due = network.due(now: now) { [nodes] id in
            let i = Int(id.rawValue) - 1
            return !nodes.indices.contains(i) || !nodes[i].isUp || nodes[i].isIdle(now: now)
        }
        let busy = nodes.filter { $0.hasWork(now: now) }
        let clientWeight = clientActive ? options.clientWeight : 0
        let tickProbability = faultsActive ? options.tickProbability : options.quietTickProbability
        if (due.isEmpty && busy.isEmpty && clientWeight == 0) || rng.chance(tickProbability) {
            return try tick()
        }
        let weights = [Double(min(due.count, 4)), Double(2 * busy.count), clientWeight]
        var roll = rng.double(0, weights.reduce(0, +))
        if roll < weights[0] { return try deliver(network.take(rng.pick(due))) }
        roll -= weights[0]
        if roll < weights[1] { return try advanceBatch(rng.pick(busy)) }
        try clientStep()
    }

    /// Advances logical time: every running node ticks (a node inside a batch is owed the tick).
    func tick() throws(Violation) {
        now += 1
        record(.tick)
        try runScheduled()
        for node in nodes where node.isUp && node.pausedUntil <= now {
            if faultsActive && rng.chance(options.clockSkipRate) {
                stats.faultsFired.insert(.clockDrift)
                continue
            }
            if node.batch != nil && !node.inputsWhileBusy {
                node.owedTicks += 1
            } else {
                node.raft?.tick()
                try observe(node)
            }
        }
    }

    private func runScheduled() throws(Violation) {
        let ready = scheduled.filter { $0.at <= now }
        guard !ready.isEmpty else { return }
        scheduled.removeAll { $0.at <= now }
        for item in ready {
            switch item.action {
            case .restart(let id):
                if let node = node(id), !node.isUp { try start(node) }
            case .healPartition:
                network.heal()
                record(.fault("partition healed"))
            }
        }
    }

    /// Checks one node after any input: I1 and I4 on roles, I8 against its disk, commit and
    /// applied progress.
    func observe(_ node: SimNode) throws(Violation) {
        guard let status = node.raft?.status else { return }
        if status.role != node.role || status.term != node.term || status.leader != node.knownLeader {
            record(.status(node.id, status))
        }
        // A leader's commit advance (also in the input where a removed leader steps down) was
        // decided by a quorum of its configuration's voters: I6 checks against those.
        if status.commit > node.observedCommit, status.term == node.term, node.role == .leader || status.role == .leader {
            checker.observeLeaderCommit(from: node.observedCommit.next, through: status.commit, voters: status.configuration.voters)
        }
        node.observedCommit = status.commit
        // A node may lead the same term twice (its first win never reached the disk: a single
        // voter that crashed before persisting its term), so a new leadership is seen here.
        let becameLeader = status.role == .leader && (node.role != .leader || node.term != status.term)
        node.role = status.role
        node.term = status.term
        node.knownLeader = status.leader
        if try checker.observeRole(node.id, role: status.role, term: status.term) {
            stats.leadersElected += 1
            node.leaderCheck = (status.term, status.lastIndex)
        }
        if becameLeader {
            // becomeLeader appended the no-op in the same input: lastIndex is its index.
            node.leaderTermStart = (status.term, status.lastIndex)
            node.changesThisTerm = []
            try checker.checkLeaderMembership(node.id, term: status.term, configuration: status.configuration) { index in
                acceptedChanges.contains { $0.index > index && $0.change == .promote(node.id) }
            }
        }
        try checkElectedLog(node)
        checker.observeCommitIndex(status.commit)
        try checker.checkStatusAgainstDisk(status)
        guard status.applied >= node.statusApplied else {
            throw Violation(.appliedInOrder, "\(node.id) applied index went back from \(node.statusApplied) to \(status.applied)")
        }
        node.statusApplied = status.applied
    }

    /// I4 on a new leader, once its disk holds the log it was elected with (it may have been
    /// elected with entries still on their way to disk). A leader that left its term first is
    /// not checked.
    func checkElectedLog(_ node: SimNode) throws(Violation) {
        guard let check = node.leaderCheck else { return }
        guard node.term == check.term else { return node.leaderCheck = nil }
        guard node.storage.lastIndex >= check.lastIndex else { return }
        node.leaderCheck = nil
        try checker.checkLeaderCompleteness(node.id, term: check.term, store: node.storage)
    }
}
