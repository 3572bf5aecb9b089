// Errors of the binary codec. Peer bytes are untrusted: every problem is one of these values,
// never a trap, and never an allocation sized by a claimed length the input cannot back.

/// Why a byte string is not a valid encoding.
public enum MessageCodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input is empty: not even a version byte.
    case empty
    /// The first byte names a format version this build does not know.
    case unsupportedVersion(UInt8)
    /// The input ends inside `field`.
    case truncated(field: String, offset: Int)
    /// A length or count claims more than the remaining bytes can hold.
    case lengthTooLarge(field: String, claimed: UInt64, remainingBytes: Int)
    /// A varint is longer than 10 bytes, overflows 64 bits, or is not in its shortest form.
    case invalidVarint(field: String, offset: Int)
    /// An enum tag, flag byte or boolean has a value outside its defined set.
    case invalidTag(field: String, value: UInt64)
    /// A node id of 0 where a real node is required (0 means "none").
    case invalidNodeID(field: String)
    /// A set is not in strictly ascending order (duplicates or unsorted), so not canonical.
    case unsortedSet(field: String)
    /// Bytes remain after a complete value.
    case trailingBytes(count: Int)

    public var description: String {
        switch self {
        case .empty: "empty input"
        case .unsupportedVersion(let v): "unsupported codec format version \(v)"
        case .truncated(let field, let offset): "input ends inside \(field) at offset \(offset)"
        case .lengthTooLarge(let field, let claimed, let remaining):
            "\(field) claims \(claimed) but only \(remaining) bytes remain"
        case .invalidVarint(let field, let offset): "invalid varint for \(field) at offset \(offset)"
        case .invalidTag(let field, let value): "invalid value \(value) for \(field)"
        case .invalidNodeID(let field): "node id 0 in \(field)"
        case .unsortedSet(let field): "\(field) is not strictly ascending"
        case .trailingBytes(let count): "\(count) trailing bytes after a complete value"
        }
    }
}
