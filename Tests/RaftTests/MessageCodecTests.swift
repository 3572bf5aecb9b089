import Raft
import Testing

/// A seeded generator for the codec fuzz tests (SplitMix64), so a failure replays exactly.
private struct CodecTestRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)
private let bigConfiguration = Configuration(voters: [n1, n2, NodeID(UInt64.max)], learners: [NodeID(300)])

/// One message of every payload case, with edge values (zero, UInt64.max, empty and large bytes).
private let everyPayload: [Message.Payload] = [
    .voteRequest(.init(preVote: true, lastLogTerm: Term(7), lastLogIndex: LogIndex(42), transfer: false)),
    .voteRequest(.init(preVote: false, lastLogTerm: Term(UInt64.max), lastLogIndex: LogIndex(UInt64.max), transfer: true)),
    .voteResponse(.init(preVote: true, granted: false)),
    .voteResponse(.init(preVote: false, granted: true)),
    .append(.init(prevLogIndex: .zero, prevLogTerm: .zero, entries: [], commit: .zero)),
    .append(.init(
        prevLogIndex: LogIndex(9), prevLogTerm: Term(3),
        entries: [
            Entry(term: Term(3), index: LogIndex(10)),
            Entry(term: Term(4), index: LogIndex(11), data: Array(repeating: 0xAB, count: 300)),
            Entry(term: Term(4), index: LogIndex(12), kind: .configurationChange,
                  data: ConfigurationChange.addLearner(n3).encoded),
        ],
        commit: LogIndex(11))),
    .append(.init(prevLogIndex: LogIndex(12), prevLogTerm: Term(4), entries: [], commit: LogIndex(12), quiet: true)),
    .appendResponse(.init(index: LogIndex(5), reject: false)),
    .appendResponse(.init(index: LogIndex(5), reject: true, hintIndex: LogIndex(3), hintTerm: Term(2))),
    .heartbeat(.init(commit: LogIndex(100), context: [])),
    .heartbeat(.init(commit: LogIndex(100), context: [1, 2, 3])),
    .heartbeatResponse(.init(context: [])),
    .heartbeatResponse(.init(context: Array(0...255))),
    .installSnapshot(Snapshot(
        metadata: SnapshotMetadata(index: LogIndex(1000), term: Term(9), configuration: bigConfiguration),
        data: Array(repeating: 7, count: 5000))),
    .installSnapshot(Snapshot(
        metadata: SnapshotMetadata(index: .zero, term: .zero, configuration: Configuration(voters: [])))),
    .timeoutNow,
    .readIndexRequest(context: [9, 9]),
    .readIndexRequest(context: []),
    .readIndexResponse(context: [0xFF], index: LogIndex(77)),
]

/// A message named by its payload case, so test output stays one line per case.
struct CodecSample: Sendable, CustomTestStringConvertible {
    var message: Message
    var testDescription: String { "\(message.payload)".prefix(60) + "…" }
}

private let everyMessage: [CodecSample] = everyPayload.enumerated().map { offset, payload in
    CodecSample(message: Message(
        from: n1, to: offset.isMultiple(of: 2) ? n2 : NodeID(UInt64.max), term: Term(UInt64(offset) * 1000), payload: payload))
}

@Suite("MessageCodec")
struct MessageCodecTests {
    @Test("every payload case round-trips", arguments: everyMessage)
    func roundTrip(_ sample: CodecSample) throws {
        let message = sample.message
        let bytes = MessageCodec.encode(message)
        #expect(bytes.first == MessageCodec.formatVersion)
        #expect(try MessageCodec.decode(bytes) == message)
        var batched: [UInt8] = [0xEE]
        MessageCodec.encode(message, into: &batched)
        #expect(Array(batched.dropFirst()) == bytes)
    }

    @Test("every strict prefix of a valid encoding is rejected", arguments: everyMessage)
    func truncations(_ sample: CodecSample) {
        let bytes = MessageCodec.encode(sample.message)
        for length in 0..<bytes.count {
            #expect(throws: MessageCodecError.self) { try MessageCodec.decode(Array(bytes[..<length])) }
        }
    }

    @Test("trailing bytes are rejected")
    func trailingBytes() {
        let bytes = MessageCodec.encode(Message(from: n1, to: n2, term: Term(1), payload: .timeoutNow))
        #expect(throws: MessageCodecError.trailingBytes(count: 1)) { try MessageCodec.decode(bytes + [0]) }
    }

