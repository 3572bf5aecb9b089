import Raft

// Core benchmark: three RaftNode values on one thread, an instant in-memory "network" and a
// free "disk" (persisting is a no-op; the core keeps its log in memory). Measures proposals
// committed and handed to the leader as committedEntries per wall-clock second.
// ContinuousClock is used here only; the core itself has no clock.

func runCoreBench() -> [BenchRow] {
    var rows: [BenchRow] = []
    for batch in [64, 1024] {
        let result = CoreBenchCluster.measure(batchSize: batch, payloadBytes: 200, totalProposals: 1_000_000)
        rows.append(
            BenchRow(
                name: "core: commit, 3 nodes, batch \(batch) x 200 B", value: result.perSecond, unit: "props/s",
                note: "\(result.committed) in \(result.millis) ms"))
    }
    return rows
}

private struct CoreBenchCluster {
    var nodes: [RaftNode]
    var inFlight: [Message] = []
    var leaderCommitted = 0
    var leaderApplied = LogIndex.zero

    init() {
        let ids = [NodeID(1), NodeID(2), NodeID(3)]
        let configuration = Configuration(voters: Set(ids))
        nodes = ids.map {
            RaftNode(config: RaftConfig(id: $0), configuration: configuration, state: PersistentState(), randomSeed: $0.rawValue)
        }
    }

    static func measure(batchSize: Int, payloadBytes: Int, totalProposals: Int) -> (perSecond: Double, committed: Int, millis: Int) {
        var cluster = CoreBenchCluster()
        cluster.nodes[0].campaign()
        cluster.runUntilQuiet()
        precondition(cluster.nodes[0].status.role == .leader, "bench: node 1 did not become leader")
        let payload = [UInt8](repeating: 0xAB, count: payloadBytes)
        let batch = [[UInt8]](repeating: payload, count: batchSize)
        let rounds = max(1, totalProposals / batchSize)
        cluster.leaderCommitted = 0
        let clock = ContinuousClock()
        let start = clock.now
        for round in 0..<rounds {
            // Keep a couple of batches in flight, as a busy leader would.
            do {
                try cluster.nodes[0].propose(batch)
            } catch {
                preconditionFailure("bench: proposal refused: \(error)")
            }
            cluster.step()
            if round % 256 == 255 { cluster.compactAll() }
        }
        cluster.runUntilQuiet()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        precondition(cluster.leaderCommitted == rounds * batchSize, "bench: not everything committed")
        return (Double(cluster.leaderCommitted) / seconds, cluster.leaderCommitted, Int(seconds * 1000))
    }

    /// One pass: every node executes its batch, then every message is delivered.
    mutating func step() {
        for i in nodes.indices {
            guard let effects = nodes[i].takeEffects() else { continue }
            inFlight.append(contentsOf: effects.messages)
            inFlight.append(contentsOf: effects.messagesAfterPersist)
            if i == 0 {
                for entry in effects.committedEntries where !entry.data.isEmpty { leaderCommitted += 1 }
            }
            nodes[i].acknowledge(effects.number)
        }
        let messages = inFlight
        inFlight.removeAll(keepingCapacity: true)
        for message in messages {
            nodes[Int(message.to.rawValue - 1)].step(message)
        }
    }

    mutating func runUntilQuiet() {
        for _ in 0..<10_000 {
            if inFlight.isEmpty && !nodes.contains(where: \.hasEffects) { return }
            step()
        }
    }

    /// Bounded memory: each node drops what it has applied, as a host with snapshots would.
    mutating func compactAll() {
        for i in nodes.indices {
            let status = nodes[i].status
            guard let term = nodes[i].term(at: status.applied) else { continue }
            nodes[i].compact(to: SnapshotMetadata(index: status.applied, term: term, configuration: status.configuration))
        }
    }
}
