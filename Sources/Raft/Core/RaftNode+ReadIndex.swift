// Linearizable reads through ReadIndex (Raft thesis §6.4; etcd `read_only.go`).
// 1. The leader records its commit index (only once it has committed an entry of its term);
// 2. it confirms it still leads with a heartbeat round carrying the read's context;
// 3. once a quorum answered, the read may be served when the host has applied up to the index.

extension RaftNode {
    mutating func requestRead(context: [UInt8]) throws(ProposalError) {
        switch roleState {
        case .leader:
            serveRead(context: context, from: id)
        case .follower:
            guard let leader else { throw .notLeader(leader: nil) }
            send(to: leader, .readIndexRequest(context: context))
        case .preCandidate, .candidate, .moved:
            throw .notLeader(leader: nil)
        }
    }

    /// Leader: starts the ReadIndex protocol for a read from us or a follower.
    mutating func serveRead(context: [UInt8], from requester: NodeID) {
        guard var state = takeLeaderState() else { return }
        defer { restoreLeaderState(state) }
        startRead(&state, context: context, from: requester)
    }

    private mutating func startRead(_ state: inout LeaderState, context: [UInt8], from requester: NodeID) {
        // Until an entry of our term commits we may not know the latest commit index (§6.4 step 1).
        guard log.term(at: log.committed) == term else {
            state.deferredReads.append((context, requester))
            return
        }
        if configuration.voters == [id] {
            answerRead(context: context, index: log.committed, to: requester)
            return
        }
        guard !state.reads.contains(context) else { return }
        let acks: Set<NodeID> = configuration.voters.contains(id) ? [id] : []
        state.reads.add(.init(context: context, index: log.committed, from: requester, acks: acks))
        broadcastHeartbeat(&state, context: context)
    }

    /// Called when the first entry of our term commits.
    mutating func serveDeferredReads(_ state: inout LeaderState) {
        let deferred = state.deferredReads
        state.deferredReads = []
        for read in deferred { startRead(&state, context: read.context, from: read.from) }
    }

    /// A heartbeat answer echoing `context`: once a quorum confirmed, serve it and older reads.
    mutating func confirmRead(_ state: inout LeaderState, context: [UInt8], from peer: NodeID) {
        guard let acks = state.reads.acknowledge(context, from: peer) else { return }
        let voters = configuration.voters
        guard acks.filter({ voters.contains($0) }).count >= configuration.quorum else { return }
        for read in state.reads.advance(through: context) {
            answerRead(context: read.context, index: read.index, to: read.from)
        }
    }

    private mutating func answerRead(context: [UInt8], index: LogIndex, to requester: NodeID) {
        if requester == id {
            readStates.append(ReadState(index: index, context: context))
        } else {
            send(to: requester, .readIndexResponse(context: context, index: index))
        }
    }
}
