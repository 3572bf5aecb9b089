// Encoding and decoding of each `Message.Payload` case (layout in MessageCodec.swift).

extension MessageCodec {
    static func tag(of payload: Message.Payload) -> PayloadTag {
        switch payload {
        case .voteRequest: .voteRequest
        case .voteResponse: .voteResponse
        case .append(let a): a.quiet ? .commitNotice : .append
        case .appendResponse: .appendResponse
        case .heartbeat: .heartbeat
        case .heartbeatResponse: .heartbeatResponse
        case .installSnapshot: .installSnapshot
        case .timeoutNow: .timeoutNow
        case .readIndexRequest: .readIndexRequest
        case .readIndexResponse: .readIndexResponse
        }
    }

    static func encodePayload(_ payload: Message.Payload, into out: inout [UInt8]) {
        switch payload {
        case .voteRequest(let r):
            out.append(flags(r.preVote, r.transfer))
            out.appendVarint(r.lastLogTerm.rawValue)
            out.appendVarint(r.lastLogIndex.rawValue)
        case .voteResponse(let r):
            out.append(flags(r.preVote, r.granted))
        case .append(let a):
            out.appendVarint(a.prevLogIndex.rawValue)
            out.appendVarint(a.prevLogTerm.rawValue)
            out.appendVarint(a.commit.rawValue)
            if a.quiet {
                precondition(a.entries.isEmpty, "a quiet append (commit notice) carries no entries")
                break
            }
            out.appendVarint(UInt64(a.entries.count))
            for entry in a.entries { out.appendEntry(entry) }
        case .appendResponse(let r):
            out.append(flags(r.reject, false))
            out.appendVarint(r.index.rawValue)
            out.appendVarint(r.hintIndex.rawValue)
            out.appendVarint(r.hintTerm.rawValue)
        case .heartbeat(let h):
            out.appendVarint(h.commit.rawValue)
            out.appendLengthPrefixed(h.context)
        case .heartbeatResponse(let h):
            out.appendLengthPrefixed(h.context)
        case .installSnapshot(let s):
            out.appendSnapshotMetadata(s.metadata)
            out.appendLengthPrefixed(s.data)
        case .timeoutNow:
            break
        case .readIndexRequest(let context):
            out.appendLengthPrefixed(context)
        case .readIndexResponse(let context, let index):
            out.appendVarint(index.rawValue)
            out.appendLengthPrefixed(context)
        }
    }

    private static func flags(_ bit0: Bool, _ bit1: Bool) -> UInt8 {
        (bit0 ? 1 : 0) | (bit1 ? 2 : 0)
    }
}

extension ByteReader {
    /// A flag byte whose bits above `bitCount` must be zero; returns bits 0 and 1.
    mutating func flags(_ field: String, bitCount: Int) throws(MessageCodecError) -> (Bool, Bool) {
        let b = try byte(field)
        guard b >> bitCount == 0 else { throw .invalidTag(field: field, value: UInt64(b)) }
        return (b & 1 != 0, b & 2 != 0)
    }

    mutating func payload(_ tag: PayloadTag) throws(MessageCodecError) -> Message.Payload {
        switch tag {
        case .voteRequest:
            let (preVote, transfer) = try flags("vote request flags", bitCount: 2)
            let lastLogTerm = try readTerm("last log term")
            let lastLogIndex = try readIndex("last log index")
            return .voteRequest(.init(
                preVote: preVote, lastLogTerm: lastLogTerm, lastLogIndex: lastLogIndex, transfer: transfer))
        case .voteResponse:
            let (preVote, granted) = try flags("vote response flags", bitCount: 2)
            return .voteResponse(.init(preVote: preVote, granted: granted))
        case .append:
            return .append(try append())
        case .commitNotice:
            let prevLogIndex = try readIndex("prev log index")
            let prevLogTerm = try readTerm("prev log term")
            let commit = try readIndex("append commit")
            return .append(.init(prevLogIndex: prevLogIndex, prevLogTerm: prevLogTerm, entries: [], commit: commit, quiet: true))
        case .appendResponse:
            let (reject, _) = try flags("append response flags", bitCount: 1)
            let index = try readIndex("append response index")
            let hintIndex = try readIndex("hint index")
            let hintTerm = try readTerm("hint term")
            return .appendResponse(.init(index: index, reject: reject, hintIndex: hintIndex, hintTerm: hintTerm))
        case .heartbeat:
            let commit = try readIndex("heartbeat commit")
            return .heartbeat(.init(commit: commit, context: try lengthPrefixed("heartbeat context length")))
        case .heartbeatResponse:
            return .heartbeatResponse(.init(context: try lengthPrefixed("heartbeat response context length")))
        case .installSnapshot:
            let metadata = try snapshotMetadata()
            let data = try lengthPrefixed("snapshot data length")
            return .installSnapshot(Snapshot(metadata: metadata, data: data))
        case .timeoutNow:
            return .timeoutNow
        case .readIndexRequest:
            return .readIndexRequest(context: try lengthPrefixed("read index context length"))
        case .readIndexResponse:
            let index = try readIndex("read index")
            return .readIndexResponse(context: try lengthPrefixed("read index context length"), index: index)
        }
    }

    private mutating func append() throws(MessageCodecError) -> Message.Append {
        let prevLogIndex = try readIndex("prev log index")
        let prevLogTerm = try readTerm("prev log term")
        let commit = try readIndex("append commit")
        let count = try count("entry count", minimumElementBytes: Self.entryBytesMin)
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count { entries.append(try entry()) }
        return .init(prevLogIndex: prevLogIndex, prevLogTerm: prevLogTerm, entries: entries, commit: commit)
    }
}
