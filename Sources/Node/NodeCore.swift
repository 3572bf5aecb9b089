import Foundation
import Logging
import NIOCore
import NIOPosix
import Raft
import ServiceLifecycle
import Store
import Synchronization

/// The running node minus HTTP: durable Raft log, state store, peer transport and the driver
/// thread. A `Service`: starts in `run()`, stops on graceful shutdown.
public final class NodeCore: Service, Sendable {
    public let config: ValidatedNodeConfig
    let logger: Logger
    let group: any EventLoopGroup
    /// Times out the writes that API handlers wait on (one timer for all of them).
    let writeDeadlines: DeadlineSweeper
    /// http task targets the allow-list passed (see `AcceptedTargets`).
    let acceptedTargets = AcceptedTargets()
    /// The scheduler and executor hooks run on the driver thread (nil: a bare Raft + store node).
    let scheduling: NodeScheduling?
    /// This node's snapshot files (`<dataDir>/snapshots`), served to followers by the API.
    let snapshotFiles: SnapshotFiles
    /// This node's metrics (its own registry: several nodes may share a process in tests).
    public let metrics: NodeMetrics
    /// Which index last changed each watched resource; wakes long polls after apply.
    let changes = ChangeTracker()
    /// The term every log line carries (nil: a logger without the provider, in tests).
    let logContext: LogContext?
    private let state = Mutex<Running?>(nil)
    private let latestStatus = Mutex<RaftStatus?>(nil)
    private let started = Mutex<[CheckedContinuation<Void, any Error>]?>([])

    struct Running: @unchecked Sendable {
        // Both are Sendable classes; the tuple is only swapped under the mutex.
        let driver: RaftDriver<StoreMachine>
        let transport: PeerTransport
        let raftLoop: MultiThreadedEventLoopGroup
    }

    public convenience init(config: ValidatedNodeConfig, logger: Logger,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.init(config: config, logger: logger, group: group, scheduling: nil)
    }

    init(config: ValidatedNodeConfig, logger: Logger, group: any EventLoopGroup, scheduling: NodeScheduling?,
         metrics: NodeMetrics = NodeMetrics(), logContext: LogContext? = nil) {
        self.logContext = logContext
        self.config = config
        self.metrics = metrics
        self.scheduling = scheduling
        self.logger = logger
        self.group = group
        writeDeadlines = DeadlineSweeper(eventLoop: group.next())
        snapshotFiles = SnapshotFiles(dataDir: URL(fileURLWithPath: config.config.dataDir))
    }

    public func run() async throws {
        let running: Running
        do {
            running = try await start()
        } catch {
            resumeStartWaiters(with: error)
            throw error
        }
        resumeStartWaiters(with: nil)
        try? await gracefulShutdown()
        logger.info("stopping")
        running.driver.stop()
        await running.transport.shutdown()
        try? await running.raftLoop.shutdownGracefully()
        state.withLock { $0 = nil }
    }

