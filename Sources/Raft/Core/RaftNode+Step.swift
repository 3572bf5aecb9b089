// Message dispatch: term rules first (Raft §5.1, etcd `raft.go` Step), then per-role handling.

extension RaftNode {
    mutating func stepMessage(_ m: Message) {
        // Misaddressed or self-sent messages, and term 0 (no leader or candidate ever has it),
        // are peer bugs: ignore them.
        guard m.to == id, m.from != id, m.term > .zero else { return }
        if m.term > term {
            guard adoptHigherTerm(m) else { return }
        } else if m.term < term {
            answerStaleMessage(m)
            return
        }
        switch m.payload {
        case .voteRequest(let request):
            handleVoteRequest(from: m.from, term: m.term, request)
        case .voteResponse(let response):
            // A granted pre-vote carries the term we asked for; everything else carries ours.
            guard m.term == term || (response.preVote && response.granted && m.term == term.next) else { return }
            recordVote(from: m.from, granted: response.granted, preVote: response.preVote)
        case .append(let append):
            guard followLeader(m.from) else { return }
            handleAppend(from: m.from, append)
        case .heartbeat(let heartbeat):
            guard followLeader(m.from) else { return }
            handleHeartbeat(from: m.from, heartbeat)
        case .installSnapshot(let snapshot):
            guard followLeader(m.from) else { return }
            handleSnapshot(from: m.from, snapshot)
        case .appendResponse(let response):
            handleAppendResponse(from: m.from, response)
        case .heartbeatResponse(let response):
            handleHeartbeatResponse(from: m.from, response)
        case .timeoutNow:
            // Leader transfer (thesis §3.10): campaign at once, bypassing pre-vote and leases.
            if case .follower = roleState { startCampaign(transfer: true) }
        case .readIndexRequest(let context):
            if case .leader = roleState { serveRead(context: context, from: m.from) }
        case .readIndexResponse(let context, let index):
            if case .follower = roleState, m.from == leader {
                readStates.append(ReadState(index: index, context: context))
            }
        }
    }

    /// A message from a later term. Returns false when it must be dropped.
    private mutating func adoptHigherTerm(_ m: Message) -> Bool {
        switch m.payload {
        case .voteRequest(let request):
            // Leader lease (thesis §4.2.3, §6.2): while we hear from a leader, a disruptive
            // candidate is ignored, unless the leader itself asked for the election (transfer).
            let inLease = config.checkQuorum && leader != nil && electionElapsed < config.electionTimeoutTicks
            if inLease && !request.transfer { return false }
            // A pre-vote request does not move us to its term (thesis §9.6).
            if !request.preVote { becomeFollower(term: m.term, leader: nil) }
        case .voteResponse(let response) where response.preVote && response.granted:
            // The grant carries the term we would campaign in; keep ours.
            break
        case .append, .heartbeat, .installSnapshot:
            becomeFollower(term: m.term, leader: m.from)
        default:
            becomeFollower(term: m.term, leader: nil)
        }
        return true
    }

    /// A message from an earlier term: tell a stale leader or pre-candidate our term, else drop it.
    private mutating func answerStaleMessage(_ m: Message) {
        switch m.payload {
        case .append, .heartbeat:
            // Without this a leader cut off by check-quorum peers never learns it was replaced
            // (etcd: the stale-leader response).
            if config.checkQuorum || config.preVote {
                send(to: m.from, .appendResponse(.init(index: .zero, reject: false)))
            }
        case .voteRequest(let request) where request.preVote:
            send(to: m.from, .voteResponse(.init(preVote: true, granted: false)))
        default:
            break
        }
    }

    /// Same-term message from the leader: (pre-)candidates step down, followers reset the timer.
    /// Returns false when we lead this term ourselves (two leaders in a term cannot happen; a
    /// peer claiming it is ignored).
    private mutating func followLeader(_ from: NodeID) -> Bool {
        switch roleState {
        case .leader, .moved:
            return false
        case .preCandidate, .candidate:
            becomeFollower(term: term, leader: from)
        case .follower:
            leader = from
            electionElapsed = 0
        }
        return true
    }
}
