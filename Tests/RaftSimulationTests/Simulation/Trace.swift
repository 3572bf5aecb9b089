import Raft

/// One thing that happened in a run. Kept as data (cheap to record) and only rendered to text
/// when a run fails.
enum TraceEvent {
    case tick
    case send(Message, afterPersist: Bool)
    case deliver(Message)
    case drop(Message, reason: StaticString)
    case duplicate(Message)
    case batch(NodeID, number: UInt64, entries: Int, committed: Int, hardState: HardState?, snapshot: LogIndex?)
    case status(NodeID, RaftStatus)
    case crash(NodeID, reason: String)
    case restart(NodeID)
    case fault(String)
    case client(NodeID, String)
    case snapshot(NodeID, LogIndex)
}

/// The last `capacity` events with the step and tick they happened at.
struct TraceRing {
    private var buffer: [(step: Int, tick: Int, event: TraceEvent)] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int = 60) { self.capacity = capacity }

    mutating func record(step: Int, tick: Int, _ event: TraceEvent) {
        if buffer.count < capacity {
            buffer.append((step, tick, event))
        } else {
            buffer[next] = (step, tick, event)
        }
        next = (next + 1) % capacity
    }

    /// Oldest first.
    var lines: [String] {
        let ordered = buffer.count < capacity ? buffer : Array(buffer[next...] + buffer[..<next])
        return ordered.map { "  #\($0.step) @\($0.tick) \(Self.describe($0.event))" }
    }

    static func describe(_ event: TraceEvent) -> String {
        switch event {
        case .tick: "tick"
        case .send(let m, let afterPersist): "send\(afterPersist ? " (after persist)" : "") \(describe(m))"
        case .deliver(let m): "deliver \(describe(m))"
        case .drop(let m, let reason): "drop (\(reason)) \(describe(m))"
        case .duplicate(let m): "duplicate \(describe(m))"
        case .batch(let n, let number, let entries, let committed, let hs, let snapshot):
            "\(n) batch #\(number): \(entries) entries, \(committed) committed"
                + (snapshot.map { ", snapshot \($0)" } ?? "")
                + (hs.map { ", hard \($0.term) vote \($0.vote?.description ?? "-") commit \($0.commit)" } ?? "")
        case .status(let n, let s):
            "\(n) is \(s.role) \(s.term) leader \(s.leader?.description ?? "-") commit \(s.commit) last \(s.lastIndex)"
        case .crash(let n, let reason): "\(n) CRASH (\(reason))"
        case .restart(let n): "\(n) restart"
        case .fault(let what): "fault: \(what)"
        case .client(let n, let what): "client → \(n): \(what)"
        case .snapshot(let n, let index): "\(n) snapshot at \(index)"
        }
    }

    static func describe(_ m: Message) -> String {
        let head = "\(m.from)→\(m.to) \(m.term) "
        switch m.payload {
        case .voteRequest(let v):
            return head + "\(v.preVote ? "preVote" : "vote")Req(last \(v.lastLogIndex)/\(v.lastLogTerm)\(v.transfer ? ", transfer" : ""))"
        case .voteResponse(let v):
            return head + "\(v.preVote ? "preVote" : "vote")Resp(\(v.granted ? "granted" : "rejected"))"
        case .append(let a):
            let range = a.entries.isEmpty ? "none" : "\(a.entries[0].index)…\(a.entries[a.entries.count - 1].index)"
            return head + "append(prev \(a.prevLogIndex)/\(a.prevLogTerm), entries \(range), commit \(a.commit)\(a.quiet ? ", quiet" : ""))"
        case .appendResponse(let r):
            return head + "appendResp(\(r.reject ? "reject" : "ok") \(r.index), hint \(r.hintIndex)/\(r.hintTerm))"
        case .heartbeat(let h): return head + "heartbeat(commit \(h.commit), ctx \(h.context.count)B)"
        case .heartbeatResponse(let h): return head + "heartbeatResp(ctx \(h.context.count)B)"
        case .installSnapshot(let s): return head + "installSnapshot(\(s.metadata.index)/\(s.metadata.term))"
        case .timeoutNow: return head + "timeoutNow"
        case .readIndexRequest(let c): return head + "readIndexReq(\(String(decoding: c, as: UTF8.self)))"
        case .readIndexResponse(let c, let i): return head + "readIndexResp(\(String(decoding: c, as: UTF8.self)) at \(i))"
        }
    }
}
