// Leader side of log replication (Raft §5.3, §5.4.2; etcd `raft.go` sendAppend/maybeCommit and
// `tracker/progress.go` for probe/replicate/snapshot flow control).

extension RaftNode {
    mutating func proposeEntries(_ data: [[UInt8]]) throws(ProposalError) -> ClosedRange<LogIndex> {
        guard var state = takeLeaderState() else { throw .notLeader(leader: leader) }
        defer { restoreLeaderState(state) }
        if state.transferTarget != nil { throw .transferInProgress }
        guard !data.isEmpty else { return log.lastIndex...log.lastIndex }
        var bytes = 0
        for item in data { bytes += item.count }
        // Back-pressure (etcd MaxUncommittedEntriesSize): one batch is always accepted when
        // nothing is outstanding, so a large proposal cannot wedge an idle leader.
        let limit = config.maxUncommittedBytes
        if limit > 0 && state.uncommittedBytes > 0 && state.uncommittedBytes + bytes > limit {
            throw .tooManyUncommitted
        }
        let first = log.lastIndex.next
        var entries: [Entry] = []
        entries.reserveCapacity(data.count)
        for (offset, item) in data.enumerated() {
            entries.append(Entry(term: term, index: first + UInt64(offset), data: item))
        }
        appendAsLeader(&state, entries)
        // Sent at the next `takeEffects`, so proposals made between batches share one append.
        state.broadcastPending = true
        return first...log.lastIndex
    }

    /// Appends entries built by the leader; configuration entries take effect at once (thesis §4.1).
    mutating func appendAsLeader(_ state: inout LeaderState, _ entries: [Entry]) {
        log.append(entries)
        for entry in entries {
            if entry.index >= state.termStartIndex { state.uncommittedBytes += entry.data.count }
            if entry.kind == .configurationChange, applyConfigurationEntry(entry) {
                state.pendingConfigurationIndex = entry.index
                syncProgress(&state)
            }
        }
    }

    /// Sends every follower what it lacks (or an empty append carrying the commit index: a
    /// quiet one, answered only if rejected, to a follower in replicate state).
    mutating func broadcastAppend(_ state: inout LeaderState) {
        for i in state.progress.indices {
            var sendIfEmpty = true
            while sendAppend(&state.progress[i], sendIfEmpty: sendIfEmpty, quietIfEmpty: true) { sendIfEmpty = false }
        }
    }

