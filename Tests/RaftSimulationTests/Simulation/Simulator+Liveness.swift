import Raft

/// What a finished run reports.
struct SimulationReport: Sendable {
    var seed: UInt64
    var summary: String
    var steps: Int
    var ticks: Int
    var stats: SimulationStats
    /// Ticks from the heal until a fresh proposal was applied on every node.
    var recoveryTicks: Int
    var finalIndex: LogIndex
    /// Proposals that got an index: committed there, overwritten by another entry, or dropped
    /// with a log suffix that never reached a quorum (index beyond the final log).
    var committed = 0
    var overwritten = 0
    var discarded = 0
    /// Summarizes the whole run (same seed ⇒ same fingerprint): steps, ticks, the final state
    /// hash and every counter.
    var fingerprint: [UInt64] = []
    /// Wall time of the run (not part of the fingerprint).
    var elapsed: Duration = .zero
    var membershipEnabled = false
}

extension Simulator {
    /// Fault phase, then heal and the liveness phase, then the end-of-run checks.
    func runToEnd() throws(Violation) -> SimulationReport {
        try runFaultPhase()
        if network.lost > 0 { stats.faultsFired.insert(.messageLoss) }
        if network.reordered > 0 { stats.faultsFired.insert(.messageReorder) }
        let healedAt = now
        let finalIndex = try runLiveness()
        try checkReadsAfterHeal()
        try checker.checkDurability(stores, only: nil)
        try checkConvergence(at: finalIndex)
        try checkFinalConfigurations()
        var report = SimulationReport(
            seed: seed, summary: options.summary, steps: stepCount, ticks: now, stats: stats,
            recoveryTicks: now - healedAt, finalIndex: finalIndex)
        report.membershipEnabled = options.enabledFaults.contains(.membership)
        report.fingerprint = [
            UInt64(stepCount), UInt64(now), checker.committed[finalIndex.rawValue]?.hash ?? 0, checker.maxApplied.rawValue,
            UInt64(stats.crashes), UInt64(stats.leadersElected), UInt64(stats.proposed), UInt64(stats.readStates),
            UInt64(stats.splitBatches), UInt64(stats.snapshotsTaken), UInt64(client.proposals.count),
            UInt64(stats.membershipChanges), UInt64(stats.membershipRefused),
        ]
        for proposal in client.proposals {
            if checker.committedPayloads[proposal.payload] != nil {
                report.committed += 1
            } else if checker.committed[proposal.index.rawValue] != nil {
                report.overwritten += 1
            } else {
                report.discarded += 1
            }
        }
        return report
    }

    /// After the heal, within `livenessTicks` (plus 4 per entry of backlog) a leader must exist
    /// and a fresh proposal must be
    /// applied on every node. Returns the index of that proposal.
    func runLiveness() throws(Violation) -> LogIndex {
        try healEverything()
        // The bound grows with the backlog: with one entry per message and one message in
        // flight, each entry costs a round trip.
        let lastIndex = nodes.compactMap { $0.raft?.status.lastIndex.rawValue }.max() ?? 0
        let members = finalConfiguration().members
        let applied = nodes.filter { members.contains($0.id) }.map(\.stateMachine.applied.rawValue).min() ?? 0
        let budget = options.livenessTicks + 4 * Int(lastIndex - min(applied, lastIndex))
        let deadline = now + budget
        var pending: (payload: [UInt8], index: LogIndex, leader: SimNode, term: Term)?
        var steps = 0
        // Steps are bounded too, in case time stopped advancing.
        while now < deadline && steps < budget * 100 {
            if let final = pending {
                if checker.committedPayloads[final.payload] != nil {
                    let members = finalConfiguration().members
                    if nodes.allSatisfy({ !members.contains($0.id) || $0.stateMachine.applied >= final.index }) {
                        return final.index
                    }
                } else if checker.committed[final.index.rawValue] != nil || final.leader.role != .leader
                    || final.leader.term != final.term {
                    // Overwritten, or its leader is gone (the entry may vanish with it): retry.
                    pending = nil
                }
            }
            if pending == nil, let leader = nodes.first(where: { $0.isIdle(now: now) && $0.role == .leader }) {
                client.leaderGuess = leader.id
                if let accepted = try propose(prefix: "final"), let payload = accepted.payloads.last {
                    pending = (payload, accepted.range.upperBound, leader, leader.term)
                }
            }
            try step()
            steps += 1
            if steps % 50 == 0 { try shutDownNonMembers() }
        }
        let states = nodes.map { node in
            "\(node.id): \(node.isUp ? "\(node.role) \(node.term)" : "down") applied \(node.stateMachine.applied)"
        } + ["final \(checker.describe(finalConfiguration()))"]
        throw Violation(.liveness, "no fresh proposal applied everywhere \(budget) ticks after the heal "
            + "(pending \(pending.map { "\($0.index)" } ?? "none")); \(states.joined(separator: "; "))")
    }

