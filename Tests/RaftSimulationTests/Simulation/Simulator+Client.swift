import Raft

/// What the simulated client knows: who it thinks leads, and what it proposed.
struct ClientModel {
    var leaderGuess = NodeID(1)
    var counter = 0
    /// Every proposal that got an index from `propose()`, in order.
    var proposals: [(payload: [UInt8], index: LogIndex)] = []

    mutating func nextTag(_ prefix: String, _ node: NodeID) -> [UInt8] {
        counter += 1
        return Array("\(prefix)\(node.rawValue)-\(counter)".utf8)
    }
}

/// Counters of one run, for the report and for coverage (M22).
struct SimulationStats: Sendable {
    var proposed = 0
    var notLeader = 0
    var refused = 0
    var readsIssued = 0
    var readStates = 0
    var transfers = 0
    var campaigns = 0
    var leadersElected = 0
    var crashes = 0
    var restarts = 0
    var splitBatches = 0
    var duplicated = 0
    var snapshotsTaken = 0
    var snapshotsInstalled = 0
    var membershipChanges = 0
    var membershipRefused = 0
    var membershipNotLeader = 0
    var faultsFired: Set<FaultKind> = []
}

/// Client calls: proposals to whoever the client believes leads (a refusal redirects it),
/// ReadIndex requests, and the occasional leadership transfer or forced campaign.
extension Simulator {
    func clientStep() throws(Violation) {
        // Operators change the membership in calm periods too, not only amid faults.
        if options.enabledFaults.contains(.membership), rng.chance(0.01) { return try changeMembership() }
        let roll = rng.double(0, 1)
        if roll < 0.7 {
            try propose()
        } else if roll < 0.9 {
            try read()
        } else if roll < 0.95 {
            guard options.enabledFaults.contains(.transfer) else { return }
            try transfer()
        } else if options.enabledFaults.contains(.campaign), rng.chance(0.3) {
            let candidates = nodes.filter { $0.isIdle(now: now) }
            guard !candidates.isEmpty else { return }
            let node = rng.pick(candidates)
            record(.client(node.id, "campaign"))
            node.raft?.campaign()
            stats.campaigns += 1
            stats.faultsFired.insert(.campaign)
            try observe(node)
        }
    }

    /// Proposes 1–3 unique payloads; returns the payloads and their range when accepted.
    @discardableResult
    func propose(prefix: String = "n") throws(Violation) -> (payloads: [[UInt8]], range: ClosedRange<LogIndex>)? {
        guard let node = node(client.leaderGuess), node.isIdle(now: now) else {
            client.leaderGuess = rng.pick(nodes).id
            return nil
        }
        let payloads = (0..<rng.int(1...3)).map { _ in client.nextTag(prefix, node.id) }
        let range: ClosedRange<LogIndex>?
        do throws(ProposalError) {
            range = try node.raft?.propose(payloads)
        } catch {
            if case .notLeader(let leader) = error {
                stats.notLeader += 1
                client.leaderGuess = leader ?? rng.pick(nodes).id
            } else {
                stats.refused += 1
            }
            record(.client(node.id, "propose refused: \(error)"))
            return nil
        }
        guard let range else { return nil }
        guard range.upperBound.rawValue - range.lowerBound.rawValue + 1 == UInt64(payloads.count) else {
            throw Violation(.proposalIntegrity, "propose of \(payloads.count) items returned \(range)")
        }
        for (offset, payload) in payloads.enumerated() {
            let index = range.lowerBound + UInt64(offset)
            checker.observeProposal(payload, at: index)
            client.proposals.append((payload, index))
        }
        stats.proposed += payloads.count
        record(.client(node.id, "proposed \(payloads.count) at \(range.lowerBound)…\(range.upperBound)"))
        try observe(node)
        return (payloads, range)
    }

    private func read() throws(Violation) {
        let candidates = nodes.filter { $0.isIdle(now: now) }
        guard !candidates.isEmpty else { return }
        let node = rng.chance(0.5) ? (self.node(client.leaderGuess) ?? rng.pick(candidates)) : rng.pick(candidates)
        guard node.isIdle(now: now) else { return }
        let context = client.nextTag("r", node.id)
        // The bound is taken before the request: every commit seen so far must be visible.
        checker.observeReadRequest(context: context)
        do throws(ProposalError) {
            try node.raft?.readIndex(context: context)
            stats.readsIssued += 1
            record(.client(node.id, "readIndex \(String(decoding: context, as: UTF8.self))"))
        } catch {
            record(.client(node.id, "readIndex refused: \(error)"))
        }
        try observe(node)
    }

    private func transfer() throws(Violation) {
        guard let leader = nodes.first(where: { $0.isIdle(now: now) && $0.role == .leader }) else { return }
        let target = rng.pick(nodes.filter { $0.id != leader.id }).id
        record(.client(leader.id, "transfer leadership to \(target)"))
        leader.raft?.transferLeadership(to: target)
        stats.transfers += 1
        stats.faultsFired.insert(.transfer)
        try observe(leader)
    }
}
