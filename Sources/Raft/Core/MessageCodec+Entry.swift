// Encodings of log entries, configurations and membership changes. Inside a message they carry
// no version byte of their own (the message's first byte covers them); the standalone public
// forms start with `MessageCodec.formatVersion`, because they are stored durably (log entries,
// snapshot rows) and must stay readable after the format changes.

/// Standalone encoding of one `Entry`: version, index, term, kind, length-prefixed data.
public enum EntryCodec {
    public static func encode(_ entry: Entry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entry.data.count + 24)
        encode(entry, into: &out)
        return out
    }

    public static func encode(_ entry: Entry, into out: inout [UInt8]) {
        out.append(MessageCodec.formatVersion)
        out.appendEntry(entry)
    }

    public static func decode(_ bytes: [UInt8]) throws(MessageCodecError) -> Entry {
        var reader = try ByteReader(versioned: bytes)
        let entry = try reader.entry()
        try reader.expectEnd()
        return entry
    }
}

extension ConfigurationChange {
    /// Version byte, tag (0 addLearner, 1 promote, 2 remove), node id.
    public var encoded: [UInt8] {
        var out: [UInt8] = [MessageCodec.formatVersion]
        switch self {
        case .addLearner(let id): out.append(0); out.appendNodeID(id)
        case .promote(let id): out.append(1); out.appendNodeID(id)
        case .remove(let id): out.append(2); out.appendNodeID(id)
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(MessageCodecError) -> ConfigurationChange {
        var reader = try ByteReader(versioned: bytes)
        let tag = try reader.byte("configuration change tag")
        let id = try reader.nodeID("configuration change node")
        try reader.expectEnd()
        switch tag {
        case 0: return .addLearner(id)
        case 1: return .promote(id)
        case 2: return .remove(id)
        default: throw .invalidTag(field: "configuration change tag", value: UInt64(tag))
        }
    }
}

extension Configuration {
    /// Version byte, then voters and learners, each a count and strictly ascending node ids.
    public var encoded: [UInt8] {
        var out: [UInt8] = [MessageCodec.formatVersion]
        out.appendConfiguration(self)
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(MessageCodecError) -> Configuration {
        var reader = try ByteReader(versioned: bytes)
        let configuration = try reader.configuration()
        try reader.expectEnd()
        return configuration
    }
}

extension Array where Element == UInt8 {
    mutating func appendEntry(_ entry: Entry) {
        appendVarint(entry.index.rawValue)
        appendVarint(entry.term.rawValue)
        append(entry.kind.rawValue)
        appendLengthPrefixed(entry.data)
    }

    /// Sets are written sorted so that equal configurations have equal bytes.
    mutating func appendNodeSet(_ set: Set<NodeID>) {
        appendVarint(UInt64(set.count))
        for id in set.sorted() { appendNodeID(id) }
    }

    mutating func appendConfiguration(_ configuration: Configuration) {
        appendNodeSet(configuration.voters)
        appendNodeSet(configuration.learners)
    }

    mutating func appendSnapshotMetadata(_ metadata: SnapshotMetadata) {
        appendVarint(metadata.index.rawValue)
        appendVarint(metadata.term.rawValue)
        appendConfiguration(metadata.configuration)
    }
}

extension ByteReader {
    /// A reader positioned after a checked version byte.
    init(versioned bytes: [UInt8]) throws(MessageCodecError) {
        guard let version = bytes.first else { throw .empty }
        guard version == MessageCodec.formatVersion else { throw .unsupportedVersion(version) }
        self.init(bytes, offset: 1)
    }

    /// The smallest encoded entry: one byte each for index, term, kind and data length.
    static let entryBytesMin = 4

    mutating func entry() throws(MessageCodecError) -> Entry {
        let index = try readIndex("entry index")
        let term = try readTerm("entry term")
        let rawKind = try byte("entry kind")
        guard let kind = EntryKind(rawValue: rawKind) else {
            throw .invalidTag(field: "entry kind", value: UInt64(rawKind))
        }
        let data = try lengthPrefixed("entry data length")
        return Entry(term: term, index: index, kind: kind, data: data)
    }

    mutating func nodeSet(_ field: String) throws(MessageCodecError) -> Set<NodeID> {
        let count = try count(field, minimumElementBytes: 1)
        var set = Set<NodeID>(minimumCapacity: count)
        var previous: UInt64 = 0
        for _ in 0..<count {
            let id = try nodeID(field)
            guard id.rawValue > previous else { throw .unsortedSet(field: field) }
            previous = id.rawValue
            set.insert(id)
        }
        return set
    }

    mutating func configuration() throws(MessageCodecError) -> Configuration {
        let voters = try nodeSet("voters")
        let learners = try nodeSet("learners")
        return Configuration(voters: voters, learners: learners)
    }

    mutating func snapshotMetadata() throws(MessageCodecError) -> SnapshotMetadata {
        let index = try readIndex("snapshot index")
        let term = try readTerm("snapshot term")
        let configuration = try configuration()
        return SnapshotMetadata(index: index, term: term, configuration: configuration)
    }
}