    /// Waits until the node has opened its storage and bound its peer port.
    func waitUntilStarted() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let resumeNow = started.withLock { waiters -> Bool in
                guard waiters != nil else { return true }
                waiters?.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func resumeStartWaiters(with error: (any Error)?) {
        let waiters = started.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    private func start() async throws -> Running {
        let dataDir = URL(fileURLWithPath: config.config.dataDir)
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        try DataDirLock.acquire(dataDir.appendingPathComponent("LOCK").path)
        let storage = try SQLiteLogStorage(path: dataDir.appendingPathComponent("raft.db").path, nodeID: config.id)
        let persistent = try storage.load()
        let store = try StateStore(path: dataDir.appendingPathComponent("state.db").path)
        store.deferCommits = true
        try snapshotFiles.prepare()
        snapshotFiles.removeLeftovers()
        try recoverStore(store, persistent: persistent)
        // WAL checkpoints (copy + fsync) off the driver thread, which commits the store.
        try store.checkpointInBackground()
        changes.start(at: store.appliedIndex)
        // Used only by a brand-new node: a log or snapshot carries the configuration after that.
        let voters = Set((config.config.initialVoters ?? config.config.members.map(\.id)).map { NodeID($0) })
        let raftConfig = RaftConfig(
            id: config.id, electionTimeoutTicks: config.config.electionTicks,
            heartbeatIntervalTicks: config.config.heartbeatTicks, preVote: true, checkQuorum: true)
        var seed = SystemRandomNumberGenerator()
        let raft = RaftNode(config: raftConfig, configuration: Configuration(voters: voters), state: persistent,
                            randomSeed: seed.next())
        logger.info("starting", metadata: [
            "term": "\(persistent.hardState.term.rawValue)", "lastIndex": "\(persistent.entries.last?.index.rawValue ?? 0)",
            "applied": "\(store.appliedIndex)", "malloc": "\(Allocator.name)",
        ])

        let fetcher = SnapshotFetcher(files: snapshotFiles, secret: config.secret, apiAddresses: config.apiAddresses,
                                      logger: logger, tls: config.tls)
        let sink = DriverSink(fetcher: fetcher)
        // The Raft driver and the peer connections share one thread of their own (see RaftDriver).
        let raftLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport = PeerTransport(selfID: config.id, listen: config.peerListen, peers: config.peers,
                                      secret: config.secret, group: raftLoop, sink: sink, logger: logger, tls: config.tls)
        let logger = logger
        let driver = RaftDriver(
            raft: raft, storage: storage, machine: StoreMachine(store: store, observer: ApplyObserver(changes: changes, metrics: metrics)),
            timing: .init(tick: .milliseconds(config.config.tickMs)), logger: logger, eventLoop: raftLoop.next(),
            send: { transport.send($0) },
            onStatus: { [weak self] status in
                self?.latestStatus.withLock { $0 = status }
                self?.logContext?.term.store(status.term.rawValue, ordering: .relaxed)
            },
            onFatal: { reason in
                logger.critical("fail-stop: \(reason)")
                exit(70)
            },
            hooks: scheduling?.hooks ?? DriverHooks(),
            snapshots: SnapshotKeeper(
                files: snapshotFiles,
                policy: .staggered(entries: UInt64(config.config.snapshotEntries), bytes: UInt64(config.config.snapshotBytes),
                                   growth: config.config.snapshotGrowth, node: config.id.rawValue),
                logger: logger),
            beforePersist: config.config.testFaultHooks ? FaultHooks(dataDir: config.config.dataDir).beforePersist : nil,
            metrics: metrics)
        sink.driver.withLock { $0 = driver }
        driver.start()
        do {
            try await transport.start()
        } catch {
            driver.stop()
            await transport.shutdown()
            try? await raftLoop.shutdownGracefully()
            throw error
        }
        let running = Running(driver: driver, transport: transport, raftLoop: raftLoop)
        state.withLock { $0 = running }
        return running
    }

    var driver: RaftDriver<StoreMachine>? { state.withLock { $0?.driver } }
    var transport: PeerTransport? { state.withLock { $0?.transport } }

    /// The store must hold at least everything the log no longer has. It commits without fsync,
    /// so after an OS crash it can be behind the log's snapshot (the node syncs it before every
    /// compaction, so this needs a lost or replaced state.db): then it is rebuilt from the
    /// newest intact snapshot file that the log continues, and the log after it is replayed.
    private func recoverStore(_ store: StateStore, persistent: PersistentState) throws {
        guard let base = persistent.snapshot, store.appliedIndex < base.index.rawValue else { return }
        let entryTerms = Dictionary(persistent.entries.map { ($0.index.rawValue, $0.term.rawValue) }, uniquingKeysWith: { $1 })
        let usable = snapshotFiles.list().first { meta in
            let continues = (meta.index == base.index.rawValue && meta.term == base.term.rawValue)
                || entryTerms[meta.index] == meta.term
            return continues && snapshotFiles.verify(meta)
        }
        guard let usable else {
            throw NodeConfigError.invalid(
                "state.db is at index \(store.appliedIndex) but the Raft log starts after \(base.index.rawValue), "
                + "and no intact snapshot file continues the log: stop this node, delete \(config.config.dataDir) "
                + "and start it again to rejoin the cluster from the leader's snapshot")
        }
        logger.warning("rebuilding the store from a snapshot", metadata: [
            "storeApplied": "\(store.appliedIndex)", "snapshot": "\(usable.name)",
        ])
        try store.restore(from: snapshotFiles.dataPath(index: usable.index, term: usable.term))
    }

    /// The Raft status as of the driver's last batch.
    public var status: RaftStatus? { latestStatus.withLock { $0 } }

    /// Role and term alone: what every write checks, without copying (retaining and releasing)
    /// the membership and match indexes `status` carries (4% of the leader's handler threads
    /// at 64 clients).
    var roleAndTerm: (role: Role, term: Term)? { latestStatus.withLock { $0.map { ($0.role, $0.term) } } }
}

/// Routes what the transport receives into the driver (set once the driver exists).
final class DriverSink: PeerMessageSink {
    let driver = Mutex<RaftDriver<StoreMachine>?>(nil)
    let fetcher: SnapshotFetcher

    init(fetcher: SnapshotFetcher) { self.fetcher = fetcher }

    /// Snapshot installs wait for their file (`SnapshotFetcher`); everything else goes on at once.
    func deliver(_ messages: [Message]) {
        let others = fetcher.intercept(messages) { [weak self] ready in self?.deliverNow(ready) }
        if !others.isEmpty { deliverNow(others) }
    }

    private func deliverNow(_ messages: [Message]) { driver.withLock { $0 }?.deliver(messages) }
    func unreachable(_ peer: NodeID) { driver.withLock { $0 }?.unreachable(peer) }
}

/// An exclusive `flock` on the data directory's LOCK file for the life of the process, so two
/// nodes can never write the same Raft log and store (the kernel drops it when the process dies).
enum DataDirLock {
    static func acquire(_ path: String) throws {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NodeConfigError.invalid("cannot open \(path): errno \(errno)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw NodeConfigError.invalid("data directory is in use by another process (\(path) is locked)")
        }
        // Deliberately never closed: the lock lives as long as the process.
    }
}
