import Foundation
import Logging
import NIOCore
import Raft

/// What the driver applies committed entries to. Used only on the driver thread.
protocol ReplicatedStateMachine: AnyObject, SendableMetatype {
    associatedtype Output: Sendable
    /// The highest log index already applied (entries at or below it are skipped).
    var appliedIndex: UInt64 { get }
    /// Applies entries in order, in one transaction with the applied index; one output per entry.
    func apply(_ entries: [Entry]) throws -> [Output]
    /// Writes a snapshot of the applied state to a path and returns the index and term it holds.
    /// Runs on ANOTHER thread while `apply` goes on: it may only use its own resources.
    var snapshotWriter: @Sendable (String) throws -> (index: UInt64, term: UInt64) { get }
    /// Makes everything applied so far durable (before the log behind it is dropped).
    func makeDurable() throws
    /// The size of the state on disk (the log kept for slow followers grows with it).
    var storeBytes: UInt64 { get }
    /// Replaces the whole state with the snapshot file at `path`.
    func restore(from path: String) throws
    /// Writes out what `apply` holds back to share one commit among many batches: at once when
    /// `force`, else only once it has been held long enough (the machine decides).
    func flushApplied(force: Bool) throws
}

/// Errors a caller of the driver sees.
enum DriverError: Error, Sendable, Equatable {
    /// Not the leader; `leader` is who we believe leads.
    case notLeader(leader: NodeID?)
    /// Back-pressure or a transfer in progress: retry shortly.
    case busy(String)
    /// The proposal's slot in the log was taken by another leader's entry: it will never commit.
    case dropped
    /// This node stopped leading before the proposal committed: it may or may not commit.
    case leadershipLost
    /// The node is stopping or has failed.
    case stopped
}

/// Runs one Raft node on a dedicated event loop: ticks, steps messages, persists each batch of
/// effects in one storage transaction (group commit: every input that arrived while the last
/// batch was being written rides in the next one), sends, applies and answers waiters.
///
/// The loop is this node's own one-thread `EventLoopGroup`, shared with nothing but the peer
/// transport: the driver's sends are written to the peer sockets on the spot, and what the peers
/// send is stepped on the same thread, with no hand-off (two thread wake-ups fewer per message
/// on each side; it blocks in fsync, so no other work may run there).
///
/// Thread-safety: `inbox` and `turnScheduled` are guarded by `inboxLock`; every other stored
/// property is touched only on `eventLoop`, which is what makes `@unchecked Sendable` safe.
final class RaftDriver<Machine: ReplicatedStateMachine>: @unchecked Sendable {
    typealias Output = Machine.Output
    /// Called on the driver thread right after the proposal's entry is applied, with the
    /// machine, so a caller can read what it needs without another trip through the loop.
    typealias AppliedHandler = @Sendable (Machine, UInt64, Output) -> Void
    typealias FailedHandler = @Sendable (DriverError) -> Void
    typealias ReadBody = (Machine) -> Void

    private enum Input {
        case messages([Message])
        case unreachable(NodeID)
        case propose([UInt8], onApplied: AppliedHandler, onFailed: FailedHandler)
        case read(linearizable: Bool, fail: @Sendable (DriverError) -> Void, body: ReadBody)
        case readAt(index: UInt64, fail: @Sendable (DriverError) -> Void, body: ReadBody)
        case transfer(NodeID)
        case configurationChange(ConfigurationChange, onApplied: AppliedHandler, onFailed: FailedHandler)
        case snapshotTaken(SnapshotKeeper<Machine>.Taken)
        case stop
    }

    struct Timing: Sendable {
        var tick = Duration.milliseconds(10)
        var readTimeoutTicks: UInt64 = 500
    }

    private let inboxLock = NSLock()
    private var inbox: [Input] = []
    /// A turn is queued on the event loop and will take the inbox (guarded by `inboxLock`).
    private var turnScheduled = false
    let eventLoop: any EventLoop
    private var tickTask: RepeatedTask?
    private var nextTick = ContinuousClock.now
    /// The loop ended (stop or fail-stop); later turns do nothing.
    private var ended = false
    /// The role as of the last soft state the core reported (driver thread only).
    private var leading = false
    /// The log storage may hold compacted entries still to delete (true at start: a previous
    /// run may have stopped half-way).
    private var trimPending = true
    private var stopping = false

