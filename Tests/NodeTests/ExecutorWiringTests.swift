@testable import Executor
import Foundation
import Logging
import NIOCore
import NIOPosix
@testable import Raft
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

    @Test(arguments: [("127.0.0.1:8080", "127.0.0.1", 8080), ("node-2.local:1", "node-2.local", 1), ("[::1]:9000", "::1", 9000)])
    func leaderAddressesSplitIntoHostAndPort(_ address: String, _ host: String, _ port: Int) throws {
        let split = try #require(CommandForwarding.hostAndPort(address))
        #expect(split.0 == host && split.1 == port)
    }

    @Test(arguments: ["no-port", "host:", "host:0", "host:70000", ":80", "host:http"])
    func unusableLeaderAddressesAreRefused(_ address: String) {
        #expect(CommandForwarding.hostAndPort(address) == nil)
    }

    @Test func aForwardedBatchCarriesTheSignatureOfItsBody() {
        let body = CommandBatch.encode(Self.commands.map { $0.encoded() })
        let head = CommandForwarding.head(host: "127.0.0.1:1", body: body, secret: Self.secret)
        #expect(head.method.rawValue == "POST" && head.uri == "/v1/internal/commands")
        #expect(head.headers["Content-Length"].first == String(body.count))
        #expect(CommandBatch.verify(body, signature: head.headers[CommandBatch.signatureHeader].first, secret: Self.secret))
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

/// `NodeScheduling` on a real store, with the driver played by the test: proposals are
/// collected, then applied at increasing indexes with their handlers called, as the driver does.
@Suite struct EventDrivenSchedulingTests {
    /// Used on the test's thread only, as the real driver is on its own.
    final class FakeDriver {
        typealias Pending = (data: [UInt8], onApplied: RaftDriver<StoreMachine>.AppliedHandler)
        let machine: StoreMachine
        var proposals: [Pending] = []
        var index: UInt64 = 0

        init() throws { machine = StoreMachine(store: try StateStore(path: ":memory:")) }

        var propose: DriverHooks<StoreMachine>.ProposeNow {
            { data, onApplied, _ in self.proposals.append((data, onApplied)) }
        }

        /// Applies one command (the test's or a proposal) and runs the after-apply hook.
        @discardableResult
        func apply(_ data: [UInt8], scheduling: NodeScheduling?, onApplied: RaftDriver<StoreMachine>.AppliedHandler? = nil) throws -> ApplyOutcome {
            index += 1
            let at = index
            let outcome = try machine.store.apply(index: at, term: 1, data: data).outcome
            onApplied?(machine, at, outcome)
            scheduling?.afterApply(machine.store)
            return outcome
        }

        func take() -> [Pending] {
            defer { proposals = [] }
            return proposals
        }

        func status(_ role: Role) -> RaftStatus {
            let last = LogIndex(index)
            return RaftStatus(id: NodeID(1), role: role, leader: role == .leader ? NodeID(1) : nil, term: Term(1), vote: NodeID(1),
                              commit: last, applied: last, lastIndex: last, configuration: Configuration(voters: [NodeID(1)]),
                              matchIndex: [:])
        }
    }

    /// One queue, one executor with ONE slot, two tasks due now.
    func setUp() throws -> (FakeDriver, NodeScheduling) {
        let driver = try FakeDriver()
        let now = HTTPSupport.nowMs()
        for command: Command in [
            .createQueue(QueueSpec(name: "q", nowMs: now)),
            .registerExecutor(executorID: "n1", node: "n1", slots: 1, nowMs: now),
            .createTask(TaskSpec(id: "a", queue: "q", kind: "sleep", scheduleTimeMs: 0, nowMs: now)),
            .createTask(TaskSpec(id: "b", queue: "q", kind: "sleep", scheduleTimeMs: 0, nowMs: now)),
        ] {
            try driver.apply(command.encoded(), scheduling: nil)
        }
        let scheduling = NodeScheduling(executor: nil, executorID: "n1", tickMs: 10,
                                        logger: Logger(label: "test"))
        return (driver, scheduling)
    }

    static func assigned(_ pending: [FakeDriver.Pending]) -> [String] {
        pending.compactMap { try? Command.decode($0.data, index: 0) }.compactMap { command -> String? in
            if case .assignTask(let id, _, _, _) = command { return id }
            return nil
        }
    }

    @Test func aSlotFreedByAnAppliedReportIsRefilledWithoutATick() throws {
        let (driver, scheduling) = try setUp()
        scheduling.onTick(driver.machine.store, status: driver.status(.leader), propose: driver.propose)
        let first = driver.take()
        #expect(Self.assigned(first) == ["a"], "one slot: one assignment")
        var fence: UInt64 = 0
        for pending in first {
            if case .assigned(let granted) = try driver.apply(pending.data, scheduling: scheduling, onApplied: pending.onApplied) {
                fence = granted
            }
        }
        #expect(driver.take().isEmpty, "the only slot is taken")
        try driver.apply(Command.completeTask(taskID: "a", fence: fence, result: Data(), counters: [:], nowMs: HTTPSupport.nowMs()).encoded(),
                         scheduling: scheduling)
        #expect(Self.assigned(driver.take()) == ["b"], "planned right after the apply that freed the slot")
    }

    @Test func aNodeThatIsNotLeaderPlansNothingAfterApply() throws {
        let (driver, scheduling) = try setUp()
        scheduling.onTick(driver.machine.store, status: driver.status(.leader), propose: driver.propose)
        let first = driver.take()
        #expect(Self.assigned(first) == ["a"])
        scheduling.onTick(driver.machine.store, status: driver.status(.follower), propose: driver.propose)
        for pending in first { try driver.apply(pending.data, scheduling: scheduling, onApplied: pending.onApplied) }
        try driver.apply(Command.createTask(TaskSpec(id: "c", queue: "q", kind: "sleep", scheduleTimeMs: 0,
                                                     nowMs: HTTPSupport.nowMs())).encoded(), scheduling: scheduling)
        #expect(driver.take().isEmpty, "a former leader's scheduler is gone")
    }
}
