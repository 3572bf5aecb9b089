// Follower side of replication: the AppendEntries consistency check and suffix truncation
// (Raft §5.3), fast back-off hints, heartbeats and InstallSnapshot (§7).

extension RaftNode {
    mutating func handleAppend(from leaderID: NodeID, _ append: Message.Append) {
        // A commit notice (quiet, no entries) is answered only with a rejection.
        let answer = !(append.quiet && append.entries.isEmpty)
        if append.prevLogIndex < log.committed {
            // Everything up to our commit index already matches; say so.
            if answer { send(to: leaderID, .appendResponse(.init(index: log.committed, reject: false)), afterPersist: true) }
            return
        }
        guard log.matchTerm(append.prevLogIndex, append.prevLogTerm) else {
            rejectAppend(to: leaderID, append)
            return
        }
        guard isWellFormed(append) else { return }
        if let conflict = append.entries.first(where: { !log.matchTerm($0.index, $0.term) }) {
            // A peer asking us to overwrite committed entries is broken (I5): ignore it.
            guard conflict.index > log.committed else { return }
            let suffix = Array(append.entries[Int(conflict.index.rawValue - append.prevLogIndex.rawValue - 1)...])
            configurations.removeAll { $0.index >= conflict.index }
            log.truncateAndAppend(suffix)
            applyConfigurationEntries(from: conflict.index)
            dropAcknowledgements(from: conflict.index)
        }
        let lastNew = append.prevLogIndex + UInt64(append.entries.count)
        commit(to: min(append.commit, lastNew))
        // The answer claims the entries are stored: it waits for their persistence.
        if answer { send(to: leaderID, .appendResponse(.init(index: lastNew, reject: false)), afterPersist: true) }
    }

    /// An acknowledgement still waiting for the persist that covers an index from `index` on
    /// promises entries that were just truncated and will never reach the disk (with inputs
    /// stepped while a batch is pending, simulator finding F3): drop it, the leader asks again.
    private mutating func dropAcknowledgements(from index: LogIndex) {
        outboxAfterPersist.removeAll { message in
            guard case .appendResponse(let response) = message.payload else { return false }
            return !response.reject && response.index >= index
        }
    }

    /// Entries must follow prevLogIndex contiguously with non-decreasing terms no later than the
    /// message's term. Anything else is a broken peer.
    private func isWellFormed(_ append: Message.Append) -> Bool {
        var expected = append.prevLogIndex.next
        var lastTerm = append.prevLogTerm
        for entry in append.entries {
            guard entry.index == expected, entry.term >= lastTerm, entry.term <= term else { return false }
            expected = expected.next
            lastTerm = entry.term
        }
        return true
    }

    /// Rejects an append whose prevLogIndex/prevLogTerm we lack, with a hint that lets the leader
    /// skip a whole conflicting term at once: the last index of ours whose term is ≤ prevLogTerm.
    private mutating func rejectAppend(to leaderID: NodeID, _ append: Message.Append) {
        let probe = min(append.prevLogIndex, log.lastIndex)
        let hintIndex = log.lastIndex(atOrBefore: probe, withTermAtMost: append.prevLogTerm)
        let hintTerm = log.term(at: hintIndex) ?? .zero
        let response = Message.AppendResponse(
            index: append.prevLogIndex, reject: true, hintIndex: hintIndex, hintTerm: hintTerm)
        send(to: leaderID, .appendResponse(response))
    }

    mutating func commit(to index: LogIndex) {
        let capped = min(index, log.lastIndex)
        if capped > log.committed { log.committed = capped }
    }

    mutating func handleHeartbeat(from leaderID: NodeID, _ heartbeat: Message.Heartbeat) {
        commit(to: heartbeat.commit)
        send(to: leaderID, .heartbeatResponse(.init(context: heartbeat.context)))
    }

    mutating func handleSnapshot(from leaderID: NodeID, _ snapshot: Snapshot) {
        let metadata = snapshot.metadata
        if metadata.index <= log.committed {
            // Everything up to commit is in our log, but maybe not on disk yet (the tail of an
            // unpersisted batch, or a snapshot still being installed): acknowledging it before
            // the next persist would let the leader count entries we could lose in a crash
            // (found by the simulator, seeds 166/216/331/390).
            send(to: leaderID, .appendResponse(.init(index: log.committed, reject: false)), afterPersist: true)
            return
        }
        if log.matchTerm(metadata.index, metadata.term) {
            // We already hold the snapshot's last entry: only the commit index moves.
            commit(to: metadata.index)
            send(to: leaderID, .appendResponse(.init(index: log.lastIndex, reject: false)), afterPersist: true)
            return
        }
        log.restore(metadata)
        configurations = [ConfigurationRecord(index: metadata.index, configuration: metadata.configuration)]
        pendingSnapshot = snapshot
        // Answered once the host has installed the snapshot (the next batch's persist step).
        send(to: leaderID, .appendResponse(.init(index: metadata.index, reject: false)), afterPersist: true)
    }
}