    private var raft: RaftNode
    private let storage: any LogStorage
    private let machine: Machine
    private let send: @Sendable ([Message]) -> Void
    private let onStatus: @Sendable (RaftStatus) -> Void
    private let onFatal: @Sendable (String) -> Void
    private let hooks: DriverHooks<Machine>
    private let snapshots: SnapshotKeeper<Machine>?
    /// Test-only fault injection before every persist (`FaultHooks`); nil in production.
    private let beforePersist: (() -> Void)?
    /// Proposal, commit, persist-latency and leader-change counts (nil in bare test drivers).
    private let metrics: NodeMetrics?
    private var lastLeader: NodeID?
    private let timing: Timing
    private var logger: Logger
    private var pendingProposals: [UInt64: (term: Term, onApplied: AppliedHandler, onFailed: FailedHandler)] = [:]
    /// Reads waiting for their ReadIndex round; a read whose round never completes (leadership
    /// lost, partition) fails after `readTimeoutTicks`.
    private var pendingReads: [UInt64: (deadline: UInt64, fail: @Sendable (DriverError) -> Void, body: ReadBody)] = [:]
    private var readsAwaitingApply: [(index: UInt64, deadline: UInt64, fail: @Sendable (DriverError) -> Void, body: ReadBody)] = []
    private var ticks: UInt64 = 0
    /// The term as of the last published status (every batch publishes it).
    private var currentTerm = Term.zero
    private var nextReadContext: UInt64 = 1
    private let finished = NSCondition()
    private var isFinished = false
    /// Where the current loop turn's time went (for the "slow driver turn" line).
    private var turnApply = Duration.zero
    private var turnPersist = Duration.zero
    /// A turn at least this long is logged with its parts: every write waits behind it.
    static var slowTurn: Duration { .milliseconds(25) }

    init(raft: RaftNode, storage: any LogStorage, machine: Machine, timing: Timing, logger: Logger,
         eventLoop: any EventLoop,
         send: @escaping @Sendable ([Message]) -> Void,
         onStatus: @escaping @Sendable (RaftStatus) -> Void,
         onFatal: @escaping @Sendable (String) -> Void,
         hooks: DriverHooks<Machine> = DriverHooks(),
         snapshots: SnapshotKeeper<Machine>? = nil,
         beforePersist: (() -> Void)? = nil,
         metrics: NodeMetrics? = nil) {
        self.beforePersist = beforePersist
        self.metrics = metrics
        self.hooks = hooks
        self.snapshots = snapshots
        self.raft = raft
        self.storage = storage
        self.machine = machine
        self.timing = timing
        self.logger = logger
        self.send = send
        self.onStatus = onStatus
        self.onFatal = onFatal
        self.eventLoop = eventLoop
    }

    func start() {
        eventLoop.execute { [self] in
            // For `top -H`, `perf` and stack dumps (NIO names its threads NIO-ELT-…).
            Thread.current.name = "raft-driver"
            publishStatus()
            nextTick = ContinuousClock.now.advanced(by: timing.tick)
            let every = TimeAmount.nanoseconds(Int64(timing.tick.seconds * 1e9))
            tickTask = eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { [weak self] _ in self?.runTurn() }
        }
    }

    /// Stops the loop and waits for it to finish its current batch.
    func stop() {
        enqueue(.stop)
        finished.lock()
        while !isFinished { finished.wait() }
        finished.unlock()
    }

    // MARK: inputs (any thread)

    func deliver(_ messages: [Message]) { enqueue(.messages(messages)) }
    func unreachable(_ peer: NodeID) { enqueue(.unreachable(peer)) }
    func transferLeadership(to target: NodeID) { enqueue(.transfer(target)) }

    /// Proposes a membership change; `onApplied` runs once its entry is applied (in force).
    func changeConfiguration(_ change: ConfigurationChange, onApplied: @escaping AppliedHandler,
                             onFailed: @escaping FailedHandler) {
        enqueue(.configurationChange(change, onApplied: onApplied, onFailed: onFailed), orFail: { onFailed(.stopped) })
    }

    func propose(_ data: [UInt8], onApplied: @escaping AppliedHandler, onFailed: @escaping FailedHandler) {
        enqueue(.propose(data, onApplied: onApplied, onFailed: onFailed), orFail: { onFailed(.stopped) })
    }

