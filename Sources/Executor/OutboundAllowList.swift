/// Why an outbound HTTP target was refused. The texts go into the task's `lastError`.
public enum OutboundRejection: Error, Sendable, Equatable {
    case malformedURL(String)
    case schemeNotAllowed(String)
    case userInfoNotAllowed
    case noAddress
    case addressNotAllowed(String)
}

/// A network in CIDR form.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `a.b.c.d/n` or `ipv6/n` (a bare address is a /32 or /128). IPv4-mapped
    /// networks (`::ffff:0:0/96` and longer) are stored as their IPv4 network.
    public init(parsing text: String) throws(OutboundRejection) {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(pieces.count) else { throw .malformedURL("bad network '\(text.prefix(60))'") }
        let addressText = String(pieces[0])
        let parsed: IPAddress?
        if addressText.contains(":") {
            parsed = IPAddress.parseIPv6(addressText)
        } else {
            parsed = IPAddress.strictDottedQuad(pieces[0]).map(IPAddress.v4)
        }
        guard let parsed else { throw .malformedURL("bad network '\(text.prefix(60))'") }
        let isV4Text = !addressText.contains(":")
        let maxLength = isV4Text ? 32 : 128
        var length = maxLength
        if pieces.count == 2 {
            guard let value = Int(pieces[1]), (0...maxLength).contains(value) else { throw .malformedURL("bad prefix in '\(text.prefix(60))'") }
            length = value
        }
        if !isV4Text, case .v4 = parsed {
            // ::ffff:x.x.x.x/n with n ≥ 96 is the IPv4 network x/(n-96).
            guard length >= 96 else { throw .malformedURL("IPv4-mapped network shorter than /96") }
            length -= 96
        }
        address = parsed
        prefixLength = length
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let net), .v4(let ip)):
            guard prefixLength > 0 else { return true }
            let mask = UInt32.max << UInt32(32 - prefixLength)
            return net & mask == ip & mask
        case (.v6(let netHigh, let netLow), .v6(let high, let low)):
            let highMask = prefixLength >= 64 ? UInt64.max : (prefixLength == 0 ? 0 : UInt64.max << UInt64(64 - prefixLength))
            let lowBits = prefixLength - 64
            let lowMask = lowBits <= 0 ? 0 : (lowBits >= 64 ? UInt64.max : UInt64.max << UInt64(64 - lowBits))
            return netHigh & highMask == high & highMask && netLow & lowMask == low & lowMask
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// The networks `http` tasks may reach (node config). Default: loopback only.
public struct OutboundAllowList: Sendable, Equatable {
    public var networks: [IPNetwork]

    public init(networks: [IPNetwork]) {
        self.networks = networks
    }

    public init(parsing cidrs: [String]) throws(OutboundRejection) {
        var networks: [IPNetwork] = []
        for cidr in cidrs { networks.append(try IPNetwork(parsing: cidr)) }
        self.init(networks: networks)
    }

    /// 127.0.0.0/8 and ::1/128 (IPv4-mapped loopback is unmapped, so it matches the first).
    public static let loopbackOnly = OutboundAllowList(networks: [
        IPNetwork(unchecked: .v4(0x7F00_0000), prefixLength: 8),
        IPNetwork(unchecked: .v6(high: 0, low: 1), prefixLength: 128),
    ])

    /// The address-independent part: http(s) only, no user info.
    public func checkShape(_ url: OutboundURL) throws(OutboundRejection) {
        guard url.scheme == "http" || url.scheme == "https" else { throw .schemeNotAllowed(String(url.scheme.prefix(20))) }
        guard !url.hasUserInfo else { throw .userInfoNotAllowed }
    }

    /// Inside an allowed network, and a special-purpose address (loopback, private, …) only
    /// when a network at least as narrow as its range allows it (`+SpecialRanges`).
    public func allows(_ address: IPAddress) -> Bool {
        refusal(for: address) == nil
    }

    /// The pure check of one target: the URL's scheme and shape, then EVERY address its
    /// host resolved to (a host with one disallowed address is refused: the caller could
    /// not control which one a connection would use). Returns the target pinned to the
    /// first address: the caller must connect there, not resolve the name again (DNS
    /// rebinding), and send the URL's host in the Host header.
    public func check(_ url: OutboundURL, resolved: [IPAddress]) throws(OutboundRejection) -> OutboundTarget {
        try checkShape(url)
        guard let first = resolved.first else { throw .noAddress }
        for address in resolved {
            if let why = refusal(for: address) { throw .addressNotAllowed("\(url.host) → \(address): \(why)") }
        }
        return OutboundTarget(url: url, address: first)
    }
}

extension IPNetwork {
    init(unchecked address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }
}

/// A checked target: where to connect and what to ask for.
public struct OutboundTarget: Sendable, Equatable {
    public var url: OutboundURL
    /// Connect to this address (checked), never to a fresh resolution of `url.host`.
    public var address: IPAddress
}
