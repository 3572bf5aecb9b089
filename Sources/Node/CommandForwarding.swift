import Executor
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Raft
import ServiceLifecycle
import Store
import Synchronization

/// Carries this node's executor commands to the leader: proposed at once when this node
/// leads, otherwise queued in a bounded buffer (oldest dropped when full) that `run()` sends in
/// signed batches to the leader's `POST /v1/internal/commands`. Fire and forget: a batch that
/// fails is dropped, and the executor re-proposes reports it does not see applied.
///
/// Batches go over SwiftNIO (`NIOHTTPCaller.exchange`, TCP_NODELAY, one loopback-cheap
/// connection per batch), not URLSession: on Linux a URLSession round trip costs several
/// milliseconds of latency and CPU, and every report of a follower's executor waits for one.
final class CommandForwarding: CommandProposer, Service, Sendable {
    let config: ValidatedNodeConfig
    let capacity: Int
    let logger: Logger
    private let group: any EventLoopGroup
    /// Set once at wiring time (the core's hooks need the executor, which needs us).
    private let coreBox = Mutex<NodeCore?>(nil)
    private let buffer = Mutex<[[UInt8]]>([])
    private let dropped = Mutex<Int>(0)
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(config: ValidatedNodeConfig, capacity: Int = 10_000, logger: Logger,
         group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.config = config
        self.capacity = capacity
        self.logger = logger
        self.group = group
        // One pending wakeup is enough: each wakeup drains the whole buffer.
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func attach(to core: NodeCore) { coreBox.withLock { $0 = core } }

    private var core: NodeCore? { coreBox.withLock { $0 } }

    /// Called from any thread, the driver thread included: never blocks.
    func propose(_ command: Command) {
        if let summary = command.executorReportSummary { logger.debug(summary.message, metadata: summary.metadata) }
        let bytes = command.encoded()
        if let core, let driver = core.driver, core.status?.role == .leader {
            driver.propose(bytes, onApplied: { _, _, _ in }, onFailed: { _ in })
            return
        }
        let overflow = buffer.withLock { buffer -> Int in
            buffer.append(bytes)
            let overflow = max(0, buffer.count - capacity)
            if overflow > 0 { buffer.removeFirst(overflow) }
            return overflow
        }
        if overflow > 0 { dropped.withLock { $0 += overflow } }
        wake.yield()
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.wakeups {
                await self.flush()
            }
        }
    }

    private func flush() async {
        while true {
            let batch = buffer.withLock { buffer -> [[UInt8]] in
                let batch = Array(buffer.prefix(CommandBatch.maxCommands))
                buffer.removeFirst(batch.count)
                return batch
            }
            if batch.isEmpty { return }
            await send(batch)
        }
    }

    private func send(_ batch: [[UInt8]]) async {
        guard let core, let driver = core.driver, let status = core.status else {
            note(dropping: batch.count, why: "node is starting")
            return
        }
        if status.role == .leader {
            for bytes in batch { driver.propose(bytes, onApplied: { _, _, _ in }, onFailed: { _ in }) }
            return
        }
        guard let leader = status.leader, let address = config.apiAddresses[leader],
              let (host, port) = Self.hostAndPort(address) else {
            note(dropping: batch.count, why: "no leader known")
            return
        }
        let body = CommandBatch.encode(batch)
        let head = Self.head(host: address, body: body, secret: config.secret)
        do {
            // An IP literal (the usual config) is used as is: no resolver round per batch.
            let literal = try? SocketAddress(ipAddress: host, port: port)
            let response = try await NIOHTTPCaller.exchange(
                group: group, head: head, body: Data(body), limit: 256, timeout: .seconds(5), connectTimeout: .seconds(2),
                target: address, tls: config.tls?.toNode(leader)) { bootstrap in
                    if let literal { return bootstrap.connect(to: literal) }
                    return bootstrap.connect(host: host, port: port)
                }
            if response.status != 202 { note(dropping: batch.count, why: "leader answered \(response.status)") }
        } catch {
            note(dropping: batch.count, why: "\(error)")
        }
    }

    static func head(host: String, body: [UInt8], secret: [UInt8]) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: CommandBatch.signatureHeader, value: CommandBatch.sign(body, secret: secret))
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/internal/commands", headers: headers)
    }

    /// "host:port" or "[v6]:port" of a configured API address.
    static func hostAndPort(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65_535).contains(port) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    private func note(dropping count: Int, why: String) {
        let total = dropped.withLock { total in
            total += count
            return total
        }
        logger.debug("dropped forwarded executor commands", metadata: ["count": "\(count)", "total": "\(total)", "why": "\(why)"])
    }

    /// Commands dropped so far (buffer overflow or failed sends).
    var droppedCount: Int { dropped.withLock { $0 } }
}
