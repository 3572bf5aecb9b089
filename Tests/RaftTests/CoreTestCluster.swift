// A tiny synchronous "network" for deterministic scenario tests of the Raft core: every node
// is a value; `stabilize` loops takeEffects → persist in memory → deliver → acknowledge until
// nothing moves. Not a simulator (that lives in RaftSimulationTests): no randomness, no crashes
// beyond the explicit `restart`.

@testable import Raft

func nid(_ raw: UInt64) -> NodeID { NodeID(raw) }

/// A node's in-memory "disk".
struct CoreTestDisk {
    var state = PersistentState()

    mutating func persist(_ effects: Effects) {
        if let snapshot = effects.snapshot {
            state.snapshot = snapshot.metadata
            state.entries = []
        }
        if let hard = effects.hardState { state.hardState = hard }
        if let first = effects.entries.first?.index {
            state.entries.removeAll { $0.index >= first }
            state.entries += effects.entries
        }
    }
}

struct CoreTestCluster {
    var nodes: [NodeID: RaftNode] = [:]
    var disks: [NodeID: CoreTestDisk] = [:]
    /// Everything each node handed out as committed, in order.
    var committed: [NodeID: [Entry]] = [:]
    var readStates: [NodeID: [ReadState]] = [:]
    var snapshotsInstalled: [NodeID: [SnapshotMetadata]] = [:]
    /// Messages delivered so far, in order (for assertions on traffic).
    var delivered: [Message] = []
    /// Undelivered messages.
    var inFlight: [Message] = []
    /// Nodes cut off from everyone.
    var isolated: Set<NodeID> = []
    /// Return false to drop a message.
    var filter: (Message) -> Bool = { _ in true }
    /// Rewrites a message in transit (after `filter`).
    var transform: (Message) -> Message = { $0 }
    /// Messages dropped by isolation or the filter.
    var dropped: [Message] = []
    /// When set, the cluster acknowledges snapshots to the leader automatically.
    var autoReportSnapshots = true
    let configFor: (NodeID) -> RaftConfig
    let initial: Configuration

    init(voters: [UInt64], learners: [UInt64] = [], config: @escaping (NodeID) -> RaftConfig = { RaftConfig(id: $0) }) {
        configFor = config
        initial = Configuration(voters: Set(voters.map(nid)), learners: Set(learners.map(nid)))
        for raw in voters + learners { add(nid(raw)) }
    }

    /// Starts nodes from given durable states (voters only).
    init(states: [UInt64: PersistentState], config: @escaping (NodeID) -> RaftConfig = { RaftConfig(id: $0) }) {
        configFor = config
        initial = Configuration(voters: Set(states.keys.map(nid)))
        for (raw, state) in states {
            disks[nid(raw)] = CoreTestDisk(state: state)
            nodes[nid(raw)] = RaftNode(config: config(nid(raw)), configuration: initial, state: state, randomSeed: raw)
        }
    }

    /// Starts a node with an empty disk (also used for nodes joining later).
    mutating func add(_ id: NodeID, configuration: Configuration? = nil) {
        disks[id] = CoreTestDisk()
        nodes[id] = RaftNode(config: configFor(id), configuration: configuration ?? initial, state: PersistentState(), randomSeed: id.rawValue)
    }

    /// Crash and restart from the disk: volatile state is lost, the unacknowledged batch too.
    mutating func restart(_ id: NodeID) {
        let disk = disks[id] ?? CoreTestDisk()
        nodes[id] = RaftNode(config: configFor(id), configuration: initial, state: disk.state, randomSeed: id.rawValue &+ 1000)
        inFlight.removeAll { $0.to == id }
    }

    func node(_ id: UInt64) -> RaftNode {
        guard let node = nodes[nid(id)] else { preconditionFailure("no node \(id)") }
        return node
    }

    func status(_ id: UInt64) -> RaftStatus { node(id).status }

    func committedData(_ id: UInt64) -> [[UInt8]] {
        (committed[nid(id)] ?? []).filter { $0.kind == .normal && !$0.data.isEmpty }.map(\.data)
    }

    @discardableResult
    mutating func with<R>(_ id: UInt64, _ body: (inout RaftNode) throws -> R) rethrows -> R {
        guard var node = nodes[nid(id)] else { preconditionFailure("no node \(id)") }
        defer { nodes[nid(id)] = node }
        return try body(&node)
    }