    /// After recovery a ReadIndex read is answered on the leader and through a follower (the
    /// ReadIndexSafety check makes its index cover the final proposal, committed before). A read
    /// refused or unanswered (say, a new election started) is issued again.
    private func checkReadsAfterHeal() throws(Violation) {
        var slots: [(context: [UInt8], issuedAt: Int)?] = [nil, nil]  // [on the leader, via a follower]
        // A lone member (one voter, no learners) has no follower to read through.
        if finalConfiguration().members.count < 2 { slots.removeLast() }
        let deadline = now + 20 * options.electionTimeoutTicks
        var steps = 0
        while now < deadline && steps < 20 * options.electionTimeoutTicks * 100 {
            if slots.allSatisfy({ $0.map { checker.answeredReads.contains($0.context) } ?? false }) { return }
            for slot in slots.indices where slots[slot].map({ !checker.answeredReads.contains($0.context)
                && now - $0.issuedAt > 2 * options.electionTimeoutTicks }) ?? true {
                slots[slot] = try issueRead(onLeader: slot == 0)
            }
            try step()
            steps += 1
        }
        throw Violation(.liveness, "no ReadIndex answered on the leader and via a follower by tick \(deadline)")
    }

    private func issueRead(onLeader: Bool) throws(Violation) -> (context: [UInt8], issuedAt: Int)? {
        // A member that follows the current leader in its term (a removed node, which the leader
        // no longer contacts, may still name it from an older term).
        var leaders: [NodeID: Term] = [:]
        for node in nodes where node.isUp && node.role == .leader { leaders[node.id] = node.term }
        let members = finalConfiguration().members
        let candidates = nodes.filter { node in
            node.isIdle(now: now) && (node.role == .leader) == onLeader && members.contains(node.id)
                && node.knownLeader.flatMap { leaders[$0] } == node.term
        }
        guard let node = candidates.first else { return nil }
        let context = client.nextTag("final-read-", node.id)
        checker.observeReadRequest(context: context)
        do throws(ProposalError) {
            try node.raft?.readIndex(context: context)
        } catch {
            return nil
        }
        try observe(node)
        return (context, now)
    }

    /// The configuration the run ends with: the one in force at the running node with the highest
    /// commit index (after the heal, the leader's).
    func finalConfiguration() -> Configuration {
        let statuses = nodes.compactMap { $0.raft?.status }
        return statuses.max { ($0.commit, $0.role == .leader ? 1 : 0) < ($1.commit, $1.role == .leader ? 1 : 0) }?.configuration
            ?? configuration
    }

    /// M3 on every node that is quiescent at the end.
    func checkFinalConfigurations() throws(Violation) {
        for node in nodes where node.batch == nil && node.raft?.hasEffects == false { try checkConfigurationFromLog(node) }
    }

    /// M10: at quiescence every node has the same state at the final index.
    private func checkConvergence(at index: LogIndex) throws(Violation) {
        let hashes = nodes.compactMap { $0.stateMachine.image(at: index)?.hash }
        guard Set(hashes).count <= 1 else {
            throw Violation(.convergence, "nodes differ at \(index): \(hashes)")
        }
    }
}
