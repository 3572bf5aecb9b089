import Raft

/// Fault injection during the fault phase, and the heal that ends it.
extension Simulator {
    /// The faults that are events (loss, duplication, clock skips and snapshots are rates).
    static let eventFaults: [FaultKind] = [
        .crash, .crashMidBatch, .crashAll, .partition, .oneWayPartition, .isolateLeader, .pause, .storageFailure,
        .membership,
    ]

    func injectFault() throws(Violation) {
        let kinds = Self.eventFaults.filter { options.enabledFaults.contains($0) }
        guard !kinds.isEmpty else { return try tick() }
        let kind = rng.pick(kinds)
        let up = nodes.filter(\.isUp)
        switch kind {
        case .crash:
            guard !up.isEmpty else { return }
            crash(rng.pick(up), reason: "killed")
        case .crashMidBatch:
            guard !up.isEmpty else { return }
            let node = rng.pick(up)
            node.crashAt = rng.pick(SimNode.Phase.allCases)
            record(.fault("\(node.id) will crash in its next batch after \(node.crashAt.map { "\($0)" } ?? "")"))
        case .crashAll:
            // Rare on purpose: every node at once (etcd #14143 territory).
            guard rng.chance(0.2) else { return }
            for node in up { crash(node, reason: "whole cluster killed") }
        case .partition, .oneWayPartition:
            let side = Set(nodes.map(\.id).filter { _ in rng.chance(0.5) })
            guard !side.isEmpty, side.count < nodes.count else { return }
            partition(side, symmetric: kind == .partition)
        case .isolateLeader:
            guard let leader = up.filter({ $0.role == .leader }).max(by: { $0.term < $1.term }) else { return }
            partition([leader.id], symmetric: true)
        case .pause:
            guard !up.isEmpty else { return }
            let node = rng.pick(up)
            node.pausedUntil = now + rng.int(options.electionTimeoutTicks / 2...3 * options.electionTimeoutTicks)
            record(.fault("\(node.id) paused until @\(node.pausedUntil)"))
        case .storageFailure:
            guard !up.isEmpty else { return }
            let node = rng.pick(up)
            node.storage.failNextWrite = true
            record(.fault("\(node.id) disk will fail its next write"))
        case .membership:
            // Counted as fired only when a change is accepted (see changeMembership).
            return try changeMembership()
        default:
            return
        }
        // A planned mid-batch crash or disk failure counts once it really happens (see crash).
        if kind != .crashMidBatch && kind != .storageFailure { stats.faultsFired.insert(kind) }
    }

    /// Kills the process: its memory (RaftNode, batch in progress) is gone, its disk stays. It
    /// restarts after a random downtime (sometimes long).
    func crash(_ node: SimNode, reason: String) {
        node.crash()
        record(.crash(node.id, reason: reason))
        stats.crashes += 1
        if reason.hasPrefix("mid-batch") { stats.faultsFired.insert(.crashMidBatch) }
        if reason.hasPrefix("disk") { stats.faultsFired.insert(.storageFailure) }
        let longDown = rng.chance(0.2)
        let downtime = rng.int(1...(longDown ? 10 : 3) * options.electionTimeoutTicks)
        scheduled.append((now + downtime, .restart(node.id)))
    }

    func partition(_ side: Set<NodeID>, symmetric: Bool) {
        network.heal()
        network.partition(side, from: nodes.map(\.id), symmetric: symmetric)
        let ids = side.sorted().map(\.description).joined(separator: ",")
        record(.fault("partition {\(ids)} \(symmetric ? "<-/->" : "-/->") rest"))
        let duration = rng.int(options.electionTimeoutTicks...6 * options.electionTimeoutTicks)
        scheduled.append((now + duration, .healPartition))
    }

    /// Ends the fault phase: the network heals, every node comes back, no new faults.
    func healEverything() throws(Violation) {
        faultsActive = false
        clientActive = false
        scheduled.removeAll()
        network.heal()
        network.lossRate = 0
        network.duplicateRate = 0
        network.reorderRate = 0
        network.maxDelayTicks = min(network.maxDelayTicks, 1)
        for node in nodes {
            node.pausedUntil = 0
            node.crashAt = nil
            node.storage.failNextWrite = false
        }
        record(.fault("heal: network whole, all nodes up, faults off"))
        for node in nodes where !node.isUp { try start(node) }
        try shutDownNonMembers()
    }

    /// Without pre-vote and check-quorum nothing stops a removed voter (it never learns of its
    /// removal: the leader stops replicating to it) from forcing elections with ever higher
    /// terms, so there the operator keeps only the members of the final configuration running
    /// (thesis §4.2.3). Called at the heal and regularly during the liveness phase.
    func shutDownNonMembers() throws(Violation) {
        guard !options.preVote && !options.checkQuorum else { return }
        let members = finalConfiguration().members
        for node in nodes {
            if node.isUp && !members.contains(node.id) {
                node.crash()
                record(.crash(node.id, reason: "shut down: not a member"))
            } else if !node.isUp && members.contains(node.id) {
                try start(node)
            }
        }
    }
}
