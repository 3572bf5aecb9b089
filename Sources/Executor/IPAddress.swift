/// An IP address as the allow-list compares it. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, in any
/// spelling) is normalised to IPv4, so `::ffff:127.0.0.1` is loopback like `127.0.0.1`.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// 128 bits, big-endian halves.
    case v6(high: UInt64, low: UInt64)

    /// Builds an address from 16 bytes, unmapping IPv4-mapped ones.
    public static func fromIPv6(high: UInt64, low: UInt64) -> IPAddress {
        if high == 0, low >> 32 == 0xFFFF { return .v4(UInt32(truncatingIfNeeded: low)) }
        return .v6(high: high, low: low)
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
        case .v6(let high, let low):
            let groups = [high, low].flatMap { half in [48, 32, 16, 0].map { String((half >> UInt64($0)) & 0xFFFF, radix: 16) } }
            return groups.joined(separator: ":")
        }
    }
}

extension IPAddress {
    /// Parses a URL host that is an address literal: IPv4 in every form `inet_aton` and the
    /// WHATWG URL standard accept (`127.0.0.1`, `2130706433`, `0x7f000001`, `017700000001`,
    /// `127.1`, `0x7f.1`, one trailing dot), or a bracketed IPv6 literal. Returns nil for a
    /// host name; throws when the host looks numeric but is not a valid address (a URL
    /// parser would refuse it, and a resolver might read it in some other way).
    public static func parseHostLiteral(_ host: String) throws(OutboundRejection) -> IPAddress? {
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), let address = parseIPv6(String(host.dropFirst().dropLast())) else {
                throw .malformedURL("bad IPv6 literal")
            }
            return address
        }
        var parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        // WHATWG "ends in a number": only then is the host an IPv4 address.
        guard let last = parts.last, !last.isEmpty, looksNumeric(last) else { return nil }
        guard (1...4).contains(parts.count) else { throw .malformedURL("bad IPv4 literal") }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = parseIPv4Part(part) else { throw .malformedURL("bad IPv4 literal") }
            numbers.append(number)
        }
        var value: UInt64 = 0
        for number in numbers.dropLast() {
            guard number <= 255 else { throw .malformedURL("bad IPv4 literal") }
            value = value << 8 | number
        }
        let lastBits = UInt64(8 * (5 - numbers.count))
        guard let tail = numbers.last, tail < (1 << lastBits) else { throw .malformedURL("bad IPv4 literal") }
        value = value << lastBits | tail
        return .v4(UInt32(value))
    }

    static func looksNumeric(_ part: Substring) -> Bool {
        if part.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        let lower = part.lowercased()
        return lower.hasPrefix("0x") && lower.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    /// One dotted part: decimal, octal with a leading 0, or hex with 0x. Nil when invalid or
    /// beyond 32 bits.
    static func parseIPv4Part(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.allSatisfy(\.isASCII) else { return nil }
        let lower = part.lowercased()
        var digits = Substring(lower)
        var radix = 10
        if lower.hasPrefix("0x") {
            digits = digits.dropFirst(2)
            radix = 16
            if digits.isEmpty { return 0 }  // WHATWG: "0x" is zero
        } else if lower.count > 1, lower.hasPrefix("0") {
            digits = digits.dropFirst()
            radix = 8
        }
        // Parse in a wide type; long strings of leading zeros are still one small number.
        let trimmed = digits.drop { $0 == "0" }
        guard trimmed.count <= 11 else { return nil }
        if trimmed.isEmpty { return digits.allSatisfy { $0 == "0" } ? 0 : nil }
        guard let value = UInt64(trimmed, radix: radix), value <= UInt64(UInt32.max) else { return nil }
        return value
    }

    /// RFC 4291 text form: hex groups, at most one `::`, an optional trailing dotted IPv4.
    /// Zone ids (`%eth0`) are refused: they name an interface, not an address.
    static func parseIPv6(_ text: String) -> IPAddress? {
        guard !text.isEmpty, text.count <= 45, text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if piece.contains(".") {
                    // Dotted IPv4 only as the last piece, strictly four decimal parts.
                    guard index == pieces.count - 1, let v4 = strictDottedQuad(piece) else { return nil }
                    result += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                } else {
                    guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        let high = all[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = all[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return fromIPv6(high: high, low: low)
    }

    static func strictDottedQuad(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || !part.hasPrefix("0"), let byte = UInt32(part), byte <= 255 else { return nil }
            value = value << 8 | byte
        }
        return value
    }
}