    /// Executes one batch of node `id` (persist, record, queue messages, acknowledge).
    @discardableResult
    mutating func process(_ id: NodeID) -> Bool {
        guard var node = nodes[id], let effects = node.takeEffects() else { return false }
        disks[id, default: CoreTestDisk()].persist(effects)
        if let snapshot = effects.snapshot { snapshotsInstalled[id, default: []].append(snapshot.metadata) }
        committed[id, default: []] += effects.committedEntries
        readStates[id, default: []] += effects.readStates
        inFlight += effects.messages + effects.messagesAfterPersist
        node.acknowledge(effects.number)
        nodes[id] = node
        return true
    }

    /// Delivers every queued message once (respecting isolation and the filter).
    mutating func deliverAll() {
        let batch = inFlight
        inFlight = []
        for original in batch {
            guard !isolated.contains(original.from), !isolated.contains(original.to), filter(original),
                var node = nodes[original.to]
            else {
                dropped.append(original)
                continue
            }
            let message = transform(original)
            delivered.append(message)
            node.step(message)
            nodes[message.to] = node
            if autoReportSnapshots, case .installSnapshot = message.payload, var sender = nodes[message.from] {
                sender.reportSnapshot(message.to, success: true)
                nodes[message.from] = sender
            }
        }
    }

    /// Runs batches and deliveries until quiet. Bounded: a livelock fails the caller's checks.
    mutating func stabilize(maxRounds: Int = 1000) {
        for _ in 0..<maxRounds {
            var moved = false
            for id in nodes.keys.sorted() where process(id) { moved = true }
            if !inFlight.isEmpty {
                moved = true
                deliverAll()
            }
            if !moved { return }
        }
    }

    mutating func tick(_ id: UInt64, times: Int = 1) {
        for _ in 0..<times {
            with(id) { $0.tick() }
        }
    }

    /// Ticks every node once per round, stabilizing after each round.
    mutating func tickAll(times: Int) {
        for _ in 0..<times {
            for id in nodes.keys.sorted() { nodes[id]?.tick() }
            stabilize()
        }
    }

    /// Makes `id` campaign and lets the election finish.
    mutating func elect(_ id: UInt64) {
        with(id) { $0.campaign() }
        stabilize()
    }

    /// Proposes on `id` and stabilizes; returns the indexes.
    @discardableResult
    mutating func propose(_ id: UInt64, _ items: [[UInt8]]) throws(ProposalError) -> ClosedRange<LogIndex> {
        guard var node = nodes[nid(id)] else { preconditionFailure("no node \(id)") }
        let range = try node.propose(items)
        nodes[nid(id)] = node
        stabilize()
        return range
    }

    /// Proposes on `id` without stabilizing.
    mutating func proposeOnly(_ id: UInt64, _ items: [[UInt8]]) throws(ProposalError) -> ClosedRange<LogIndex> {
        guard var node = nodes[nid(id)] else { preconditionFailure("no node \(id)") }
        defer { nodes[nid(id)] = node }
        return try node.propose(items)
    }

    var leaders: [NodeID] { nodes.values.filter { $0.status.role == .leader }.map(\.status.id).sorted() }
}

/// A single node for message-level tests: step, then inspect the drained batch.
struct SoloNode {
    var node: RaftNode

    init(id: UInt64, voters: [UInt64], learners: [UInt64] = [], state: PersistentState = PersistentState(), config: RaftConfig? = nil) {
        node = RaftNode(
            config: config ?? RaftConfig(id: nid(id)),
            configuration: Configuration(voters: Set(voters.map(nid)), learners: Set(learners.map(nid))),
            state: state, randomSeed: id)
    }

    /// Takes and acknowledges the next batch (an empty batch when there is none).
    mutating func drain() -> Effects {
        guard let effects = node.takeEffects() else { return Effects(number: 0) }
        node.acknowledge(effects.number)
        return effects
    }

    /// All messages of the next batch, immediate then after-persist.
    mutating func drainMessages() -> [Message] {
        let effects = drain()
        return effects.messages + effects.messagesAfterPersist
    }

    mutating func step(from: UInt64, term: UInt64, _ payload: Message.Payload) {
        node.step(Message(from: nid(from), to: node.status.id, term: Term(term), payload: payload))
    }
}

/// A log of `terms.count` entries, entry i+1 in term terms[i].
func entries(terms: [UInt64], from first: UInt64 = 1) -> [Entry] {
    terms.enumerated().map { Entry(term: Term($0.element), index: LogIndex(first + UInt64($0.offset)), data: [UInt8($0.offset & 0xFF)]) }
}

/// A config without pre-vote (for tests that look at plain §5.2 elections).
func plainConfig(_ id: NodeID) -> RaftConfig { RaftConfig(id: id, preVote: false) }