    /// Sends one append to `progress` if flow control allows; a snapshot when the entries it
    /// needs are compacted. Returns false when nothing was sent.
    /// `force` sends even when the in-flight window is full (recovery after lost appends).
    /// `quietIfEmpty` makes an empty append to a follower in replicate state a commit notice:
    /// its answer would only repeat a match the leader knows or will learn from the answers to
    /// appends in flight. Probes, and the forced appends that recover lost answers, are never
    /// quiet: their answers are the point.
    @discardableResult
    mutating func sendAppend(_ progress: inout Progress, sendIfEmpty: Bool, force: Bool = false, quietIfEmpty: Bool = false) -> Bool {
        let windowFull = progress.state == .replicate && progress.inflights.isFull
        guard !progress.isPaused || (force && windowFull) else { return false }
        let prevIndex = progress.next.previous
        // A forced send into a full window carries no entries (it is not tracked in flight).
        let through = windowFull ? prevIndex : log.lastIndex
        guard let prevTerm = log.term(at: prevIndex),
            let entries = log.entries(from: progress.next, through: through, maxBytes: config.maxBytesPerMessage)
        else {
            return sendSnapshot(&progress)
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        let quiet = quietIfEmpty && entries.isEmpty && progress.state == .replicate && !windowFull
        let append = Message.Append(
            prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: entries, commit: log.committed, quiet: quiet)
        send(to: progress.id, .append(append))
        progress.sentAppend(last: entries.last?.index)
        return true
    }

    /// The follower needs compacted entries: ask the host to stream our snapshot image
    /// (the message carries only metadata) and wait for `reportSnapshot`.
    private mutating func sendSnapshot(_ progress: inout Progress) -> Bool {
        guard log.snapshotIndex > .zero else { return false }
        let metadata = SnapshotMetadata(
            index: log.snapshotIndex, term: log.snapshotTerm, configuration: configurations[0].configuration)
        send(to: progress.id, .installSnapshot(Snapshot(metadata: metadata, data: [])))
        progress.becomeSnapshot(metadata.index)
        return true
    }

    mutating func broadcastHeartbeat(_ state: inout LeaderState, context: [UInt8]) {
        for progress in state.progress {
            // Never tell a follower to commit beyond what it is known to match.
            let commit = min(progress.match, log.committed)
            send(to: progress.id, .heartbeat(.init(commit: commit, context: context)))
        }
    }

    /// Advances the commit index to the highest index stored on a quorum of voters, counting
    /// our own log only up to what the host acknowledged as durable (I6), and only if that
    /// entry is of the current term (§5.4.2, Figure 8). Returns true when it advanced.
    /// A single voter therefore commits when the host acknowledges its batch.
    @discardableResult
    mutating func maybeCommit(_ state: inout LeaderState) -> Bool {
        let voters = configuration.voters
        guard !voters.isEmpty else { return false }
        var matches: [LogIndex] = []
        matches.reserveCapacity(voters.count)
        if voters.contains(id) { matches.append(log.stableIndex) }
        for progress in state.progress where voters.contains(progress.id) { matches.append(progress.match) }
        while matches.count < voters.count { matches.append(.zero) }
        matches.sort(by: >)
        // Also never beyond our own durable log (I6 CommittedIsDurable, read strictly): the
        // commit index we persist and hand out always names entries we have on disk.
        let candidate = min(matches[configuration.quorum - 1], log.stableIndex)
        guard candidate > log.committed, log.term(at: candidate) == term else { return false }
        let old = log.committed
        log.committed = candidate
        releaseUncommittedBytes(&state, from: max(old.next, state.termStartIndex), through: candidate)
        state.broadcastPending = true
        if old < state.termStartIndex && candidate >= state.termStartIndex {
            serveDeferredReads(&state)
        }
        return true
    }

    private func releaseUncommittedBytes(_ state: inout LeaderState, from: LogIndex, through: LogIndex) {
        guard from <= through else { return }
        var index = from
        while index <= through {
            state.uncommittedBytes -= log.entry(at: index)?.data.count ?? 0
            index = index.next
        }
        state.uncommittedBytes = max(0, state.uncommittedBytes)
    }

    mutating func handleAppendResponse(from peer: NodeID, _ response: Message.AppendResponse) {
        guard var state = takeLeaderState() else { return }
        defer { restoreLeaderState(state) }
        guard let i = state.index(of: peer) else { return }
        state.progress[i].recentActive = true
        if response.reject {
            // Fast back-off: skip the follower's whole conflicting term (etcd findConflictByTerm).
            let hint = response.hintTerm > .zero
                ? log.lastIndex(atOrBefore: response.hintIndex, withTermAtMost: response.hintTerm)
                : response.hintIndex
            if state.progress[i].maybeDecrease(rejected: response.index, hint: hint) {
                if state.progress[i].state == .replicate { state.progress[i].becomeProbe() }
                sendAppend(&state.progress[i], sendIfEmpty: true)
            }
            return
        }
        // A peer claiming more than we have is broken: ignore it.
        guard response.index <= log.lastIndex else { return }
        let wasPaused = state.progress[i].isPaused
        // A probe answered at the match index (a caught-up follower) also resumes replication.
        let caughtUpProbe = state.progress[i].state == .probe && state.progress[i].match == response.index
        guard state.progress[i].maybeUpdate(response.index) || caughtUpProbe else { return }
        switch state.progress[i].state {
        case .probe, .snapshot: state.progress[i].becomeReplicate()
        case .replicate: state.progress[i].freeInflights(upTo: response.index)
        }
        // A follower that was paused missed the broadcasts of the commit index: tell it now,
        // with an empty append if need be (etcd does the same), unless a broadcast is due anyway.
        if !maybeCommit(&state) && wasPaused && !state.broadcastPending {
            sendAppend(&state.progress[i], sendIfEmpty: true)
        }
        while sendAppend(&state.progress[i], sendIfEmpty: false) {}
        if state.transferTarget == peer && state.progress[i].match == log.lastIndex {
            send(to: peer, .timeoutNow)
        }
    }

    mutating func handleHeartbeatResponse(from peer: NodeID, _ response: Message.HeartbeatResponse) {
        guard var state = takeLeaderState() else { return }
        defer { restoreLeaderState(state) }
        guard let i = state.index(of: peer) else { return }
        state.progress[i].recentActive = true
        state.progress[i].probeSent = false
        // Also when the window is full: if every append that filled it was lost, this (maybe
        // empty) append draws a rejection that moves the follower back to probing (etcd does
        // the same). A caught-up follower in probe gets one too, to return to replicate.
        if state.progress[i].match < log.lastIndex || state.progress[i].state == .probe {
            sendAppend(&state.progress[i], sendIfEmpty: true, force: true)
        }
        if !response.context.isEmpty {
            confirmRead(&state, context: response.context, from: peer)
        }
    }
}