    @Test("unknown version, payload tag, flag bits and node id 0 are typed errors")
    func invalidHeaderFields() {
        let valid = MessageCodec.encode(Message(from: n1, to: n2, term: Term(1), payload: .voteResponse(.init(preVote: false, granted: true))))
        #expect(valid == [1, 2, 1, 2, 1, 2])
        #expect(throws: MessageCodecError.empty) { try MessageCodec.decode([]) }
        #expect(throws: MessageCodecError.unsupportedVersion(2)) { try MessageCodec.decode([2] + valid.dropFirst()) }
        #expect(throws: MessageCodecError.invalidTag(field: "payload tag", value: 0)) { try MessageCodec.decode([1, 0, 1, 2, 1]) }
        #expect(throws: MessageCodecError.invalidTag(field: "payload tag", value: 12)) { try MessageCodec.decode([1, 12, 1, 2, 1]) }
        #expect(throws: MessageCodecError.invalidNodeID(field: "from")) { try MessageCodec.decode([1, 2, 0, 2, 1, 2]) }
        #expect(throws: MessageCodecError.invalidNodeID(field: "to")) { try MessageCodec.decode([1, 2, 1, 0, 1, 2]) }
        #expect(throws: MessageCodecError.invalidTag(field: "vote response flags", value: 4)) {
            try MessageCodec.decode([1, 2, 1, 2, 1, 4])
        }
    }

    @Test("non-shortest and overflowing varints are rejected")
    func invalidVarints() {
        // term 1 written as 0x81 0x00 (two bytes) is not canonical.
        #expect(throws: MessageCodecError.invalidVarint(field: "term", offset: 4)) {
            try MessageCodec.decode([1, 8, 1, 2, 0x81, 0x00])
        }
        // Eleven continuation bytes overflow 64 bits.
        #expect(throws: MessageCodecError.invalidVarint(field: "term", offset: 4)) {
            try MessageCodec.decode([1, 8, 1, 2] + Array(repeating: 0xFF, count: 10) + [0x01])
        }
        // UInt64.max is ten bytes ending in 0x01; 0x02 in the tenth byte overflows.
        let max = MessageCodec.encode(Message(from: n1, to: n2, term: Term(UInt64.max), payload: .timeoutNow))
        #expect(max == [1, 8, 1, 2] + Array(repeating: 0xFF, count: 9) + [0x01])
        #expect(throws: MessageCodecError.invalidVarint(field: "term", offset: 4)) {
            try MessageCodec.decode([1, 8, 1, 2] + Array(repeating: 0xFF, count: 9) + [0x02])
        }
    }

    @Test("claimed lengths and counts beyond the input are rejected before allocating")
    func hugeClaimedLengths() {
        let header: [UInt8] = [1, 6, 1, 2, 1]  // heartbeatResponse from n1 to n2, term 1
        let fourGiB: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x10]
        #expect(throws: MessageCodecError.lengthTooLarge(
            field: "heartbeat response context length", claimed: 1 << 32, remainingBytes: 3)) {
            try MessageCodec.decode(header + fourGiB + [1, 2, 3])
        }
        let maxLength = Array(repeating: UInt8(0xFF), count: 9) + [0x01]
        #expect(throws: MessageCodecError.self) { try MessageCodec.decode(header + maxLength) }
        // An append claiming 2^62 entries.
        let append: [UInt8] = [1, 3, 1, 2, 1, 0, 0, 0] + Array(repeating: 0xFF, count: 8) + [0x3F]
        #expect(throws: MessageCodecError.self) { try MessageCodec.decode(append) }
        // A configuration claiming more voters than bytes remain.
        let snapshot: [UInt8] = [1, 7, 1, 2, 1, 5, 1, 0xFF, 0x7F, 1]
        #expect(throws: MessageCodecError.lengthTooLarge(field: "voters", claimed: 16383, remainingBytes: 1)) {
            try MessageCodec.decode(snapshot)
        }
    }

    @Test("unsorted or duplicate configuration members are rejected")
    func unsortedSets() {
        // installSnapshot, index 5, term 1, voters [2, 1], learners [].
        #expect(throws: MessageCodecError.unsortedSet(field: "voters")) {
            try MessageCodec.decode([1, 7, 1, 2, 1, 5, 1, 2, 2, 1, 0, 0])
        }
        #expect(throws: MessageCodecError.unsortedSet(field: "learners")) {
            try MessageCodec.decode([1, 7, 1, 2, 1, 5, 1, 0, 2, 3, 3, 0])
        }
        #expect(throws: Never.self) { try MessageCodec.decode([1, 7, 1, 2, 1, 5, 1, 2, 1, 2, 0, 0]) }
    }

    @Test("seeded random messages round-trip", arguments: [UInt64(1), 2, 3, 0xDEAD_BEEF])
    func randomRoundTrips(seed: UInt64) throws {
        var rng = CodecTestRNG(state: seed)
        for _ in 0..<2_000 {
            let message = randomMessage(&rng)
            let bytes = MessageCodec.encode(message)
            #expect(try MessageCodec.decode(bytes) == message, "seed \(seed)")
        }
    }

    @Test("random bytes and single-byte mutations give errors or canonical messages, never a crash")
    func fuzz() {
        var rng = CodecTestRNG(state: 0x5EED)
        var accepted = 0, rejected = 0
        func check(_ bytes: [UInt8]) {
            do {
                let message = try MessageCodec.decode(bytes)
                // Strict decoding: whatever is accepted is the unique encoding of its message.
                #expect(MessageCodec.encode(message) == bytes)
                accepted += 1
            } catch {
                rejected += 1
            }
        }
        for _ in 0..<3_000 {
            let count = Int.random(in: 0..<64, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if !bytes.isEmpty && Bool.random(using: &rng) { bytes[0] = MessageCodec.formatVersion }
            check(bytes)
        }
        for _ in 0..<3_000 {
            var bytes = MessageCodec.encode(randomMessage(&rng))
            let position = Int.random(in: 0..<bytes.count, using: &rng)
            bytes[position] = UInt8.random(in: 0...255, using: &rng)
            check(bytes)
        }
        #expect(accepted + rejected == 6_000)
        #expect(accepted > 0 && rejected > 0, "mutations should produce both outcomes")
    }

    @Test("Entry, Configuration and ConfigurationChange round-trip on their own")
    func helpers() throws {
        for entry in [Entry(term: Term(1), index: LogIndex(1)),
                      Entry(term: Term(UInt64.max), index: LogIndex(UInt64.max), kind: .configurationChange, data: [1, 2])] {
            #expect(try EntryCodec.decode(EntryCodec.encode(entry)) == entry)
        }
        for change in [ConfigurationChange.addLearner(n1), .promote(NodeID(UInt64.max)), .remove(n3)] {
            #expect(try ConfigurationChange.decode(change.encoded) == change)
        }
        #expect(try Configuration.decode(bigConfiguration.encoded) == bigConfiguration)
        #expect(throws: MessageCodecError.invalidTag(field: "entry kind", value: 2)) {
            try EntryCodec.decode([1, 1, 1, 2, 0])
        }
        #expect(throws: MessageCodecError.invalidTag(field: "configuration change tag", value: 3)) {
            try ConfigurationChange.decode([1, 3, 1])
        }
        #expect(throws: MessageCodecError.invalidNodeID(field: "configuration change node")) {
            try ConfigurationChange.decode([1, 0, 0])
        }
        #expect(throws: MessageCodecError.unsupportedVersion(0)) { try Configuration.decode([0, 0, 0]) }
    }
}

