// Messages between Raft nodes. Frozen contract (see Types.swift).

public struct Message: Sendable, Hashable {
    public var from: NodeID
    public var to: NodeID
    /// The sender's term (pre-vote requests carry the term the sender would campaign in).
    public var term: Term
    public var payload: Payload

    public init(from: NodeID, to: NodeID, term: Term, payload: Payload) {
        self.from = from
        self.to = to
        self.term = term
        self.payload = payload
    }

    public enum Payload: Sendable, Hashable {
        /// Pre-vote (§9.6 of the Raft thesis) or vote request; carries the candidate's last log position.
        case voteRequest(VoteRequest)
        case voteResponse(VoteResponse)
        /// AppendEntries. `commit` is the leader's commit index (capped by the receiver).
        case append(Append)
        case appendResponse(AppendResponse)
        /// Leader heartbeat; `context` echoes read-index requests being confirmed.
        case heartbeat(Heartbeat)
        case heartbeatResponse(HeartbeatResponse)
        /// InstallSnapshot: the leader tells a follower to take a snapshot.
        case installSnapshot(Snapshot)
        /// Sent by the leader to the transfer target: campaign now, ignoring the election timer.
        case timeoutNow
        /// Follower → leader: please serve a ReadIndex read for `context`.
        case readIndexRequest(context: [UInt8])
        /// Leader → follower: the read index for `context`.
        case readIndexResponse(context: [UInt8], index: LogIndex)
    }

    public struct VoteRequest: Sendable, Hashable {
        public var preVote: Bool
        public var lastLogTerm: Term
        public var lastLogIndex: LogIndex
        /// True when campaigning because of a leadership transfer (bypasses the leader lease).
        public var transfer: Bool
        public init(preVote: Bool, lastLogTerm: Term, lastLogIndex: LogIndex, transfer: Bool = false) {
            self.preVote = preVote
            self.lastLogTerm = lastLogTerm
            self.lastLogIndex = lastLogIndex
            self.transfer = transfer
        }
    }

    public struct VoteResponse: Sendable, Hashable {
        public var preVote: Bool
        public var granted: Bool
        public init(preVote: Bool, granted: Bool) {
            self.preVote = preVote
            self.granted = granted
        }
    }

    public struct Append: Sendable, Hashable {
        public var prevLogIndex: LogIndex
        public var prevLogTerm: Term
        public var entries: [Entry]
        public var commit: LogIndex
        /// A commit notice: an append without entries that the follower answers only with a
        /// rejection. The leader sends one when its commit index moves and the follower's
        /// progress is known (replicate state); an answer would tell it nothing new. Never set
        /// together with entries.
        public var quiet: Bool
        public init(prevLogIndex: LogIndex, prevLogTerm: Term, entries: [Entry], commit: LogIndex, quiet: Bool = false) {
            self.prevLogIndex = prevLogIndex
            self.prevLogTerm = prevLogTerm
            self.entries = entries
            self.commit = commit
            self.quiet = quiet
        }
    }

    public struct AppendResponse: Sendable, Hashable {
        /// On success: the last index now matching the leader. On reject: the rejected prevLogIndex.
        public var index: LogIndex
        public var reject: Bool
        /// On reject, fast back-off hints: the follower's guess of a matching position
        /// (its last index, or the first index of the conflicting term).
        public var hintIndex: LogIndex
        public var hintTerm: Term
        public init(index: LogIndex, reject: Bool, hintIndex: LogIndex = .zero, hintTerm: Term = .zero) {
            self.index = index
            self.reject = reject
            self.hintIndex = hintIndex
            self.hintTerm = hintTerm
        }
    }

    public struct Heartbeat: Sendable, Hashable {
        public var commit: LogIndex
        public var context: [UInt8]
        public init(commit: LogIndex, context: [UInt8] = []) {
            self.commit = commit
            self.context = context
        }
    }

    public struct HeartbeatResponse: Sendable, Hashable {
        public var context: [UInt8]
        public init(context: [UInt8] = []) { self.context = context }
    }
}
