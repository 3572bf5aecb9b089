// Compact, versioned binary encoding of Raft messages for the peer transport. Pure: no
// Foundation, no NIO; bytes in, bytes out.
//
// Layout (format version 1; integers are unsigned LEB128 varints unless noted):
//   version:u8  tag:u8  from  to  term  payload
// Payloads by tag:
//   1 voteRequest       flags:u8 (bit0 preVote, bit1 transfer)  lastLogTerm  lastLogIndex
//   2 voteResponse      flags:u8 (bit0 preVote, bit1 granted)
//   3 append            prevLogIndex  prevLogTerm  commit  count  entry*
//                       entry = index  term  kind:u8  length  data
//   4 appendResponse    flags:u8 (bit0 reject)  index  hintIndex  hintTerm
//   5 heartbeat         commit  length context
//   6 heartbeatResponse length context
//   7 installSnapshot   index  term  voters  learners  length data
//                       voters/learners = count  node ids strictly ascending
//   8 timeoutNow        (nothing)
//   9 readIndexRequest  length context
//  10 readIndexResponse index  length context
//  11 commitNotice      prevLogIndex  prevLogTerm  commit        (an append with quiet set, no entries)
// Decoding is strict: unknown version, tag or flag bits, node id 0, non-shortest varints,
// unsorted sets, lengths beyond the input and trailing bytes are all errors, so every accepted
// byte string is the unique encoding of its message.

public enum MessageCodec {
    /// The first byte of every encoding this build writes and the only one it reads.
    public static let formatVersion: UInt8 = 1

    public static func encode(_ m: Message) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(estimatedSize(m))
        encode(m, into: &out)
        return out
    }

    /// Appends the encoding of `m` to `out` (for batching several messages into one buffer;
    /// the caller frames them). Precondition: every node id in `m` is non-zero (0 is "none").
    public static func encode(_ m: Message, into out: inout [UInt8]) {
        out.append(formatVersion)
        out.append(tag(of: m.payload).rawValue)
        out.appendNodeID(m.from)
        out.appendNodeID(m.to)
        out.appendVarint(m.term.rawValue)
        encodePayload(m.payload, into: &out)
    }

    public static func decode(_ bytes: [UInt8]) throws(MessageCodecError) -> Message {
        var reader = try ByteReader(versioned: bytes)
        let rawTag = try reader.byte("payload tag")
        guard let tag = PayloadTag(rawValue: rawTag) else {
            throw .invalidTag(field: "payload tag", value: UInt64(rawTag))
        }
        let from = try reader.nodeID("from")
        let to = try reader.nodeID("to")
        let term = try reader.readTerm("term")
        let payload = try reader.payload(tag)
        try reader.expectEnd()
        return Message(from: from, to: to, term: term, payload: payload)
    }

    /// A cheap upper-ish bound so `encode` usually allocates once.
    static func estimatedSize(_ m: Message) -> Int {
        let header = 32
        switch m.payload {
        case .append(let a): return header + 32 + a.entries.reduce(0) { $0 + $1.data.count + 24 }
        case .installSnapshot(let s):
            return header + 32 + s.data.count + 10 * s.metadata.configuration.members.count
        case .heartbeat(let h): return header + 12 + h.context.count
        case .heartbeatResponse(let h): return header + h.context.count
        case .readIndexRequest(let context): return header + context.count
        case .readIndexResponse(let context, _): return header + 12 + context.count
        default: return header + 24
        }
    }
}

/// The wire tag of each payload case. Never renumber: old peers and stored bytes use these.
enum PayloadTag: UInt8 {
    case voteRequest = 1
    case voteResponse = 2
    case append = 3
    case appendResponse = 4
    case heartbeat = 5
    case heartbeatResponse = 6
    case installSnapshot = 7
    case timeoutNow = 8
    case readIndexRequest = 9
    case readIndexResponse = 10
    case commitNotice = 11
}