// MARK: - Random messages

private func randomBytes(_ rng: inout CodecTestRNG, max: Int) -> [UInt8] {
    (0..<Int.random(in: 0...max, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

/// Small values most of the time (the common wire case), full 64-bit range sometimes.
private func randomUInt64(_ rng: inout CodecTestRNG) -> UInt64 {
    switch Int.random(in: 0..<4, using: &rng) {
    case 0: 0
    case 1: UInt64.random(in: 1...200, using: &rng)
    case 2: UInt64.random(in: 0...(1 << 40), using: &rng)
    default: rng.next()
    }
}

private func randomNode(_ rng: inout CodecTestRNG) -> NodeID { NodeID(max(1, randomUInt64(&rng))) }

private func randomConfiguration(_ rng: inout CodecTestRNG) -> Configuration {
    let voters = Set((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomNode(&rng) })
    let learners = Set((0..<Int.random(in: 0...3, using: &rng)).map { _ in randomNode(&rng) })
    return Configuration(voters: voters, learners: learners)
}

private func randomMessage(_ rng: inout CodecTestRNG) -> Message {
    let t = { (rng: inout CodecTestRNG) in Term(randomUInt64(&rng)) }
    let i = { (rng: inout CodecTestRNG) in LogIndex(randomUInt64(&rng)) }
    let payload: Message.Payload
    switch Int.random(in: 0..<10, using: &rng) {
    case 0: payload = .voteRequest(.init(preVote: .random(using: &rng), lastLogTerm: t(&rng), lastLogIndex: i(&rng),
                                        transfer: .random(using: &rng)))
    case 1: payload = .voteResponse(.init(preVote: .random(using: &rng), granted: .random(using: &rng)))
    case 2:
        let entries = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
            Entry(term: t(&rng), index: i(&rng), kind: .random(using: &rng) ? .normal : .configurationChange,
                  data: randomBytes(&rng, max: 40))
        }
        payload = .append(.init(prevLogIndex: i(&rng), prevLogTerm: t(&rng), entries: entries, commit: i(&rng)))
    case 3: payload = .appendResponse(.init(index: i(&rng), reject: .random(using: &rng), hintIndex: i(&rng), hintTerm: t(&rng)))
    case 4: payload = .heartbeat(.init(commit: i(&rng), context: randomBytes(&rng, max: 16)))
    case 5: payload = .heartbeatResponse(.init(context: randomBytes(&rng, max: 16)))
    case 6:
        let metadata = SnapshotMetadata(index: i(&rng), term: t(&rng), configuration: randomConfiguration(&rng))
        payload = .installSnapshot(Snapshot(metadata: metadata, data: randomBytes(&rng, max: 64)))
    case 7: payload = .timeoutNow
    case 8: payload = .readIndexRequest(context: randomBytes(&rng, max: 16))
    default: payload = .readIndexResponse(context: randomBytes(&rng, max: 16), index: i(&rng))
    }
    return Message(from: randomNode(&rng), to: randomNode(&rng), term: t(&rng), payload: payload)
}
