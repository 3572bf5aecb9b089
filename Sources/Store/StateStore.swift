import Foundation
import SQLite

/// One committed Raft entry as the store sees it: opaque bytes at a log index.
public struct LogEntry: Sendable, Equatable {
    public var index: UInt64
    public var term: UInt64?
    /// A `Command.encoded()`; empty for the leader's no-op entry.
    public var data: [UInt8]

    public init(index: UInt64, term: UInt64? = nil, data: [UInt8]) {
        self.index = index
        self.term = term
        self.data = data
    }
}

/// What applying one entry did, so the node that proposed it can answer its client.
public enum ApplyOutcome: Sendable, Codable, Equatable {
    /// A state change with nothing to report.
    case ok
    /// A task, job, queue or schedule was created; carries its id. An idempotent replay
    /// returns the first outcome unchanged.
    case created(id: String)
    /// `assignTask`: the lease's fencing token (the entry's log index).
    case assigned(fence: UInt64)
    /// `failTask` / expiry: retried at `scheduleTimeMs`, or dead when nil.
    case failed(retryAtMs: Milliseconds?)
    /// Batch commands: how many items changed and how many were rejected (stale fences).
    case counted(changed: Int, rejected: Int)
    /// The command was valid but the state refused it; nothing changed but the applied index.
    case rejected(Rejection)
    /// Raft's empty leader entry.
    case noop
    /// The entry's index is at or below the applied index: nothing was done.
    case alreadyApplied
}

public struct ApplyResult: Sendable, Equatable {
    public var index: UInt64
    public var outcome: ApplyOutcome
}

/// The replicated state machine over one SQLite database.
///
/// Not `Sendable`: one owner (the node's apply loop) uses it; queries from other threads
/// open their own read connections. Apply is deterministic: it reads only the entry and the
/// database, never a clock, random source or the network.
public final class StateStore {
    public let path: String
    let synchronous: Connection.Synchronous
    /// A new connection (open, restore) holds other rows: the queue cache goes with the old one.
    var db: Connection {
        didSet { queueCache.removeAll() }
    }
    /// `queueInfo` answers for queues that exist, by name: every create reads its queue, and
    /// the SELECT was ~6% of a follower's CPU at 10,000 creates/s. Dropped whole on every write
    /// to `queues` (`queuesChanged()`) and on every rollback, so it never holds a row that the
    /// database does not (a write undone by a savepoint or batch rollback included).
    var queueCache: [String: QueueInfo] = [:]
    /// Cached copy of meta.applied_index; only changed together with a committed write.
    public internal(set) var appliedIndex: UInt64
    public internal(set) var appliedTerm: UInt64
    /// When true, `apply` leaves its transaction open after each batch, and the owner commits
    /// with `commitPending()` every few dozen milliseconds: many apply batches then share one
    /// SQLite commit, so pages that every batch touches (the right edge of each index, the
    /// counts, meta) reach the WAL once per commit instead of once per batch. Safe because the
    /// store is never the durable record: the Raft log is, and after a crash the entries of an
    /// uncommitted transaction are applied again from it. A batch is still all-or-nothing
    /// (a savepoint inside the open transaction).
    public var deferCommits = false
    /// When the open transaction began (nil: none open).
    var openTransaction: ContinuousClock.Instant?
    /// Set by `checkpointInBackground`: WAL checkpoints run on its thread.
    var checkpointer: BackgroundCheckpointer?
    var uncommittedEntries = 0
    /// Per-(queue, state) count deltas of the open batch, written by `flushCounts()` before
    /// COMMIT. Never read inside apply.
    var pendingCounts: [CountKey: Int64] = [:]
    /// The wire-format version of the entry being applied: behaviour added in a later version
    /// (attempt history, version 2) is skipped for older entries, so every build replays an
    /// old log to the same state.
    var entryVersion = Command.version
    let decoder = JSONDecoder()
    let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// How long an idempotency key remembers its first outcome. A constant of the command
    /// format: changing it changes how old entries replay, so it moves with `Command.version`.
    public static let idempotencyWindowMs: Milliseconds = 24 * 3_600_000

    /// Opens (creating if needed) the store at `path`, or a private one at ":memory:".
    /// `synchronous` defaults to NORMAL: the Raft log is the durable record and the store can
    /// be rebuilt from it; NORMAL in WAL mode survives a process crash.
    public init(path: String, synchronous: Connection.Synchronous = .normal) throws(StoreError) {
        self.path = path
        self.synchronous = synchronous
        db = try Self.open(path: path, synchronous: synchronous)
        (appliedIndex, appliedTerm) = try Self.readApplied(db)
    }

    static func open(path: String, synchronous: Connection.Synchronous) throws(StoreError) -> Connection {
        let connection: Connection
        do {
            connection = try Connection(path: path, options: .init(wal: true, synchronous: synchronous))
            try connection.execute("PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536")
        } catch {
            throw StoreError(error)
        }
        try prepareSchema(connection)
        return connection
    }