    /// Runs `body` on the driver thread against the applied state: after a ReadIndex round when
    /// `linearizable`, at once otherwise.
    func read<T: Sendable>(linearizable: Bool, _ body: @escaping @Sendable (Machine) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let fail: @Sendable (DriverError) -> Void = { continuation.resume(throwing: $0) }
            enqueue(.read(linearizable: linearizable, fail: fail, body: { machine in
                continuation.resume(with: Result { try body(machine) })
            }), orFail: { fail(.stopped) })
        }
    }

    /// Returns once this node has applied `index` (read-your-writes after a forwarded write).
    func waitApplied(_ index: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let fail: @Sendable (DriverError) -> Void = { continuation.resume(throwing: $0) }
            enqueue(.readAt(index: index, fail: fail, body: { _ in continuation.resume() }), orFail: { fail(.stopped) })
        }
    }

    private func enqueue(_ input: Input, orFail: (() -> Void)? = nil) {
        inboxLock.lock()
        if stopping {
            inboxLock.unlock()
            orFail?()
            return
        }
        inbox.append(input)
        if case .stop = input { stopping = true }
        let schedule = !turnScheduled
        turnScheduled = true
        inboxLock.unlock()
        // On the loop itself (peer input) this queues the turn behind the current task without
        // a wake-up; inputs that arrive before it runs share it.
        if schedule { eventLoop.execute { [self] in runTurn() } }
    }

    // MARK: the loop (driver thread only)

    private func runTurn() {
        eventLoop.preconditionInEventLoop()
        guard !ended else { return }
        inboxLock.lock()
        let inputs = inbox
        inbox.removeAll(keepingCapacity: true)
        turnScheduled = false
        inboxLock.unlock()
        if !turn(inputs) {
            ended = true
            tickTask?.cancel()
            finish()
        }
    }

    /// One turn: the inputs, the ticks that fell due, the effects, a due compaction. Returns
    /// false when the driver must stop.
    private func turn(_ inputs: [Input]) -> Bool {
        let clock = ContinuousClock()
        var running = true
        let turnStarted = clock.now
        turnApply = .zero
        turnPersist = .zero
        for input in inputs where running {
            running = handle(input)
        }
        let inputsDone = clock.now
        // Ticks that fell due (never more than a few at once after a stall: a long pause
        // must not fire a burst of elections).
        var due = 0
        while clock.now >= nextTick {
            if due < 3 { raft.tick() }
            due += 1
            // Wall-clock ticks (read deadlines, snapshot installs), even those the core skips.
            ticks += 1
            nextTick = nextTick.advanced(by: timing.tick)
        }
        if due > 0 {
            // An idle store still commits what the last batches left open.
            do {
                try machine.flushApplied(force: false)
            } catch {
                running = fatal("committing applied entries failed: \(error)")
            }
            expireReads()
            snapshots?.checkInstalls(raft: &raft, tick: ticks)
            // Compacted entries the storage left in place go a chunk per tick (a compaction
            // of a large interval at once stalled this thread for 100-250 ms).
            if trimPending && running {
                do {
                    trimPending = try storage.trimCompacted(maxEntries: SQLiteLogStorage.trimChunk)
                } catch {
                    running = fatal("trimming the compacted log failed: \(error)")
                }
            }
            // Before draining, so what the hook proposes goes out in this very batch.
            if running { hooks.onTick(machine, raft.status, proposeNow) }
        }
        let ticksDone = clock.now
        if running { running = drainEffects() }
        let drained = clock.now
        if running, let snapshots, snapshots.compactionDue {
            do {
                if try snapshots.compactIfDue(raft: &raft, storage: storage, machine: machine) { trimPending = true }
            } catch {
                running = fatal(error.description)
            }
        }
        let finished = clock.now
        if finished - turnStarted >= Self.slowTurn {
            let drain = drained - ticksDone
            logger.info("slow driver turn", metadata: [
                "ms": "\((finished - turnStarted).milliseconds)", "inputs": "\(inputs.count)",
                "inputsMs": "\((inputsDone - turnStarted).milliseconds)", "tickMs": "\((ticksDone - inputsDone).milliseconds)",
                "applyMs": "\(turnApply.milliseconds)", "persistMs": "\(turnPersist.milliseconds)",
                "restMs": "\((drain - turnApply - turnPersist).milliseconds)", "compactMs": "\((finished - drained).milliseconds)",
            ])
        }
        return running
    }

    private func finish() {
        failAllWaiters(.stopped)
        do {
            try machine.flushApplied(force: true)
        } catch {
            logger.error("committing applied entries at stop failed (the log replays them): \(error)")
        }
        finished.lock()
        isFinished = true
        finished.broadcast()
        finished.unlock()
    }

    /// Proposes on the driver thread itself (inputs, and hooks through `DriverHooks.onTick`).
    private func proposeNow(_ data: [UInt8], onApplied: @escaping AppliedHandler, onFailed: @escaping FailedHandler) {
        do {
            let range = try raft.propose([data])
            metrics?.proposals.increment()
            pendingProposals[range.lowerBound.rawValue] = (currentTerm, onApplied, onFailed)
        } catch {
            onFailed(Self.driverError(error))
        }
    }

    private func handle(_ input: Input) -> Bool {
        switch input {
        case .messages(let messages):
            for message in messages { raft.step(message) }
        case .unreachable(let peer):
            raft.reportUnreachable(peer)
        case .transfer(let target):
            raft.transferLeadership(to: target)
        case .configurationChange(let change, let onApplied, let onFailed):
            do {
                let index = try raft.proposeConfigurationChange(change)
                pendingProposals[index.rawValue] = (currentTerm, onApplied, onFailed)
            } catch {
                onFailed(Self.driverError(error))
            }
        case .snapshotTaken(let taken):
            do {
                // InstallSnapshot messages that waited for this file.
                if let ready = try snapshots?.finish(taken, raft: raft, tick: ticks), !ready.isEmpty { send(ready) }
            } catch {
                return fatal(error.description)
            }
        case .propose(let data, let onApplied, let onFailed):
            proposeNow(data, onApplied: onApplied, onFailed: onFailed)
        case .read(let linearizable, let fail, let body):
            if linearizable {
                let context = nextReadContext
                nextReadContext += 1
                do {
                    try raft.readIndex(context: Self.bytes(context))
                    pendingReads[context] = (ticks + timing.readTimeoutTicks, fail, body)
                } catch {
                    fail(Self.driverError(error))
                }
            } else {
                body(machine)
            }
        case .readAt(let index, let fail, let body):
            if index <= machine.appliedIndex {
                body(machine)
            } else {
                readsAwaitingApply.append((index, ticks + timing.readTimeoutTicks, fail, body))
            }
        case .stop:
            return false
        }
        return true
    }

    /// Executes every batch the core has, in the order `Effects` prescribes.
    private func drainEffects() -> Bool {
        while let effects = raft.takeEffects() {
            if !sendOut(effects.messages) { return false }
            if let snapshot = effects.snapshot {
                // The fetcher delivered the install message only once the file was downloaded
                // and verified; the store is replaced before anything after it is applied.
                guard let snapshots else { return fatal("received a snapshot to install, but snapshots are off") }
                do {
                    try snapshots.install(snapshot, storage: storage, machine: machine)
                } catch {
                    return fatal(error.description)
                }
            }
            // Committed entries are durable here already (the core hands out only entries at or
            // below the last acknowledged persist). A leader applies and answers them before
            // this batch's own fsync: a client waits for one fsync round, not two. A follower
            // persists and acknowledges first: its acknowledgement is what the leader's client
            // waits for, and its own apply answers nobody (a forwarded write's answer waits for
            // the leader anyway), so apply time stays off the commit path.
            if let soft = effects.softState { leading = soft.role == .leader }
            let applyFirst = leading
            if applyFirst && !effects.committedEntries.isEmpty && !timedApply(effects.committedEntries) { return false }
            if effects.hardState != nil || !effects.entries.isEmpty {
                beforePersist?()
                let started = ContinuousClock.now
                do {
                    try storage.save(hardState: effects.hardState, entries: effects.entries)
                } catch {
                    return fatal("log storage failed: \(error)")
                }
                let persisted = ContinuousClock.now - started
                turnPersist += persisted
                metrics?.persistLatency.record(duration: persisted)
            }
            if !sendOut(effects.messagesAfterPersist) { return false }
            if !applyFirst && !effects.committedEntries.isEmpty && !timedApply(effects.committedEntries) { return false }
            for state in effects.readStates { readReady(state) }
            raft.acknowledge(effects.number)
            if let soft = effects.softState, soft.role != .leader, !pendingProposals.isEmpty {
                for pending in pendingProposals.values { pending.onFailed(.leadershipLost) }
                pendingProposals.removeAll()
            }
            if let soft = effects.softState, soft.leader != lastLeader {
                lastLeader = soft.leader
                if soft.leader != nil { metrics?.leaderChanges.increment() }
            }
            if effects.softState != nil {
                logger.info("raft role changed", metadata: [
                    "role": "\(effects.softState?.role.rawValue ?? "?")",
                    "leader": "\(effects.softState?.leader.map { "\($0)" } ?? "none")",
                    "term": "\(raft.status.term.rawValue)",
                ])
            }
            publishStatus()
        }
        return true
    }

    /// Sends a batch; InstallSnapshot messages go through the keeper, which names a snapshot
    /// file in them or holds them until one is written.
    private func sendOut(_ messages: [Message]) -> Bool {
        guard let snapshots else {
            send(messages)
            return true
        }
        do {
            send(try snapshots.outgoing(messages, raft: raft, machine: machine, tick: ticks) { [weak self] taken in
                self?.enqueue(.snapshotTaken(taken))
            })
            return true
        } catch {
            return fatal("committing applied entries before a snapshot failed: \(error)")
        }
    }

    private func timedApply(_ entries: [Entry]) -> Bool {
        let started = ContinuousClock.now
        defer { turnApply += ContinuousClock.now - started }
        return apply(entries)
    }

    private func apply(_ entries: [Entry]) -> Bool {
        let fresh = entries.filter { $0.index.rawValue > machine.appliedIndex }
        if !fresh.isEmpty {
            let outputs: [Output]
            do {
                outputs = try machine.apply(fresh)
            } catch {
                return fatal("apply failed at index \(fresh[0].index.rawValue): \(error)")
            }
            precondition(outputs.count == fresh.count, "state machine returned \(outputs.count) outputs for \(fresh.count) entries")
            do {
                try machine.flushApplied(force: false)
            } catch {
                return fatal("committing applied entries failed: \(error)")
            }
            metrics?.committedEntries.increment(by: fresh.count)
            for (entry, output) in zip(fresh, outputs) {
                guard let pending = pendingProposals.removeValue(forKey: entry.index.rawValue) else { continue }
                if pending.term == entry.term {
                    pending.onApplied(machine, entry.index.rawValue, output)
                } else {
                    pending.onFailed(.dropped)
                }
            }
            hooks.afterApply(machine)
            snapshots?.noteApplied(fresh, machine: machine)
        }
        // Proposals whose index was skipped (already applied before a restart) cannot be ours.
        let applied = machine.appliedIndex
        readsAwaitingApply.removeAll { waiting in
            guard waiting.index <= applied else { return false }
            waiting.body(machine)
            return true
        }
        return true
    }

    private func readReady(_ state: ReadState) {
        guard let context = Self.integer(state.context), let pending = pendingReads.removeValue(forKey: context) else { return }
        if state.index.rawValue <= machine.appliedIndex {
            pending.body(machine)
        } else {
            readsAwaitingApply.append((state.index.rawValue, pending.deadline, pending.fail, pending.body))
        }
    }

    private func expireReads() {
        let now = ticks
        for (context, pending) in pendingReads where pending.deadline <= now {
            pendingReads[context] = nil
            pending.fail(.busy("read not confirmed in time (leadership may be moving)"))
        }
        readsAwaitingApply.removeAll { waiting in
            guard waiting.deadline <= now else { return false }
            waiting.fail(.busy("this node has not caught up in time"))
            return true
        }
    }

    private func publishStatus() {
        let status = raft.status
        currentTerm = status.term
        onStatus(status)
    }

    private func fatal(_ reason: String) -> Bool {
        logger.critical("stopping: \(reason)")
        failAllWaiters(.stopped)
        onFatal(reason)
        return false
    }

    private func failAllWaiters(_ error: DriverError) {
        for pending in pendingProposals.values { pending.onFailed(error) }
        pendingProposals.removeAll()
        for pending in pendingReads.values { pending.fail(error) }
        pendingReads.removeAll()
        for waiting in readsAwaitingApply { waiting.fail(error) }
        readsAwaitingApply.removeAll()
        inboxLock.lock()
        let leftovers = inbox
        inbox.removeAll()
        stopping = true
        inboxLock.unlock()
        for input in leftovers {
            switch input {
            case .propose(_, _, let onFailed), .configurationChange(_, _, let onFailed): onFailed(error)
            case .read(_, let fail, _), .readAt(_, let fail, _): fail(error)
            default: break
            }
        }
    }

    static func driverError(_ error: ProposalError) -> DriverError {
        switch error {
        case .notLeader(let leader): .notLeader(leader: leader)
        case .transferInProgress: .busy("leadership transfer in progress")
        case .tooManyUncommitted: .busy("too many uncommitted entries")
        case .configurationChangePending: .busy("a membership change is pending")
        }
    }

    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    static func integer(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
