import Executor
import Foundation
import Logging
import Raft
import ServiceLifecycle
import Store
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Carries this node's executor commands to the leader: proposed at once when this node
/// leads, otherwise queued in a bounded buffer (oldest dropped when full) that `run()` sends in
/// signed batches to the leader's `POST /v1/internal/commands`. Fire and forget: a batch that
/// fails is dropped, and the executor re-proposes reports it does not see applied.
final class CommandForwarding: CommandProposer, Service, Sendable {
    let config: ValidatedNodeConfig
    let capacity: Int
    let logger: Logger
    private let session: URLSession
    /// Set once at wiring time (the core's hooks need the executor, which needs us).
    private let coreBox = Mutex<NodeCore?>(nil)
    private let buffer = Mutex<[[UInt8]]>([])
    private let dropped = Mutex<Int>(0)
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(config: ValidatedNodeConfig, capacity: Int = 10_000, logger: Logger) {
        self.config = config
        self.capacity = capacity
        self.logger = logger
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 5
        self.session = URLSession(configuration: configuration)
        // One pending wakeup is enough: each wakeup drains the whole buffer.
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func attach(to core: NodeCore) { coreBox.withLock { $0 = core } }

    private var core: NodeCore? { coreBox.withLock { $0 } }

    /// Called from any thread, the driver thread included: never blocks.
    func propose(_ command: Command) {
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
              let url = URL(string: "http://\(address)/v1/internal/commands") else {
            note(dropping: batch.count, why: "no leader known")
            return
        }
        let body = CommandBatch.encode(batch)
        var request = URLRequest(url: url, timeoutInterval: 5)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        request.setValue(CommandBatch.sign(body, secret: config.secret), forHTTPHeaderField: CommandBatch.signatureHeader)
        do {
            let (_, response) = try await session.data(for: request)
            let code = (response as? HTTPURLResponse)?.statusCode ?? 0
            if code != 202 { note(dropping: batch.count, why: "leader answered \(code)") }
        } catch {
            note(dropping: batch.count, why: "\(error.localizedDescription)")
        }
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
