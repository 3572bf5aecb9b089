/// A strictly parsed absolute http(s) URL. Deliberately small and strict rather than
/// Foundation's `URL`: the allow-list must see exactly the host the caller will connect to,
/// and parser differentials (backslashes, percent-encoded hosts, whitespace) are how SSRF
/// filters get bypassed. Anything unusual is refused.
public struct OutboundURL: Sendable, Equatable {
    /// Lowercased.
    public var scheme: String
    /// Lowercased host name, dotted IPv4 as written, or a bracketed IPv6 literal.
    public var host: String
    /// The address when the host is a literal (normalised), nil for a name to resolve.
    public var literalAddress: IPAddress?
    public var port: Int
    /// Path and query as written, starting with "/"; the fragment is dropped.
    public var pathAndQuery: String
    public var hasUserInfo: Bool

    public static func parse(_ text: String) throws(OutboundRejection) -> OutboundURL {
        guard text.utf8.count <= 8_192 else { throw .malformedURL("URL too long") }
        // Printable ASCII only: no spaces, controls, backslashes or non-ASCII hosts (IDNA is
        // the caller's job: send the punycode form).
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" }) else {
            throw .malformedURL("URL has whitespace, control, backslash or non-ASCII characters")
        }
        // From here on every character is one printable ASCII byte: byte-level scans, no
        // Foundation string search (this runs on every create of an http task).
        guard let schemeEnd = firstSeparator(in: text) else { throw .malformedURL("not an absolute URL") }
        let scheme = text[..<schemeEnd].lowercased()
        guard !scheme.isEmpty, scheme.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) else {
            throw .malformedURL("bad scheme")
        }
        let rest = text[text.utf8.index(schemeEnd, offsetBy: 3)...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }

        var hasUserInfo = false
        if let at = authority.lastIndex(of: "@") {
            hasUserInfo = true
            authority = authority[authority.index(after: at)...]
        }
        let (hostText, portText) = try splitHostPort(authority)
        let port = try parsePort(portText, scheme: scheme)
        guard !hostText.utf8.contains(UInt8(ascii: "%")) else { throw .malformedURL("percent-encoded or zoned host") }
        let literal = try IPAddress.parseHostLiteral(hostText)
        var host = hostText.lowercased()
        if literal == nil {
            guard !host.isEmpty, host.utf8.count <= 253,
                  host.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }),
                  !host.hasPrefix("."), !zip(host.utf8, host.utf8.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") }) else {
                throw .malformedURL("bad host name")
            }
            if host.hasSuffix(".") { host.removeLast() }
        }
        return OutboundURL(scheme: scheme, host: host, literalAddress: literal, port: port, pathAndQuery: path, hasUserInfo: hasUserInfo)
    }

    /// Where the first `://` starts.
    static func firstSeparator(in text: String) -> String.Index? {
        let utf8 = text.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: ":") {
                let rest = utf8[utf8.index(after: index)...]
                if rest.starts(with: "//".utf8) { return index }
            }
            index = utf8.index(after: index)
        }
        return nil
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    static func splitHostPort(_ authority: Substring) throws(OutboundRejection) -> (String, Substring?) {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .malformedURL("unclosed IPv6 literal") }
            let host = String(authority[...close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { return (host, nil) }
            guard after.hasPrefix(":") else { throw .malformedURL("junk after IPv6 literal") }
            return (host, after.dropFirst())
        }
        guard let colon = authority.firstIndex(of: ":") else { return (String(authority), nil) }
        return (String(authority[..<colon]), authority[authority.index(after: colon)...])
    }

    static func parsePort(_ text: Substring?, scheme: String) throws(OutboundRejection) -> Int {
        guard let text, !text.isEmpty else { return scheme == "https" ? 443 : 80 }
        guard text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(text), (1...65_535).contains(port) else {
            throw .malformedURL("bad port")
        }
        return port
    }
}
