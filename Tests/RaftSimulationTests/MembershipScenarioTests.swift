import Raft
import Testing
import TestSupport

/// Scripted membership changes on the simulator (quiet network, every invariant checked at every
/// step, M1–M3 included): grow 3 → 5 through learners, then shrink by removing the leader.
@Suite(.ownThreads) struct MembershipScenarioTests {
    private func scenario(_ body: (Simulator) throws(Violation) -> Void) {
        let sim = Simulator(seed: 11, options: .quiet(nodes: 5, voters: 3))
        do {
            try sim.boot()
            try body(sim)
        } catch {
            Issue.record("\(error) at step \(sim.stepCount)\n\(sim.trace.lines.joined(separator: "\n"))")
        }
    }

    /// Proposes `change` at the current leader and runs until it is applied everywhere it must be,
    /// for at most `ticks` ticks.
    private func change(_ change: ConfigurationChange, _ sim: Simulator, ticks: Int = 100) throws(Violation) -> Bool {
        // The previous change (and the leader's no-op) must have committed first.
        try sim.run(ticks: 100) { settled(sim) }
        guard let leader = sim.leader, case .success(let index) = try sim.requestChange(change, at: leader) else {
            return false
        }
        return try sim.run(ticks: ticks) { appliedByMembers(index, sim) }
    }

    /// The leader has committed its whole log.
    private func settled(_ sim: Simulator) -> Bool {
        guard let status = sim.leader?.raft?.status else { return false }
        return status.commit >= status.lastIndex
    }

    private func appliedByMembers(_ index: LogIndex, _ sim: Simulator) -> Bool {
        let members = sim.finalConfiguration().members
        return sim.nodes.allSatisfy { !members.contains($0.id) || $0.stateMachine.applied >= index }
    }

    @Test func growThroughLearnersThenRemoveTheLeader() {
        scenario { (sim) throws(Violation) in
            #expect(try sim.run(ticks: 100) { sim.leader != nil })
            guard let first = sim.leader, let before = try sim.propose("before", at: first) else {
                Issue.record("no leader accepted a proposal"); return
            }
            #expect(sim.nodes[3].raft?.status.role == .follower && sim.nodes[3].term == .zero, "a non-member stays idle")
            #expect(try change(.addLearner(NodeID(4)), sim))
            // While the learner catches up, a second change is refused, and a follower refuses any.
            let follower = sim.nodes.first { $0.isUp && $0.role == .follower && $0.id != NodeID(4) }
            #expect(try change(.addLearner(NodeID(5)), sim))
            #expect(try sim.run(ticks: 100) { settled(sim) })
            if let leader = sim.leader, case .success = try sim.requestChange(.promote(NodeID(4)), at: leader) {
                #expect(try sim.requestChange(.promote(NodeID(5)), at: leader) == .failure(.configurationChangePending))
            } else {
                Issue.record("the caught-up learner n4 was not promoted")
            }
            if let follower {
                guard case .failure(.notLeader) = try sim.requestChange(.remove(NodeID(1)), at: follower) else {
                    Issue.record("a follower accepted a change"); return
                }
            }
            #expect(try change(.promote(NodeID(5)), sim))
            #expect(sim.leader?.raft?.status.configuration.voters == Set((1...5).map { NodeID(UInt64($0)) }))

            // The leader removes itself: it steps down once the change commits, another leads.
            guard let old = sim.leader else { Issue.record("no leader"); return }
            // The removal's commit reaches the last member behind ticks of queued heartbeats
            // (this simulated network is overloaded: a tick every ~12 events, 5 nodes), or only
            // under the next leader. 100 ticks were just enough until commit notices went quiet
            // and the run's schedule changed.
            #expect(try change(.remove(old.id), sim, ticks: 300))
            #expect(try sim.run(ticks: 100) { sim.leader.map { $0.id != old.id } ?? false })
            #expect(old.role != .leader)
            guard let new = sim.leader, try sim.propose("after", at: new) != nil else {
                Issue.record("no new leader accepted a proposal"); return
            }
            #expect(try sim.run(ticks: 100) { sim.isCommitted("after") })
            // The removed node never hears of its removal; pre-vote keeps it from disrupting.
            let term = new.term
            try sim.run(ticks: 20 * sim.options.electionTimeoutTicks)
            #expect(new.term == term && sim.leader?.id == new.id, "the removed \(old.id) disrupted the cluster")
            #expect(sim.isCommitted("before") && appliedByMembers(before, sim))
            try sim.checkFinalConfigurations()
            try sim.checker.checkDurability(sim.stores, only: nil)
        }
    }
}
