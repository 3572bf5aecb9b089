// Leader election (Raft §5.2, §5.4.1; thesis §9.6 pre-vote, §6.2 leader lease / check-quorum)
// and the role changes (`become…`, as in etcd `raft.go`).

extension RaftNode {
    /// Draws a new election timeout uniformly in [base, 2*base) (Raft §5.2, §9.3).
    mutating func resetElectionTimer() {
        electionElapsed = 0
        let base = config.electionTimeoutTicks
        randomizedElectionTimeout = base + Int(random.next() % UInt64(base))
    }

    mutating func tickElection() {
        electionElapsed += 1
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            startCampaign(transfer: false)
        }
    }

    mutating func tickLeader() {
        guard var state = takeLeaderState() else { return }
        electionElapsed += 1
        state.heartbeatElapsed += 1
        var lostQuorum = false
        if electionElapsed >= config.electionTimeoutTicks {
            electionElapsed = 0
            if config.checkQuorum {
                lostQuorum = !quorumActive(state)
                for i in state.progress.indices { state.progress[i].recentActive = false }
            }
            // A transfer that has not finished within an election timeout is abandoned.
            state.transferTarget = nil
        }
        if state.heartbeatElapsed >= config.heartbeatIntervalTicks {
            state.heartbeatElapsed = 0
            broadcastHeartbeat(&state, context: state.reads.lastContext ?? [])
        }
        restoreLeaderState(state)
        if lostQuorum { becomeFollower(term: term, leader: nil) }
    }

    /// Check-quorum: did a quorum of voters (counting ourselves) answer in the last timeout?
    func quorumActive(_ state: LeaderState) -> Bool {
        let voters = configuration.voters
        var active = voters.contains(id) ? 1 : 0
        for progress in state.progress where progress.recentActive && voters.contains(progress.id) {
            active += 1
        }
        return active >= configuration.quorum
    }

    /// Starts an election: pre-vote first unless disabled or forced by a leader transfer.
    mutating func startCampaign(transfer: Bool) {
        guard isPromotable else { return }
        if case .leader = roleState { return }
        if config.preVote && !transfer {
            becomePreCandidate()
        } else {
            becomeCandidate(transfer: transfer)
        }
    }

    mutating func becomePreCandidate() {
        if case .leader = roleState { preconditionFailure("leader cannot become pre-candidate") }
        roleState = .preCandidate(VoteTally())
        leader = nil
        resetElectionTimer()
        // The pre-vote asks for the term we would campaign in, without moving to it (thesis §9.6),
        // so it depends on no persisted state.
        requestVotes(preVote: true, transfer: false)
    }

    mutating func becomeCandidate(transfer: Bool) {
        if case .leader = roleState { preconditionFailure("leader cannot become candidate") }
        term = term.next
        vote = id
        leader = nil
        roleState = .candidate(VoteTally(transfer: transfer))
        resetElectionTimer()
        requestVotes(preVote: false, transfer: transfer)
    }

    /// Sends (pre-)vote requests to the other voters and counts our own vote.
    private mutating func requestVotes(preVote: Bool, transfer: Bool) {
        let request = Message.VoteRequest(
            preVote: preVote, lastLogTerm: log.lastTerm, lastLogIndex: log.lastIndex, transfer: transfer)
        for voter in configuration.voters.sorted() where voter != id {
            // A real vote request follows our own persisted vote (I8); a pre-vote changes nothing.
            send(to: voter, .voteRequest(request), term: term.next(if: preVote), afterPersist: !preVote)
        }
        recordVote(from: id, granted: true, preVote: preVote)
    }

    mutating func becomeLeader() {
        guard case .candidate = roleState else { preconditionFailure("only a candidate becomes leader") }
        leader = id
        electionElapsed = 0
        let last = log.lastIndex
        let others = configuration.members.subtracting([id]).sorted()
        roleState = .leader(
            LeaderState(
                progress: others.map { Progress(id: $0, next: last.next, maxInflight: config.maxInflightMessages) },
                pendingConfigurationIndex: last, termStartIndex: last.next))
        guard var state = takeLeaderState() else { return }
        // The no-op of §8: committing it commits every older entry and lets reads proceed.
        appendAsLeader(&state, [Entry(term: term, index: log.lastIndex.next)])
        broadcastAppend(&state)
        restoreLeaderState(state)
    }

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        if newTerm > term {
            term = newTerm
            vote = nil
        }
        roleState = .follower
        leader = newLeader
        resetElectionTimer()
    }

    /// Counts a (pre-)vote answer and acts on the result.
    mutating func recordVote(from voter: NodeID, granted: Bool, preVote: Bool) {
        var tally: VoteTally
        switch roleState {
        case .preCandidate(let t) where preVote: tally = t
        case .candidate(let t) where !preVote: tally = t
        default: return
        }
        tally.record(voter, granted: granted)
        switch tally.result(in: configuration) {
        case .won:
            if preVote { becomeCandidate(transfer: false) } else { becomeLeader() }
        case .lost:
            becomeFollower(term: term, leader: nil)
        case .pending:
            roleState = preVote ? .preCandidate(tally) : .candidate(tally)
        }
    }

    /// Answers a (pre-)vote request whose term is ≥ ours (lower terms were handled by the caller).
    mutating func handleVoteRequest(from candidate: NodeID, term requestTerm: Term, _ request: Message.VoteRequest) {
        // One vote per term (I8): only if we have not voted, or voted for this very candidate.
        // A pre-vote for a later term promises nothing, so it may be granted freely.
        let canVote =
            vote == candidate || (vote == nil && leader == nil) || (request.preVote && requestTerm > term)
        let upToDate = log.isUpToDate(lastIndex: request.lastLogIndex, lastTerm: request.lastLogTerm)
        if canVote && upToDate {
            if request.preVote {
                send(to: candidate, .voteResponse(.init(preVote: true, granted: true)), term: requestTerm)
            } else {
                vote = candidate
                electionElapsed = 0
                send(to: candidate, .voteResponse(.init(preVote: false, granted: true)), afterPersist: true)
            }
        } else {
            send(to: candidate, .voteResponse(.init(preVote: request.preVote, granted: false)), afterPersist: !request.preVote)
        }
    }
}

extension Term {
    fileprivate func next(if condition: Bool) -> Term { condition ? next : self }
}