    static func readApplied(_ db: Connection) throws(StoreError) -> (UInt64, UInt64) {
        do {
            let statement = try db.cached("SELECT applied_index, applied_term FROM meta WHERE id = 1")
            defer { statement.reset() }
            guard try statement.step() else { throw StoreError.invalidSnapshot("meta row missing") }
            let index = statement.int64(0)
            let term = statement.int64(1)
            guard index >= 0, term >= 0 else { throw StoreError.invalidSnapshot("negative applied index or term") }
            return (UInt64(index), UInt64(term))
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// Closes the database (committing what `deferCommits` left open). The store must not be
    /// used afterwards.
    public func close() {
        try? commitPending()
        checkpointer?.stop()
        checkpointer = nil
        db.close()
    }

    deinit {
        checkpointer?.stop()
    }

    /// Commits the transaction that `deferCommits` keeps open, if any. Every path that needs
    /// the applied state in the FILE (a snapshot, a checkpoint, a restore, close) calls it.
    public func commitPending() throws(StoreError) {
        guard openTransaction != nil else { return }
        do {
            try db.cached("COMMIT").step0()
        } catch {
            // A failed COMMIT may have rolled the transaction back.
            queueCache.removeAll()
            throw StoreError.wrap(error)
        }
        openTransaction = nil
        uncommittedEntries = 0
    }

    /// How many applied entries `deferCommits` holds in the open transaction, and since when.
    public var uncommitted: (entries: Int, since: ContinuousClock.Instant)? {
        openTransaction.map { (uncommittedEntries, $0) }
    }

    // MARK: Apply

    /// Applies one committed entry in its own transaction.
    public func apply(index: UInt64, term: UInt64? = nil, data: [UInt8]) throws(StoreError) -> ApplyResult {
        let results = try apply(entries: [LogEntry(index: index, term: term, data: data)])
        return results[0]
    }

    /// Applies committed entries in ONE transaction together with the new applied index: after
    /// a crash the store holds either all of them or none. Entries at or below the applied
    /// index are skipped (`.alreadyApplied`). A thrown error rolls back the whole batch.
    public func apply(entries: [LogEntry]) throws(StoreError) -> [ApplyResult] {
        try apply(entries: entries, afterEach: nil)
    }

    /// `apply(entries:)` for a caller that already decoded the entries
    /// (`Command.decodeVersioned`; nil where it did not or could not): each is decoded once.
    public func apply(entries: [LogEntry], decoded: [(command: Command, version: Int)?]) throws(StoreError) -> [ApplyResult] {
        precondition(decoded.count == entries.count, "one decoded command (or nil) per entry")
        return try apply(entries: entries, decoded: decoded, afterEach: nil)
    }

    /// `afterEach` is a test hook (crash simulation): called after each entry, inside the
    /// transaction; throwing from it aborts the batch.
    func apply(entries: [LogEntry], decoded: [(command: Command, version: Int)?]? = nil,
               afterEach: ((Int) throws -> Void)?) throws(StoreError) -> [ApplyResult] {
        var results: [ApplyResult] = []
        results.reserveCapacity(entries.count)
        let startIndex = appliedIndex
        let startTerm = appliedTerm
        do {
            if openTransaction == nil {
                try db.cached("BEGIN IMMEDIATE").step0()
                openTransaction = .now
            }
            try db.cached("SAVEPOINT batch").step0()
        } catch {
            throw StoreError.wrap(error)
        }
        do {
            for (offset, entry) in entries.enumerated() {
                results.append(ApplyResult(index: entry.index, outcome: try applyOne(entry, decoded: decoded?[offset])))
                try afterEach?(offset)
            }
            try flushCounts()
            if appliedIndex != startIndex || appliedTerm != startTerm {
                try db.run("UPDATE meta SET applied_index = ?, applied_term = ? WHERE id = 1",
                           [.integer(Int64(appliedIndex)), .integer(Int64(appliedTerm))])
            }
            try db.cached("RELEASE batch").step0()
            uncommittedEntries += entries.count
        } catch {
            // Only this batch is undone; batches before it stay in the open transaction.
            try? db.execute("ROLLBACK TO batch; RELEASE batch")
            queueCache.removeAll()
            pendingCounts.removeAll()
            appliedIndex = startIndex
            appliedTerm = startTerm
            if !deferCommits { try? commitPending() }
            throw StoreError.wrap(error)
        }
        if !deferCommits { try commitPending() }
        return results
    }

    private func applyOne(_ entry: LogEntry, decoded: (command: Command, version: Int)?) throws -> ApplyOutcome {
        guard entry.index > appliedIndex else { return .alreadyApplied }
        // An entry index fits Int64 in SQLite; larger would be a broken log, not client input.
        guard entry.index <= UInt64(Int64.max) else {
            throw StoreError.malformedEntry(index: entry.index, reason: "log index beyond Int64.max")
        }
        var outcome = ApplyOutcome.noop
        if !entry.data.isEmpty {
            let (command, version) = try decoded ?? Command.decodeVersioned(entry.data, index: entry.index)
            entryVersion = version
            outcome = try execute(command, index: entry.index)
        }
        appliedIndex = entry.index
        if let term = entry.term, term <= UInt64(Int64.max) { appliedTerm = term }
        return outcome
    }

    /// Runs one command inside a savepoint, so a rejection raised half-way leaves no trace.
    /// The hot lease commands skip it: their handlers decide every rejection before the
    /// first write (keep it so when editing them).
    private func execute(_ command: Command, index: UInt64) throws -> ApplyOutcome {
        if command.rejectsBeforeWriting {
            do {
                return try dispatch(command, index: index)
            } catch let rejection as Rejection {
                if rejection == .staleFence { try bumpCounter(Self.staleFenceCounter) }
                return .rejected(rejection)
            }
        }
        let countsBefore = pendingCounts
        try db.cached("SAVEPOINT cmd").step0()
        do {
            let outcome = try dispatch(command, index: index)
            try db.cached("RELEASE cmd").step0()
            return outcome
        } catch let rejection as Rejection {
            try db.cached("ROLLBACK TO cmd").step0()
            queueCache.removeAll()
            pendingCounts = countsBefore
            if rejection == .staleFence { try bumpCounter(Self.staleFenceCounter) }
            try db.cached("RELEASE cmd").step0()
            return .rejected(rejection)
        }
    }

    private func dispatch(_ command: Command, index: UInt64) throws -> ApplyOutcome {
        switch command {
        case .createQueue(let spec): return try createQueue(spec)
        case .updateQueue(let spec): return try updateQueue(spec)
        case .deleteQueue(let name, let now): return try deleteQueue(name, nowMs: now)
        case .pauseQueue(let name): return try setQueueState(name, .paused)
        case .resumeQueue(let name): return try setQueueState(name, .running)
        case .disableQueue(let name): return try setQueueState(name, .disabled)
        case .purgeQueue(let name, let now): return try purgeQueue(name, nowMs: now)
        case .createTask(let spec): return try createTaskIdempotent(spec)
        case .deleteTask(let id, let now): return try deleteTask(id, nowMs: now)
        case .cancelTask(let id, let now): return try cancelTask(id, nowMs: now)
        case .runTask(let id, let now): return try runTask(id, nowMs: now)
        case .assignTask(let id, let executor, let until, let now):
            return try assignTask(id, executorID: executor, leaseUntilMs: until, nowMs: now, fence: index)
        case .startTask(let id, let fence, let now): return try startTask(id, fence: fence, nowMs: now)
        case .renewLeases(let executor, let leases, let until, _):
            return try renewLeases(executorID: executor, leases: leases, leaseUntilMs: until)
        case .completeTask(let id, let fence, let result, let counters, let now):
            return try completeTask(id, fence: fence, result: result, counters: counters, nowMs: now)
        case .failTask(let id, let fence, let error, let now): return try failTask(id, fence: fence, error: error, nowMs: now)
        case .expireLeases(let now, let limit): return try expireLeases(nowMs: now, limit: limit)
        case .redriveDeadTask(let id, let now): return try redriveDeadTask(id, nowMs: now)
        case .createJob(let spec): return try createJobIdempotent(spec)
        case .updateJobProgress(let id, let counters, _): return try updateJobProgress(id, counters: counters)
        case .cancelJob(let id, let now): return try cancelJob(id, nowMs: now)
        case .finishJob(let id, let failed, let error, let now): return try finishJob(id, failed: failed, error: error, nowMs: now)
        case .launchJob(let id, let fence, let job, let queue, let now):
            return try launchJob(id, fence: fence, job: job, jobsQueue: queue, nowMs: now)
        case .putJobPreset(let spec): return try putJobPreset(spec)
        case .deleteJobPreset(let name): return try deleteJobPreset(name)
        case .registerExecutor(let id, let node, let slots, let now): return try registerExecutor(id, node: node, slots: slots, nowMs: now)
        case .executorHeartbeat(let id, let now): return try executorHeartbeat(id, nowMs: now)
        case .createSchedule(let spec): return try createSchedule(spec)
        case .updateSchedule(let spec): return try updateSchedule(spec)
        case .deleteSchedule(let id): return try deleteSchedule(id)
        case .recordScheduleFire(let id, let fireTime, let taskID, let now):
            return try recordScheduleFire(id, fireTimeMs: fireTime, taskID: taskID, nowMs: now)
        case .collectGarbage(let now, let limit): return try collectGarbage(nowMs: now, limit: limit)
        }
    }

    /// Adds `delta` to a deterministic event counter.
    func bumpCounter(_ name: String, by delta: Int64 = 1) throws {
        try db.run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                   [.text(name), .integer(delta)])
    }
}

extension Command {
    /// Commands whose handlers throw every `Rejection` before their first write, so they
    /// need no savepoint (a measurable share of apply time for the hot path).
    var rejectsBeforeWriting: Bool {
        switch self {
        case .assignTask, .startTask, .completeTask, .failTask, .renewLeases, .expireLeases,
             .executorHeartbeat, .registerExecutor:
            return true
        case .createTask(let spec):
            return spec.idempotencyKey == nil
        default:
            return false
        }
    }
}

extension Statement {
    /// Steps a statement that returns no rows, then resets it.
    func step0() throws(SQLiteError) {
        defer { reset() }
        while try step() {}
    }
}
