import Raft

/// Delivering packets: partitions and crashed targets drop them, duplication re-queues a copy,
/// and snapshot transfers report their outcome back to the sender's host.
extension Simulator {
    func deliver(_ packet: Packet) throws(Violation) {
        switch packet {
        case .message(let message, _):
            guard let target = node(message.to), target.isUp else {
                record(.drop(message, reason: "target down"))
                return reportSnapshotOutcome(packet, success: false)
            }
            if network.isBlocked(message.from, message.to) {
                record(.drop(message, reason: "partitioned"))
                return reportSnapshotOutcome(packet, success: false)
            }
            if faultsActive && rng.chance(network.duplicateRate) {
                network.redeliver(packet, now: now, rng: &rng)
                record(.duplicate(message))
                stats.duplicated += 1
                stats.faultsFired.insert(.messageDuplication)
            }
            record(.deliver(message))
            target.raft?.step(message)
            try observe(target)
            reportSnapshotOutcome(packet, success: true)
        case .snapshotReport(let sender, let peer, let success, let incarnation):
            // Only the process that sent the snapshot hears how it went.
            guard let node = node(sender), node.incarnation == incarnation, node.isUp else { return }
            node.raft?.reportSnapshot(peer, success: success)
            try observe(node)
        }
    }

    /// For an InstallSnapshot message, queue the host's report to the sender.
    func reportSnapshotOutcome(_ packet: Packet, success: Bool) {
        guard case .message(let message, let incarnation) = packet, case .installSnapshot = message.payload else { return }
        let report = Packet.snapshotReport(sender: message.from, peer: message.to, success: success, incarnation: incarnation)
        _ = network.send(report, now: now, rng: &rng)
    }
}
