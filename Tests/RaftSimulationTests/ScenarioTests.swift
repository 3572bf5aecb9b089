import Raft
import Testing
import TestSupport

/// Scripted scenarios on the same simulator as the random runs: faults placed by hand, quiet
/// network otherwise, every invariant still checked at every step.
@Suite(.ownThreads) struct ScenarioTests {
    /// Runs `body` on a booted quiet cluster; a violation fails the test with its trace.
    private func scenario(nodes: Int, seed: UInt64 = 7, snapshotThreshold: Int = 30, _ body: (Simulator) throws(Violation) -> Void) {
        var options = SimulationOptions.quiet(nodes: nodes)
        options.snapshotThreshold = snapshotThreshold
        let sim = Simulator(seed: seed, options: options)
        do {
            try sim.boot()
            try body(sim)
        } catch {
            Issue.record("\(error) at step \(sim.stepCount)\n\(sim.trace.lines.joined(separator: "\n"))")
        }
    }

    @Test(arguments: [3, 5])
    func leaderPartitionedAwayThenHealed(nodes: Int) {
        scenario(nodes: nodes) { (sim) throws(Violation) in
            #expect(try sim.run(ticks: 100) { sim.leader != nil })
            guard let old = sim.leader, let before = try sim.propose("before", at: old) else {
                Issue.record("no leader accepted a proposal"); return
            }
            #expect(try sim.run(ticks: 50) { sim.appliedEverywhere(before) })
            let oldTerm = old.term
            sim.isolate([old.id])
            // The cut-off leader still accepts a proposal; it must never commit.
            #expect(try sim.propose("stale", at: old) != nil)
            #expect(try sim.run(ticks: 100) { sim.leader.map { $0.id != old.id && $0.term > oldTerm } ?? false })
            guard let new = sim.leader, let after = try sim.propose("after", at: new) else {
                Issue.record("the majority elected no leader that accepts proposals"); return
            }
            #expect(try sim.run(ticks: 50) { sim.isCommitted("after") })
            sim.healNetwork()
            #expect(try sim.run(ticks: 100) { sim.appliedEverywhere(after) && old.knownLeader == new.id })
            #expect(old.role == .follower)
            #expect(!sim.isCommitted("stale"))
            #expect(sim.isCommitted("before"))
        }
    }

    @Test func allNodesCrashAtOnceAndRestart() {
        scenario(nodes: 3) { (sim) throws(Violation) in
            #expect(try sim.run(ticks: 100) { sim.leader != nil })
            guard let leader = sim.leader else { Issue.record("no leader"); return }
            var last = LogIndex.zero
            for i in 1...5 { last = try sim.propose("before-\(i)", at: leader) ?? last }
            #expect(try sim.run(ticks: 50) { sim.appliedEverywhere(last) })
            // More in flight at the moment everything dies.
            _ = try sim.propose("in-flight", at: leader)
            try sim.run(ticks: 1)
            let termBefore = sim.checker.maxTerm
            for node in sim.nodes { sim.kill(node) }
            for node in sim.nodes { try sim.start(node) }
            #expect(try sim.run(ticks: 200) { sim.leader.map { $0.term > termBefore } ?? false })
            guard let newLeader = sim.leader, let after = try sim.propose("after-restart", at: newLeader) else {
                Issue.record("no leader after the restart"); return
            }
            #expect(try sim.run(ticks: 100) { sim.appliedEverywhere(after) })
            for i in 1...5 { #expect(sim.isCommitted("before-\(i)")) }
            try sim.checker.checkDurability(sim.stores, only: nil)
        }
    }

    @Test func isolatedFollowerRejoinsWithoutDisruptingTheLeader() {
        scenario(nodes: 3) { (sim) throws(Violation) in
            #expect(sim.options.preVote && sim.options.checkQuorum)
            #expect(try sim.run(ticks: 100) { sim.leader != nil })
            guard let leader = sim.leader, let follower = sim.nodes.first(where: { $0.id != leader.id }) else {
                Issue.record("no leader"); return
            }
            let term = leader.term
            let leadersBefore = sim.stats.leadersElected
            sim.isolate([follower.id])
            guard let during = try sim.propose("while-isolated", at: leader) else { Issue.record("refused"); return }
            // Twenty election timeouts alone: pre-vote keeps it from raising its term.
            try sim.run(ticks: 20 * sim.options.electionTimeoutTicks)
            #expect(follower.term == term, "the isolated follower's term grew to \(follower.term)")
            sim.healNetwork()
            #expect(try sim.run(ticks: 100) { follower.stateMachine.applied >= during && follower.knownLeader == leader.id })
            #expect(sim.leader?.id == leader.id)
            #expect(leader.term == term)
            #expect(sim.stats.leadersElected == leadersBefore)
        }
    }

    /// F14: a follower cut off while the leader compacts its log catches up by InstallSnapshot.
    @Test func laggingFollowerCatchesUpFromASnapshot() {
        scenario(nodes: 3, snapshotThreshold: 5) { (sim) throws(Violation) in
            #expect(try sim.run(ticks: 100) { sim.leader != nil })
            guard let leader = sim.leader, let follower = sim.nodes.first(where: { $0.id != leader.id }) else {
                Issue.record("no leader"); return
            }
            sim.isolate([follower.id])
            var last = LogIndex.zero
            for i in 1...12 {
                last = try sim.propose("while-behind-\(i)", at: leader) ?? last
                try sim.run(ticks: 1)
            }
            #expect(try sim.run(ticks: 50) { leader.stateMachine.applied >= last })
            try sim.takeSnapshot(leader)
            #expect(leader.storage.snapshotIndex >= last)
            sim.healNetwork()
            #expect(try sim.run(ticks: 100) { sim.appliedEverywhere(last) })
            #expect(sim.stats.snapshotsInstalled >= 1)
            #expect(follower.storage.snapshotIndex >= last)
        }
    }
}
