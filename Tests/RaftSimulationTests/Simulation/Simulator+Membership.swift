import Raft

/// Membership changes as an operator makes them (the node API's rules: add a non-member as a
/// learner, promote a learner at most `promoteLagLimit` entries behind the commit index, remove
/// a member but never the last voter), sent to the leader, plus ill-timed ones the core must
/// refuse: to a node that does not lead, or right after another change (still uncommitted).
extension Simulator {
    /// The node API's limit (NodeAPI.promoteLagLimit).
    static let promoteLagLimit: UInt64 = 100

    func changeMembership() throws(Violation) {
        let idle = nodes.filter { $0.isIdle(now: now) }
        guard !idle.isEmpty else { return }
        let leader = nodes.filter { $0.isUp && $0.role == .leader }.max { $0.term < $1.term }
        // Mostly the leader (once it can take input); sometimes whoever the operator's client
        // reached, which must refuse unless it leads.
        let target: SimNode
        if let leader, rng.chance(0.9) {
            guard leader.isIdle(now: now) else { return }
            target = leader
        } else {
            target = rng.pick(idle)
        }
        guard let change = pickChange(at: target) else { return }
        guard try proposeChange(change, at: target) else { return }
        // An impatient operator: a second change at once must be refused (M1 if it is not).
        if rng.chance(0.3), let next = pickChange(at: target) { _ = try proposeChange(next, at: target) }
    }

    /// A change the node API would send, chosen from the configuration `node` has in force;
    /// nil when there is nothing sensible to do.
    private func pickChange(at node: SimNode) -> ConfigurationChange? {
        guard let status = node.raft?.status else { return nil }
        let configuration = status.configuration
        let nonMembers = nodes.map(\.id).filter { !configuration.members.contains($0) }
        let promotable = configuration.learners.sorted().filter { learner in
            let match = status.matchIndex[learner]?.rawValue ?? 0
            return match + Self.promoteLagLimit >= status.commit.rawValue
        }
        // Never the last voter (the node API refuses it). A leader removing itself from two
        // voters can deadlock the core (F2): only with SIM_F2=1 until that is fixed.
        let selfFromTwo = status.role == .leader && configuration.voters.count == 2 && !options.removeLeaderOfTwo
        let removable = configuration.members.sorted().filter { member in
            configuration.voters != [member] && !(selfFromTwo && member == node.id)
        }
        var choices: [ConfigurationChange] = []
        // Grow while small, shrink while large: the voter count wanders between 1 and all.
        let grow = configuration.voters.count <= 2 ? 3 : 1
        let shrink = configuration.voters.count >= 4 ? 3 : 1
        for _ in 0..<grow {
            if !nonMembers.isEmpty { choices.append(.addLearner(rng.pick(nonMembers))) }
            if !promotable.isEmpty { choices.append(.promote(rng.pick(promotable))) }
        }
        for _ in 0..<shrink where !removable.isEmpty { choices.append(.remove(rng.pick(removable))) }
        // The leader removing itself (it leads until the change commits, then steps down).
        if status.role == .leader, configuration.voters.count > 1, !selfFromTwo, rng.chance(0.2) { choices.append(.remove(node.id)) }
        return choices.isEmpty ? nil : rng.pick(choices)
    }

    /// Proposes `change` at `node`; returns whether it was accepted.
    private func proposeChange(_ change: ConfigurationChange, at node: SimNode) throws(Violation) -> Bool {
        if case .success = try requestChange(change, at: node) { return true }
        return false
    }

    /// Proposes `change` at `node` (which must be up) and returns what the core said. M1 on
    /// acceptance; accepted changes are remembered for M2.
    func requestChange(_ change: ConfigurationChange, at node: SimNode) throws(Violation) -> Result<LogIndex, ProposalError> {
        let index: LogIndex
        do throws(ProposalError) {
            guard let accepted = try node.raft?.proposeConfigurationChange(change) else {
                return .failure(.notLeader(leader: nil))
            }
            index = accepted
        } catch {
            stats.membershipRefused += 1
            if case .notLeader = error { stats.membershipNotLeader += 1 }
            record(.client(node.id, "\(change) refused: \(error)"))
            try observe(node)
            return .failure(error)
        }
        record(.client(node.id, "\(change) proposed at \(index)"))
        try checkOneChangeAtATime(node, accepted: index)
        acceptedChanges.append((index, change))
        node.changesThisTerm.append(index)
        stats.membershipChanges += 1
        stats.faultsFired.insert(.membership)
        try observe(node)
        return .success(index)
    }

    /// M1: the leader's log holds no other uncommitted configuration entry (everything before
    /// its no-op is from earlier terms and must be committed, and so must the changes it made).
    private func checkOneChangeAtATime(_ node: SimNode, accepted index: LogIndex) throws(Violation) {
        guard let status = node.raft?.status, let start = node.leaderTermStart, start.term == status.term else {
            throw Violation(.oneChangeAtATime, "\(node.id) accepted a change at \(index) without leading")
        }
        guard status.commit >= start.index else {
            throw Violation(.oneChangeAtATime, "\(node.id) accepted a change at \(index) before its no-op \(start.index) committed (commit \(status.commit))")
        }
        if let pending = node.changesThisTerm.last, pending > status.commit {
            throw Violation(.oneChangeAtATime, "\(node.id) accepted a change at \(index) while its change at \(pending) is uncommitted (commit \(status.commit))")
        }
    }

    /// M3 on a node whose in-memory log is its disk (no batch, nothing unpersisted): its
    /// configuration is the snapshot's (or the initial one) with every configuration entry of its
    /// log applied.
    func checkConfigurationFromLog(_ node: SimNode) throws(Violation) {
        guard let status = node.raft?.status else { return }
        var expected = node.storage.snapshot?.configuration ?? configuration
        for entry in node.storage.entries where entry.kind == .configurationChange {
            if let change = try? ConfigurationChange.decode(entry.data) { expected = expected.modelApplying(change) }
        }
        node.configurationCheckDue = false
        guard status.configuration == expected else {
            throw Violation(.configurationFromLog, "\(node.id) has \(checker.describe(status.configuration)) in force but its log and snapshot say \(checker.describe(expected))")
        }
    }

    /// M3 when due and the node is quiescent.
    func checkConfigurationIfQuiescent(_ node: SimNode) throws(Violation) {
        guard node.configurationCheckDue, node.batch == nil, node.raft?.hasEffects == false else { return }
        try checkConfigurationFromLog(node)
    }
}
