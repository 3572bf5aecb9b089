// Single-server membership changes (thesis §4.1, §4.2.2) and leadership transfer (thesis §3.10).

extension RaftNode {
    mutating func proposeChange(_ change: ConfigurationChange) throws(ProposalError) -> LogIndex {
        guard var state = takeLeaderState() else { throw .notLeader(leader: leader) }
        defer { restoreLeaderState(state) }
        if state.transferTarget != nil { throw .transferInProgress }
        // One change at a time, and only after an entry of this term has committed (the fix to
        // the single-server bug Ongaro reported on raft-dev in 2015).
        guard state.pendingConfigurationIndex <= log.committed, log.term(at: log.committed) == term else {
            throw .configurationChangePending
        }
        let entry = Entry(term: term, index: log.lastIndex.next, kind: .configurationChange, data: change.encoded)
        appendAsLeader(&state, [entry])
        state.broadcastPending = true
        return entry.index
    }

    /// Applies every configuration entry from `index` on (after a restart or a truncation).
    mutating func applyConfigurationEntries(from index: LogIndex) {
        var i = max(index, log.firstIndex)
        while let entry = log.entry(at: i) {
            if entry.kind == .configurationChange { applyConfigurationEntry(entry) }
            i = i.next
        }
    }

    /// Puts a configuration entry in force. Returns false when its bytes are not a valid change
    /// (then every node ignores it alike).
    @discardableResult
    mutating func applyConfigurationEntry(_ entry: Entry) -> Bool {
        guard let change = try? ConfigurationChange.decode(entry.data) else { return false }
        configurations.append(ConfigurationRecord(index: entry.index, configuration: configuration.applying(change)))
        return true
    }

    /// Matches the leader's progress list to the configuration in force.
    mutating func syncProgress(_ state: inout LeaderState) {
        let members = configuration.members
        state.progress.removeAll { !members.contains($0.id) }
        for member in members.sorted() where member != id && state.index(of: member) == nil {
            let progress = Progress(id: member, next: log.lastIndex.next, maxInflight: config.maxInflightMessages)
            let at = state.progress.firstIndex { $0.id > member } ?? state.progress.count
            state.progress.insert(progress, at: at)
        }
        if let target = state.transferTarget, !configuration.voters.contains(target) {
            state.transferTarget = nil
        }
    }

    /// A leader that is no longer a voter leads until the change commits, then steps down
    /// (thesis §4.2.2; etcd StepDownOnRemoval).
    mutating func maybeStepDownIfRemoved() {
        guard case .leader = roleState, !isPromotable else { return }
        guard let latest = configurations.last, log.committed >= latest.index else { return }
        flushBroadcast()  // let the followers learn the commit index first
        becomeFollower(term: term, leader: nil)
    }

    mutating func startTransfer(to target: NodeID) {
        guard var state = takeLeaderState() else { return }
        defer { restoreLeaderState(state) }
        guard target != id, configuration.voters.contains(target), state.transferTarget != target,
            let i = state.index(of: target)
        else { return }
        state.transferTarget = target
        // The transfer gets a full election timeout before it is abandoned.
        electionElapsed = 0
        if state.progress[i].match == log.lastIndex {
            send(to: target, .timeoutNow)
        } else {
            sendAppend(&state.progress[i], sendIfEmpty: true)
        }
    }
}
