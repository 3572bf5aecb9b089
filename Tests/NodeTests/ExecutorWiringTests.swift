@testable import Executor
import Foundation
import NIOCore
import NIOPosix
import Store
import Testing
@testable import Node

/// The pieces that carry executor work: the signed command batch and the outbound HTTP caller.
@Suite struct ExecutorWiringTests {
    static let secret = Array("a-cluster-secret-of-some-length".utf8)

    static let commands: [Command] = [
        .executorHeartbeat(executorID: "n1", nowMs: 5),
        .failTask(taskID: "t1", fence: 42, error: "HTTP 500", nowMs: 6),
        .completeTask(taskID: "t2", fence: 43, result: Data("ok".utf8), counters: ["a": 1], nowMs: 7),
    ]

    @Test func aBatchRoundTripsAndItsSignatureVerifies() throws {
        let body = CommandBatch.encode(Self.commands.map { $0.encoded() })
        #expect(try CommandBatch.decode(body) == Self.commands)
        let signature = CommandBatch.sign(body, secret: Self.secret)
        #expect(signature.count == 64)
        #expect(CommandBatch.verify(body, signature: signature, secret: Self.secret))
        #expect(CommandBatch.verify(body, signature: signature.uppercased(), secret: Self.secret))
    }

    @Test(arguments: [nil, "", "zz", String(repeating: "0", count: 64), String(repeating: "a", count: 4_000)])
    func aBadSignatureIsRefused(_ signature: String?) {
        let body = CommandBatch.encode(Self.commands.map { $0.encoded() })
        #expect(!CommandBatch.verify(body, signature: signature, secret: Self.secret))
    }

    @Test func aSignatureIsBoundToItsBodyAndSecret() {
        let body = CommandBatch.encode(Self.commands.map { $0.encoded() })
        let signature = CommandBatch.sign(body, secret: Self.secret)
        var tampered = body
        tampered[tampered.count - 1] ^= 1
        #expect(!CommandBatch.verify(tampered, signature: signature, secret: Self.secret))
        #expect(!CommandBatch.verify(body, signature: signature, secret: Array("another-secret-entirely".utf8)))
    }

    @Test(arguments: [[0, 0, 0], [0, 0, 0, 9, 1, 0], [0, 0, 0, 3, 1, 0, 250], [0xFF, 0xFF, 0xFF, 0xFF]])
    func malformedBatchesAreTypedErrors(_ bytes: [UInt8]) {
        #expect(throws: CommandBatch.DecodeError.self) { try CommandBatch.decode(bytes) }
    }

    @Test func onlyExecutorCommandsMayBeForwarded() {
        #expect(Self.commands.allSatisfy(CommandBatch.isExecutorCommand))
        #expect(!CommandBatch.isExecutorCommand(.expireLeases(nowMs: 1, limit: 10)))
        #expect(!CommandBatch.isExecutorCommand(.assignTask(taskID: "t", executorID: "n1", leaseUntilMs: 9, nowMs: 1)))
    }

    // MARK: the HTTP caller

    static func target(_ url: String) throws -> OutboundTarget {
        try OutboundAllowList.loopbackOnly.check(try OutboundURL.parse(url), resolved: [.v4(0x7F00_0001)])
    }

    static func request(_ url: String, timeoutMs: Int64 = 2_000) throws -> OutboundHTTPRequest {
        OutboundHTTPRequest(target: try target(url), method: "POST", headers: [], body: Data("x".utf8), timeoutMs: timeoutMs)
    }

    @Test func httpsIsRefusedClearly() async throws {
        let caller = NIOHTTPCaller(group: MultiThreadedEventLoopGroup.singleton, node: "n1")
        await #expect(throws: HTTPCallError.transport("https targets are not supported yet")) {
            try await caller.send(try Self.request("https://127.0.0.1:1/"))
        }
    }

    @Test func aRefusedConnectionIsATransportError() async throws {
        let port = try Self.listeningSocket(accepting: false)
        close(port.fd)
        let caller = NIOHTTPCaller(group: MultiThreadedEventLoopGroup.singleton, node: "n1")
        await #expect {
            try await caller.send(try Self.request("http://127.0.0.1:\(port.port)/"))
        } throws: { error in
            if case .transport = error as? HTTPCallError { return true }
            return false
        }
    }

    @Test func aTargetThatNeverAnswersTimesOut() async throws {
        // Listening but never accepting: the kernel completes the handshake, nobody answers.
        let socket = try Self.listeningSocket(accepting: true)
        defer { close(socket.fd) }
        let caller = NIOHTTPCaller(group: MultiThreadedEventLoopGroup.singleton, node: "n1")
        await #expect(throws: HTTPCallError.timeout) {
            try await caller.send(try Self.request("http://127.0.0.1:\(socket.port)/", timeoutMs: 200))
        }
    }

    @Test func localhostResolvesToLoopback() async throws {
        let caller = NIOHTTPCaller(group: MultiThreadedEventLoopGroup.singleton, node: "n1")
        let addresses = try await caller.resolve(host: "localhost")
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy(OutboundAllowList.loopbackOnly.allows))
    }

    /// A bound loopback TCP socket (listening when asked); the caller closes `fd`.
    static func listeningSocket(accepting: Bool) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CommandBatch.DecodeError.malformed("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, !accepting || listen(fd, 8) == 0 else {
            close(fd)
            throw CommandBatch.DecodeError.malformed("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
