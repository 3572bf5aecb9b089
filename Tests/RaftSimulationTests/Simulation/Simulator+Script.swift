import Raft

/// Helpers for scripted scenarios: the same simulator, but faults are placed by hand.
extension Simulator {
    /// Runs steps until `condition` holds or `ticks` more ticks have passed. Returns whether the
    /// condition held. Safety is checked at every step as in random runs.
    @discardableResult
    func run(ticks: Int, until condition: () -> Bool = { false }) throws(Violation) -> Bool {
        let deadline = now + ticks
        var steps = 0
        while now < deadline && steps < ticks * 100 {
            if condition() { return true }
            try step()
            steps += 1
        }
        return condition()
    }

    /// The running node that believes it leads in the highest term, if any.
    var leader: SimNode? {
        nodes.filter { $0.isUp && $0.role == .leader }.max { $0.term < $1.term }
    }

    /// Proposes one payload at `node` (which must be idle); returns its index when accepted.
    func propose(_ text: String, at node: SimNode) throws(Violation) -> LogIndex? {
        let payload = Array(text.utf8)
        let range: ClosedRange<LogIndex>?
        do throws(ProposalError) {
            range = try node.raft?.propose([payload])
        } catch {
            record(.client(node.id, "propose \(text) refused: \(error)"))
            return nil
        }
        guard let range else { return nil }
        checker.observeProposal(payload, at: range.lowerBound)
        client.proposals.append((payload, range.lowerBound))
        record(.client(node.id, "proposed \(text) at \(range.lowerBound)"))
        try observe(node)
        return range.lowerBound
    }

    /// True when the payload committed (was applied somewhere) at its proposed index.
    func isCommitted(_ text: String) -> Bool { checker.committedPayloads[Array(text.utf8)] != nil }

    /// True when every node applied at least `index`.
    func appliedEverywhere(_ index: LogIndex) -> Bool { nodes.allSatisfy { $0.stateMachine.applied >= index } }

    /// Cuts `side` off from the rest until `heal()`.
    func isolate(_ side: Set<NodeID>) {
        network.partition(side, from: nodes.map(\.id), symmetric: true)
        record(.fault("partition \(side.sorted()) <-/-> rest (scripted)"))
    }

    func healNetwork() {
        network.heal()
        record(.fault("network healed (scripted)"))
    }

    /// Crashes `node` without a scheduled restart (the script restarts it with `start`).
    func kill(_ node: SimNode) {
        node.crash()
        record(.crash(node.id, reason: "scripted"))
    }
}
