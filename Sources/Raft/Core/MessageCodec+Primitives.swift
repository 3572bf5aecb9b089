// Byte-level building blocks of the codec: unsigned LEB128 varints, length-prefixed byte
// strings, and a bounds-checked reader. Canonical forms only (shortest varint, 0/1 booleans),
// so each value has exactly one encoding and `encode(decode(b)) == b` for every accepted `b`.

extension Array where Element == UInt8 {
    /// Appends `value` as an unsigned LEB128 varint (1–10 bytes).
    mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    /// Appends a varint length followed by the bytes.
    mutating func appendLengthPrefixed(_ bytes: [UInt8]) {
        appendVarint(UInt64(bytes.count))
        append(contentsOf: bytes)
    }

    mutating func appendNodeID(_ id: NodeID) {
        precondition(id.rawValue != 0, "NodeID 0 is reserved for 'none' and cannot be encoded as a node")
        appendVarint(id.rawValue)
    }
}

/// Reads values from untrusted bytes; every read checks the remaining length first.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func byte(_ field: String) throws(MessageCodecError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(field: field, offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads a canonical unsigned LEB128 varint.
    mutating func varint(_ field: String) throws(MessageCodecError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte(field)
            let low = UInt64(b & 0x7f)
            // The tenth byte may only carry the top bit of a UInt64.
            if shift == 63 && low > 1 { throw .invalidVarint(field: field, offset: start) }
            result |= low << shift
            if b & 0x80 == 0 {
                // A zero final byte after the first means a longer-than-needed encoding.
                if b == 0 && shift > 0 { throw .invalidVarint(field: field, offset: start) }
                return result
            }
            shift += 7
            if shift > 63 { throw .invalidVarint(field: field, offset: start) }
        }
    }

    mutating func bool(_ field: String) throws(MessageCodecError) -> Bool {
        switch try byte(field) {
        case 0: return false
        case 1: return true
        case let other: throw .invalidTag(field: field, value: UInt64(other))
        }
    }

    mutating func readTerm(_ field: String) throws(MessageCodecError) -> Term { Term(try varint(field)) }

    mutating func readIndex(_ field: String) throws(MessageCodecError) -> LogIndex { LogIndex(try varint(field)) }

    /// A node id that must name a real node (not 0).
    mutating func nodeID(_ field: String) throws(MessageCodecError) -> NodeID {
        let raw = try varint(field)
        guard raw != 0 else { throw .invalidNodeID(field: field) }
        return NodeID(raw)
    }

    /// A count of elements that each take at least `minimumElementBytes`; checked against the
    /// remaining input before anyone reserves memory for it.
    mutating func count(_ field: String, minimumElementBytes: Int) throws(MessageCodecError) -> Int {
        precondition(minimumElementBytes > 0)
        let claimed = try varint(field)
        guard claimed <= UInt64(remaining / minimumElementBytes) else {
            throw .lengthTooLarge(field: field, claimed: claimed, remainingBytes: remaining)
        }
        return Int(claimed)
    }

    /// A varint length followed by that many bytes.
    mutating func lengthPrefixed(_ field: String) throws(MessageCodecError) -> [UInt8] {
        let length = try count(field, minimumElementBytes: 1)
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    /// Throws unless every byte has been consumed.
    func expectEnd() throws(MessageCodecError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}
