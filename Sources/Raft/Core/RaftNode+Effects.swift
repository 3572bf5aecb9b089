// The batch protocol (etcd `rawnode.go` Ready/Advance, raft-rs numbered readies) and the
// per-input invariant check.

extension RaftNode {
    var configuration: Configuration {
        configurations[configurations.count - 1].configuration
    }

    /// May this node campaign? Only voters of the configuration in force.
    var isPromotable: Bool { configuration.voters.contains(id) }

    var softState: SoftState { SoftState(leader: leader, role: roleState.role) }
    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }

    /// Queues `message`; `afterPersist` holds it until the batch's hard state and entries are durable.
    mutating func send(to peer: NodeID, _ payload: Message.Payload, term messageTerm: Term? = nil, afterPersist: Bool = false) {
        let message = Message(from: id, to: peer, term: messageTerm ?? term, payload: payload)
        if afterPersist {
            outboxAfterPersist.append(message)
        } else {
            outbox.append(message)
        }
    }

    /// Committed entries that are also durable here (I6: never hand out what we may lose).
    var applicableIndex: LogIndex { min(log.committed, log.stableIndex) }

    var hasPendingOutput: Bool {
        softState != handedSoftState || hardState != handedHardState || log.hasUnstable || pendingSnapshot != nil
            || !outbox.isEmpty || !outboxAfterPersist.isEmpty || !readStates.isEmpty || applicableIndex > applied
    }

    mutating func makeEffects() -> Effects? {
        guard unacknowledgedBatch == nil else { return nil }
        flushBroadcast()
        guard hasPendingOutput else { return nil }
        var effects = Effects(number: nextBatchNumber)
        nextBatchNumber += 1
        unacknowledgedBatch = effects.number
        if softState != handedSoftState {
            effects.softState = softState
            handedSoftState = softState
        }
        if hardState != handedHardState {
            effects.hardState = hardState
            handedHardState = hardState
        }
        if let snapshot = pendingSnapshot {
            effects.snapshot = snapshot
            applied = max(applied, snapshot.metadata.index)
            pendingSnapshot = nil
        }
        effects.entries = log.takeUnstable()
        swap(&effects.messages, &outbox)
        swap(&effects.messagesAfterPersist, &outboxAfterPersist)
        swap(&effects.readStates, &readStates)
        if applicableIndex > applied,
            let committed = log.entries(
                from: applied.next, through: applicableIndex, maxBytes: config.maxCommittedBytesPerBatch)
        {
            effects.committedEntries = committed
            applied = committed.last?.index ?? applied
        }
        return effects
    }

    /// Sends proposals appended since the last batch in one append per follower (batching).
    mutating func flushBroadcast() {
        guard var state = takeLeaderState() else { return }
        if state.broadcastPending {
            state.broadcastPending = false
            broadcastAppend(&state)
        }
        restoreLeaderState(state)
    }

    /// Moves the leader state out of `roleState` so handlers mutate it in place (no copy of the
    /// progress array). Pair with `restoreLeaderState`; nothing may read `roleState` in between.
    mutating func takeLeaderState() -> LeaderState? {
        guard case .leader(let state) = roleState else { return nil }
        roleState = .moved
        return state
    }

    mutating func restoreLeaderState(_ state: LeaderState) {
        guard case .moved = roleState else { preconditionFailure("leader state restored twice") }
        roleState = .leader(state)
    }

    /// Ends every input: apply deferred role changes, then re-check the invariants.
    mutating func finishInput() {
        maybeStepDownIfRemoved()
        checkInvariants()
    }

    func checkInvariants() {
        log.checkInvariants()
        precondition(applied <= log.committed, "applied beyond commit")
        precondition(log.committed >= handedHardState.commit, "commit went backwards")
        precondition(term >= handedHardState.term, "term went backwards")
        precondition(term > handedHardState.term || vote == handedHardState.vote || handedHardState.vote == nil,
            "a second vote in one term")
        switch roleState {
        case .moved:
            preconditionFailure("leader state not restored")
        case .leader(let state):
            precondition(leader == id && vote == id, "a leader leads and voted for itself")
            for progress in state.progress {
                precondition(progress.match < progress.next && progress.match <= log.lastIndex, "progress out of range")
            }
        case .candidate:
            precondition(vote == id && leader == nil, "a candidate votes for itself")
        case .preCandidate, .follower:
            precondition(leader != id, "only the leader names itself leader")
        }
    }
}
