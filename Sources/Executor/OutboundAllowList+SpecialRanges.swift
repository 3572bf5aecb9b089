/// Special-purpose ranges an allow-list must name on purpose.
///
/// A broad entry such as `0.0.0.0/0` or `::/0` ("anything public") must not silently open the
/// node's own host, the cloud metadata service or the private network behind it. So an address
/// in one of these ranges is allowed only by an entry at least as specific as the range itself
/// (`127.0.0.0/8`, `10.0.0.0/8`, `10.1.2.3/32`, `169.254.169.254/32` — an operator's explicit
/// choice), never by a wider one. Addresses no target may be (unspecified, multicast,
/// broadcast) are refused whatever the list says.
extension OutboundAllowList {
    struct SpecialRange: Sendable {
        let network: IPNetwork
        let name: String
    }

    /// Loopback, link-local, RFC 1918, CGNAT, ULA and the translation prefixes that embed them.
    static let specialRanges: [SpecialRange] = [
        .init(network: IPNetwork(unchecked: .v4(0x7F00_0000), prefixLength: 8), name: "loopback"),
        .init(network: IPNetwork(unchecked: .v6(high: 0, low: 1), prefixLength: 128), name: "loopback"),
        .init(network: IPNetwork(unchecked: .v4(0xA9FE_0000), prefixLength: 16), name: "link-local"),
        .init(network: IPNetwork(unchecked: .v6(high: 0xFE80_0000_0000_0000, low: 0), prefixLength: 10), name: "link-local"),
        .init(network: IPNetwork(unchecked: .v4(0x0A00_0000), prefixLength: 8), name: "private"),
        .init(network: IPNetwork(unchecked: .v4(0xAC10_0000), prefixLength: 12), name: "private"),
        .init(network: IPNetwork(unchecked: .v4(0xC0A8_0000), prefixLength: 16), name: "private"),
        .init(network: IPNetwork(unchecked: .v4(0x6440_0000), prefixLength: 10), name: "shared (CGNAT)"),
        .init(network: IPNetwork(unchecked: .v6(high: 0xFC00_0000_0000_0000, low: 0), prefixLength: 7), name: "unique-local"),
        // NAT64 and 6to4 embed an IPv4 address the gateway will reach on our behalf.
        .init(network: IPNetwork(unchecked: .v6(high: 0x0064_FF9B_0000_0000, low: 0), prefixLength: 96), name: "NAT64"),
        .init(network: IPNetwork(unchecked: .v6(high: 0x2002_0000_0000_0000, low: 0), prefixLength: 16), name: "6to4"),
        // IPv4-compatible (deprecated) ::a.b.c.d, e.g. [::127.0.0.1].
        .init(network: IPNetwork(unchecked: .v6(high: 0, low: 0), prefixLength: 96), name: "IPv4-compatible"),
    ]

    /// Never a valid target: 0.0.0.0/8 (connecting to 0.0.0.0 reaches this host on Linux), `::`,
    /// multicast, the limited broadcast address.
    static let forbiddenRanges: [SpecialRange] = [
        .init(network: IPNetwork(unchecked: .v4(0), prefixLength: 8), name: "unspecified"),
        .init(network: IPNetwork(unchecked: .v6(high: 0, low: 0), prefixLength: 128), name: "unspecified"),
        .init(network: IPNetwork(unchecked: .v4(0xE000_0000), prefixLength: 4), name: "multicast"),
        .init(network: IPNetwork(unchecked: .v6(high: 0xFF00_0000_0000_0000, low: 0), prefixLength: 8), name: "multicast"),
        .init(network: IPNetwork(unchecked: .v4(0xFFFF_FFFF), prefixLength: 32), name: "broadcast"),
    ]

    /// Why `address` is refused, or nil when the list allows it.
    public func refusal(for address: IPAddress) -> String? {
        if let forbidden = Self.forbiddenRanges.first(where: { $0.network.contains(address) }) {
            return "\(forbidden.name) address"
        }
        // The most specific special range the address falls in (IPv4-compatible ::/96 contains ::1).
        let special = Self.specialRanges.filter { $0.network.contains(address) }.max { $0.network.prefixLength < $1.network.prefixLength }
        let allowedBy = networks.filter { $0.contains(address) }
        guard !allowedBy.isEmpty else { return special.map { "\($0.name) address not in the allow-list" } ?? "not in the allow-list" }
        if let special, !allowedBy.contains(where: { Self.sameFamily($0.address, address) && $0.prefixLength >= special.network.prefixLength }) {
            return "\(special.name) address: allow \(special.network) (or a narrower network) explicitly"
        }
        return nil
    }

    static func sameFamily(_ a: IPAddress, _ b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4, .v4), (.v6, .v6): true
        default: false
        }
    }
}
