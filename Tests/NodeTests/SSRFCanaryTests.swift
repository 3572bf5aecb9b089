import Foundation
import NIOPosix
import Synchronization
import Testing
@testable import Executor
@testable import Node
@testable import Store

/// B10 (SSRF) through the real `HTTPTaskRunner` and `NIOHTTPCaller`, with a stub resolver and a
/// canary listening on 127.0.0.1 that must see zero connections. The node's allow-list here is a
/// "public" documentation network (203.0.113.0/24), so every loopback, link-local and private
/// spelling must be refused before any connection. `GuardedCaller` makes sure no test packet
/// ever leaves for a non-loopback address: it records such a send and answers it itself.
@Suite struct SSRFCanaryTests {
    /// A listening socket nobody accepts on: a connection attempt would sit in its backlog,
    /// where a non-blocking `accept` finds it afterwards. No thread, no timing.
    final class Canary: Sendable {
        let fd: Int32
        let port: Int

        init() throws {
            (fd, port) = try ExecutorWiringTests.listeningSocket(accepting: true)
        }

        deinit { close(fd) }

        /// Connections that reached the canary (drains the backlog).
        func hits() -> Int {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var count = 0
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { break }
                close(client)
                count += 1
            }
            return count
        }
    }

    /// Resolves names from a table (each answer consumed in turn, to play DNS rebinding), sends
    /// to loopback for real through `NIOHTTPCaller`, and never connects anywhere else.
    final class GuardedCaller: HTTPCaller, Sendable {
        let real = NIOHTTPCaller(group: MultiThreadedEventLoopGroup.singleton, node: "n1")
        let answers: Mutex<[String: [[IPAddress]]]>
        let lookups = Mutex(0)
        let sentAway = Mutex<[IPAddress]>([])

        init(_ answers: [String: [[IPAddress]]]) { self.answers = Mutex(answers) }

        func resolve(host: String) async throws(HTTPCallError) -> [IPAddress] {
            lookups.withLock { $0 += 1 }
            let next = answers.withLock { table -> [IPAddress]? in
                guard var queue = table[host], !queue.isEmpty else { return nil }
                let first = queue.removeFirst()
                table[host] = queue.isEmpty ? [first] : queue
                return first
            }
            guard let next else { throw .transport("NXDOMAIN \(host)") }
            return next
        }

        func send(_ request: OutboundHTTPRequest) async throws(HTTPCallError) -> OutboundHTTPResponse {
            guard OutboundAllowList.loopbackOnly.allows(request.target.address) else {
                sentAway.withLock { $0.append(request.target.address) }
                return OutboundHTTPResponse(status: 200, bodyPrefix: Data("stub".utf8))
            }
            return try await real.send(request)
        }
    }

    static let publicNet = try? OutboundAllowList(parsing: ["203.0.113.0/24"])
    static let loopback: IPAddress = .v4(0x7F00_0001)
    static let public7: IPAddress = .v4(0xCB00_7107)

    static func task(_ url: String) -> TaskRecord {
        let payload = (try? JSONEncoder().encode(["url": url, "method": "GET"])) ?? Data()
        return TaskRecord(id: "t", queue: "q", name: nil, jobID: nil, kind: "http", payload: payload, scheduleTimeMs: 0,
                          dispatchDeadlineMs: 2_000, createTimeMs: 0, state: .leased, attempts: 1, firstAttemptMs: 0,
                          lastAttemptMs: 0, lastOutcome: nil, leaseExecutor: "e1", leaseUntilMs: 10_000, fence: 1,
                          result: nil, lastError: nil, endTimeMs: nil)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// `PORT` is replaced by the canary's port.
        var url: String
        var testDescription: String { name }
    }

    static let refused: [Case] = [
        Case(name: "loopback dotted", url: "http://127.0.0.1:PORT/"),
        Case(name: "loopback decimal", url: "http://2130706433:PORT/"),
        Case(name: "loopback hex", url: "http://0x7f000001:PORT/"),
        Case(name: "loopback octal", url: "http://017700000001:PORT/"),
        Case(name: "loopback short 127.1", url: "http://127.1:PORT/"),
        Case(name: "loopback IPv4-mapped", url: "http://[::ffff:127.0.0.1]:PORT/"),
        Case(name: "loopback IPv4-compatible", url: "http://[::127.0.0.1]:PORT/"),
        Case(name: "loopback IPv6", url: "http://[::1]:PORT/"),
        Case(name: "unspecified 0.0.0.0", url: "http://0.0.0.0:PORT/"),
        Case(name: "unspecified 0", url: "http://0:PORT/"),
        Case(name: "metadata link-local", url: "http://169.254.169.254:PORT/latest/meta-data"),
        Case(name: "IPv6 link-local", url: "http://[fe80::1]:PORT/"),
        Case(name: "RFC 1918 10/8", url: "http://10.0.0.1:PORT/"),
        Case(name: "RFC 1918 172.16/12", url: "http://172.16.0.1:PORT/"),
        Case(name: "RFC 1918 192.168/16", url: "http://192.168.1.1:PORT/"),
        Case(name: "CGNAT 100.64/10", url: "http://100.64.0.1:PORT/"),
        Case(name: "ULA fc00::/7", url: "http://[fd00::1]:PORT/"),
        Case(name: "name resolving to loopback", url: "http://localhost.test:PORT/"),
        Case(name: "name resolving to metadata", url: "http://metadata.test:PORT/"),
        Case(name: "name resolving to private", url: "http://intranet.test:PORT/"),
        Case(name: "name with one public and one loopback address", url: "http://mixed.test:PORT/"),
        Case(name: "file scheme", url: "file:///etc/passwd"),
        Case(name: "gopher scheme", url: "gopher://127.0.0.1:PORT/_GET"),
        Case(name: "ftp scheme", url: "ftp://127.0.0.1:PORT/"),
        Case(name: "userinfo allowed@loopback", url: "http://203.0.113.7@127.0.0.1:PORT/"),
        Case(name: "userinfo with password", url: "http://public.test:x@127.0.0.1:PORT/"),
        Case(name: "backslash authority trick", url: "http://203.0.113.7\\@127.0.0.1:PORT/"),
        Case(name: "percent-encoded host", url: "http://%31%32%37.0.0.1:PORT/"),
    ]

    static func caller() -> GuardedCaller {
        GuardedCaller([
            "localhost.test": [[loopback]],
            "metadata.test": [[.v4(0xA9FE_A9FE)]],
            "intranet.test": [[.v4(0x0A00_0005)]],
            "mixed.test": [[public7, loopback]],
            "public.test": [[public7]],
            "rebind.test": [[public7], [loopback]],
        ])
    }

    @Test(arguments: refused)
    func refusedBeforeAnyConnection(_ c: Case) async throws {
        let canary = try Canary()
        let caller = Self.caller()
        let runner = HTTPTaskRunner(caller: caller, allowList: try #require(Self.publicNet))
        let outcome = await runner.run(Self.task(c.url.replacingOccurrences(of: "PORT", with: "\(canary.port)")))
        guard case .failed(let why) = outcome else {
            Issue.record("\(c.name): expected a refusal, got \(outcome)")
            return
        }
        #expect(why.hasPrefix("http target refused"), "\(why)")
        #expect(canary.hits() == 0)
        #expect(caller.sentAway.withLock { $0 }.isEmpty)
    }

    /// DNS rebinding: the name answers a public address first and loopback afterwards. The
    /// runner resolves once and connects to the address it checked.
    @Test func aRebindingNameIsConnectedToTheCheckedAddressOnly() async throws {
        let canary = try Canary()
        let caller = Self.caller()
        let runner = HTTPTaskRunner(caller: caller, allowList: try #require(Self.publicNet))
        let outcome = await runner.run(Self.task("http://rebind.test:\(canary.port)/"))
        guard case .succeeded = outcome else {
            Issue.record("expected the stubbed public answer, got \(outcome)")
            return
        }
        #expect(caller.lookups.withLock { $0 } == 1)
        #expect(caller.sentAway.withLock { $0 } == [Self.public7])
        #expect(canary.hits() == 0)
    }

    /// An allowed target answering 302 towards a denied one: the redirect is not followed.
    @Test func aRedirectToADeniedTargetIsNotFollowed() async throws {
        let canary = try Canary()
        let location = "http://127.0.0.1:\(canary.port)/"
        let server = try NIOHTTPCallerExchangeTests.OneShotServer(
            answer: NIOHTTPCallerExchangeTests.answer("HTTP/1.1 302 Found\r\nLocation: \(location)", bodyBytes: 0))
        // Only the redirecting server's own port is reachable in spirit; the allow-list is by
        // address, so both are loopback: what is tested is that a 3xx is never followed.
        let runner = HTTPTaskRunner(caller: Self.caller(), allowList: .loopbackOnly)
        let outcome = await runner.run(Self.task("http://127.0.0.1:\(server.port)/start"))
        guard case .failed(let why) = outcome else {
            Issue.record("expected a failed attempt, got \(outcome)")
            return
        }
        #expect(why.contains("302") && why.contains("not followed"), "\(why)")
        #expect(canary.hits() == 0)
    }

    /// A broad allow-list ("anything") does not open special ranges; naming one does.
    @Test(arguments: [
        ("0.0.0.0/0", "127.0.0.1", false), ("0.0.0.0/0", "10.1.1.1", false), ("0.0.0.0/0", "169.254.169.254", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("::/0", "fd00::1", false), ("::/0", "2001:db8::1", true),
        ("10.0.0.0/8", "10.1.1.1", true), ("10.1.0.0/16", "10.1.1.1", true), ("127.0.0.0/8", "127.0.0.1", true),
        ("0.0.0.0/0", "0.0.0.0", false), ("0.0.0.0/8", "0.0.0.0", false), ("224.0.0.0/4", "224.0.0.1", false),
        ("169.254.169.254/32", "169.254.169.254", true), ("::/0", "::ffff:127.0.0.1", false),
    ])
    func broadNetworksDoNotOpenSpecialRanges(_ allow: String, _ address: String, _ allowed: Bool) throws {
        let list = try OutboundAllowList(parsing: [allow])
        let literal = address.contains(":") ? "[\(address)]" : address
        let ip = try #require(try IPAddress.parseHostLiteral(literal))
        #expect(list.allows(ip) == allowed, "\(allow) vs \(address): \(list.refusal(for: ip) ?? "allowed")")
    }
}
