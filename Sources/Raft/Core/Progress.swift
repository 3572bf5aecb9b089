// What a leader knows about one follower's log (etcd `tracker/progress.go`). Only a leader
// holds these: they live inside `LeaderState`, reachable only through `RoleState.leader`.

struct Progress: Sendable {
    enum State: Sendable, Equatable {
        /// Unknown match: send one append at a time and wait for the answer.
        case probe
        /// Known match: stream appends optimistically, bounded by `inflights`.
        case replicate
        /// The entries it needs are compacted: a snapshot at `pendingIndex` is being sent.
        case snapshot(pendingIndex: LogIndex)
    }

    let id: NodeID
    /// Highest index known to match the leader's log. Invariant: match < next.
    private(set) var match: LogIndex
    /// Next index to send.
    private(set) var next: LogIndex
    private(set) var state: State = .probe
    /// Probe state: an append is outstanding; wait for its answer or a heartbeat answer.
    var probeSent = false
    /// Heard from since the last check-quorum round.
    var recentActive = false
    private(set) var inflights: Inflights

    init(id: NodeID, next: LogIndex, maxInflight: Int) {
        self.id = id
        match = .zero
        self.next = next
        inflights = Inflights(capacity: maxInflight)
    }

    /// True when no append may be sent now.
    var isPaused: Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }

    mutating func becomeProbe() {
        if case .snapshot(let pending) = state {
            next = max(match.next, pending.next)
        } else {
            next = match.next
        }
        state = .probe
        probeSent = false
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match.next
        probeSent = false
        inflights.reset()
    }

    mutating func becomeSnapshot(_ index: LogIndex) {
        state = .snapshot(pendingIndex: index)
        probeSent = false
        inflights.reset()
    }

    /// An append carrying entries up to `last` was sent.
    mutating func sentAppend(last: LogIndex?) {
        switch state {
        case .replicate:
            if let last {
                next = last.next
                inflights.add(last)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            break
        }
    }

    /// A successful append response at `index`. Returns false when it is stale.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if index > match {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index.next)
        return updated
    }

    /// A rejection of the append at `rejected`; `hint` is the leader's best guess of the last
    /// matching index. Returns false when the rejection is stale.
    mutating func maybeDecrease(rejected: LogIndex, hint: LogIndex) -> Bool {
        if state == .replicate {
            guard rejected > match else { return false }
            next = match.next
            return true
        }
        guard next.rawValue > 0, next.previous == rejected else { return false }
        if rejected == match && hint < match {
            // The follower no longer has an entry it acknowledged: its storage was lost (a wiped
            // data directory, a replaced disk). Forget the stale match, or the leader would
            // retry the same append forever; walking back reaches a snapshot if need be.
            // Lowering match never commits anything: it can only hold commits back.
            match = .zero
            next = hint.next
            probeSent = false
            return true
        }
        next = max(min(rejected, hint.next), match.next)
        probeSent = false
        return true
    }

    /// The host finished sending the snapshot. Either way wait (paused) for the follower's
    /// append response or the next heartbeat answer before probing again.
    mutating func snapshotFinished(success: Bool) {
        if !success { state = .probe }
        becomeProbe()
        probeSent = true
    }

    mutating func freeInflights(upTo index: LogIndex) { inflights.freeLE(index) }
}
