// Leader-side ReadIndex bookkeeping (Raft thesis §6.4; etcd `read_only.go`). Each request
// remembers the commit index at the time it arrived; once a quorum has answered a heartbeat
// carrying its context, that request and every older one are safe to serve.

struct ReadIndexQueue: Sendable {
    struct Request: Sendable {
        var context: [UInt8]
        /// The leader's commit index when the request arrived.
        var index: LogIndex
        /// Who asked: the leader itself, or a follower that forwarded the read.
        var from: NodeID
        var acks: Set<NodeID>
    }

    /// Oldest first. Bounded by the host: one entry per outstanding client read.
    private(set) var requests: [Request] = []

    var isEmpty: Bool { requests.isEmpty }
    var lastContext: [UInt8]? { requests.last?.context }

    func contains(_ context: [UInt8]) -> Bool { requests.contains { $0.context == context } }

    mutating func add(_ request: Request) { requests.append(request) }

    /// Records `peer`'s heartbeat answer for `context`; returns the acks so far, or nil when no
    /// such request is pending.
    mutating func acknowledge(_ context: [UInt8], from peer: NodeID) -> Set<NodeID>? {
        guard let i = requests.firstIndex(where: { $0.context == context }) else { return nil }
        requests[i].acks.insert(peer)
        return requests[i].acks
    }

    /// Removes and returns the request for `context` and all older ones (a quorum that confirms
    /// a later heartbeat also confirms leadership for the earlier reads).
    mutating func advance(through context: [UInt8]) -> [Request] {
        guard let i = requests.firstIndex(where: { $0.context == context }) else { return [] }
        let done = Array(requests[...i])
        requests.removeFirst(i + 1)
        return done
    }

    mutating func removeAll() { requests.removeAll() }
}
