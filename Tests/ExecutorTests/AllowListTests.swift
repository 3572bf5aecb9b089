import Foundation
@testable import Executor
import Testing

/// The outbound allow-list, as a table. No network: resolved addresses are given.
@Suite struct AllowListTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var url: String
        var resolved: [String] = []
        var allow: [String]? = nil  // nil: the default, loopback only
        /// nil: allowed; else the start of the rejection's description.
        var refused: String?
        var testDescription: String { url + (resolved.isEmpty ? "" : " → \(resolved)") }
    }

    static let cases: [Case] = [
        // Loopback in every spelling is allowed by the default list.
        Case(url: "http://127.0.0.1:8080/hook", refused: nil),
        Case(url: "http://127.255.0.9/", refused: nil),
        Case(url: "http://2130706433/", refused: nil),
        Case(url: "http://0x7f000001/", refused: nil),
        Case(url: "http://0X7F000001/", refused: nil),
        Case(url: "http://017700000001/", refused: nil),
        Case(url: "http://0177.0.0.1/", refused: nil),
        Case(url: "http://0x7f.1/", refused: nil),
        Case(url: "http://127.1/", refused: nil),
        Case(url: "http://127.0.0.1./", refused: nil),
        Case(url: "http://[::1]:9000/x", refused: nil),
        Case(url: "http://[0:0:0:0:0:0:0:1]/", refused: nil),
        Case(url: "http://[::ffff:127.0.0.1]/", refused: nil),
        Case(url: "http://[::ffff:7f00:1]/", refused: nil),
        Case(url: "https://localhost/", resolved: ["127.0.0.1", "::1"], refused: nil),
        // Everything else is refused by the default list, in every spelling.
        Case(url: "http://169.254.169.254/latest/meta-data", refused: "addressNotAllowed"),
        Case(url: "http://2852039166/", refused: "addressNotAllowed"),
        Case(url: "http://0xa9fea9fe/", refused: "addressNotAllowed"),
        Case(url: "http://[::ffff:169.254.169.254]/", refused: "addressNotAllowed"),
        Case(url: "http://0.0.0.0/", refused: "addressNotAllowed"),
        Case(url: "http://0/", refused: "addressNotAllowed"),
        Case(url: "http://[::]/", refused: "addressNotAllowed"),
        Case(url: "http://[::127.0.0.1]/", refused: "addressNotAllowed"),  // IPv4-compatible, not mapped
        Case(url: "http://[64:ff9b::7f00:1]/", refused: "addressNotAllowed"),  // NAT64
        Case(url: "http://example.com/", resolved: ["93.184.215.14"], refused: "addressNotAllowed"),
        // A name with one bad address among good ones is refused (DNS rebinding, round robin).
        Case(url: "http://evil.test/", resolved: ["127.0.0.1", "10.0.0.5"], refused: "addressNotAllowed"),
        Case(url: "http://nothing.test/", resolved: [], refused: "noAddress"),
        // A wider list: loopback spellings are refused when only 10/8 is allowed.
        Case(url: "http://10.1.2.3/", allow: ["10.0.0.0/8"], refused: nil),
        Case(url: "http://167838211/", allow: ["10.0.0.0/8"], refused: nil),
        Case(url: "http://2130706433/", allow: ["10.0.0.0/8"], refused: "addressNotAllowed"),
        Case(url: "http://[::ffff:127.0.0.1]/", allow: ["10.0.0.0/8"], refused: "addressNotAllowed"),
        Case(url: "http://[::ffff:10.9.9.9]/", allow: ["10.0.0.0/8"], refused: nil),
        Case(url: "http://[fd00::5]/", allow: ["fd00::/8"], refused: nil),
        Case(url: "http://[fe80::1]/", allow: ["fd00::/8"], refused: "addressNotAllowed"),
        Case(url: "http://[::ffff:10.1.1.1]/", allow: ["::ffff:10.0.0.0/104"], refused: nil),
        // Shape: scheme, user info, odd hosts.
        Case(url: "ftp://127.0.0.1/", refused: "schemeNotAllowed"),
        Case(url: "file:///etc/passwd", refused: "malformedURL"),
        Case(url: "gopher://127.0.0.1:70/", refused: "schemeNotAllowed"),
        Case(url: "http://user:pw@127.0.0.1/", refused: "userInfoNotAllowed"),
        Case(url: "http://169.254.169.254@127.0.0.1/", refused: "userInfoNotAllowed"),
        Case(url: "http://127.0.0.1\\@169.254.169.254/", refused: "malformedURL"),
        Case(url: "http://%31%32%37.0.0.1/", refused: "malformedURL"),
        Case(url: "http://[fe80::1%25eth0]/", refused: "malformedURL"),
        Case(url: "http://256.0.0.1/", refused: "malformedURL"),
        Case(url: "http://1.2.3.4.5/", refused: "malformedURL"),
        Case(url: "http://0x100000000/", refused: "malformedURL"),
        Case(url: "http://0x1g/", refused: "noAddress"),  // not numeric: a host name (WHATWG), resolved by the caller
        Case(url: "http://089/", refused: "malformedURL"),
        Case(url: "http://127.0.0.1:0/", refused: "malformedURL"),
        Case(url: "http://127.0.0.1:99999/", refused: "malformedURL"),
        Case(url: "http:// 127.0.0.1/", refused: "malformedURL"),
        Case(url: "http://127.0.0.1/a b", refused: "malformedURL"),
        Case(url: "http://ｌｏｃａｌｈｏｓｔ/", refused: "malformedURL"),
        Case(url: "127.0.0.1/x", refused: "malformedURL"),
    ]

    func resolve(_ texts: [String]) throws -> [IPAddress] {
        try texts.map { text in
            let literal = text.contains(":") ? "[\(text)]" : text
            return try #require(try IPAddress.parseHostLiteral(literal))
        }
    }

    @Test(arguments: cases)
    func table(_ c: Case) throws {
        let allow = try c.allow.map { try OutboundAllowList(parsing: $0) } ?? .loopbackOnly
        let named = try resolve(c.resolved)
        let outcome: Result<OutboundTarget, OutboundRejection>
        do throws(OutboundRejection) {
            let url = try OutboundURL.parse(c.url)
            let resolved = url.literalAddress.map { [$0] } ?? named
            outcome = .success(try allow.check(url, resolved: resolved))
        } catch {
            outcome = .failure(error)
        }
        switch (outcome, c.refused) {
        case (.success, nil): break
        case (.failure(let error), let expected?):
            #expect("\(error)".hasPrefix(expected), "refused as \(error), expected \(expected)")
        case (.success(let target), let expected?):
            Issue.record("allowed \(target.address), expected refusal \(expected)")
        case (.failure(let error), nil):
            Issue.record("refused as \(error), expected allowed")
        }
    }

    @Test func literalsNormaliseToOneAddress() throws {
        for spelling in ["127.0.0.1", "2130706433", "0x7f000001", "017700000001", "0177.0.0.1", "0x7f.0.0.1", "127.1", "127.0.1",
                         "0x7F.00000.0.01", "[::ffff:127.0.0.1]", "[::FFFF:7F00:1]"] {
            #expect(try IPAddress.parseHostLiteral(spelling) == .v4(0x7F00_0001), "\(spelling)")
        }
        #expect(try IPAddress.parseHostLiteral("example.com") == nil)
        #expect(try IPAddress.parseHostLiteral("1.example") == nil, "ends in a name: a host name")
        #expect(try IPAddress.parseHostLiteral("[2001:db8::1]") == .v6(high: 0x2001_0db8_0000_0000, low: 1))
    }

    @Test func targetIsPinnedToTheCheckedAddress() throws {
        let url = try OutboundURL.parse("https://LocalHost:8443/p?q=1#frag")
        #expect(url.host == "localhost" && url.port == 8443 && url.pathAndQuery == "/p?q=1" && url.literalAddress == nil)
        let target = try OutboundAllowList.loopbackOnly.check(url, resolved: [.v4(0x7F00_0001)])
        #expect(target.address == .v4(0x7F00_0001))
        #expect(try OutboundURL.parse("http://127.0.0.1").pathAndQuery == "/")
        #expect(try OutboundURL.parse("http://127.0.0.1?x").pathAndQuery == "/?x")
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0/8", "::1/129", "nonsense", "::ffff:0:0/64", "1.2.3.4/8/9"])
    func badNetworksAreRefused(_ text: String) {
        #expect(throws: OutboundRejection.self) { try IPNetwork(parsing: text) }
    }
}
