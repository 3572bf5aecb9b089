import Foundation
import SQLite

/// Checkpoints the store's WAL from a thread of its own, so that the thread applying entries
/// never does. SQLite's automatic checkpoint runs inside the COMMIT that grows the WAL past 1,000
/// pages: it copies those pages into the database file and fsyncs it (`synchronous=NORMAL`),
/// 15-35 ms under load, and the Raft driver thread, which commits the store, stood still for
/// it; on the leader every waiting client did too.
///
/// Here the main connection's automatic checkpoint is off and this thread runs a PASSIVE
/// checkpoint (it never blocks the writer or readers) every `interval` on its own connection,
/// with the same `synchronous` setting, so the same fsyncs happen off the critical path.
/// Every other checkpoint of the store (`makeDurable`, `restore`) and `close` first pause it
/// (`paused`), so they never find the checkpoint lock taken and never leave it a connection to
/// a file they replace.
final class BackgroundCheckpointer: @unchecked Sendable {
    private let path: String
    private let synchronous: Connection.Synchronous
    private let interval: TimeInterval
    /// Guards everything below; held for each checkpoint, so `paused` waits one out.
    private let lock = NSCondition()
    private var connection: Connection?
    private var pausedDepth = 0
    private var stopped = false
    /// Checkpoints run and failures seen (read through `stats`, under the lock).
    private var checkpoints = 0
    private var failures = 0

    init(path: String, synchronous: Connection.Synchronous, interval: TimeInterval = 0.05) {
        self.path = path
        self.synchronous = synchronous
        self.interval = interval
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "store-checkpoint"
        thread.start()
    }

    private func run() {
        lock.lock()
        defer { lock.unlock() }
        while !stopped {
            _ = lock.wait(until: Date(timeIntervalSinceNow: interval))
            guard !stopped, pausedDepth == 0 else { continue }
            do {
                if connection == nil {
                    // wal: false — the file is in WAL mode already; this connection only joins.
                    connection = try Connection(path: path, options: .init(create: false, wal: false, synchronous: synchronous))
                }
                try connection?.execute("PRAGMA wal_checkpoint(PASSIVE)")
                checkpoints += 1
            } catch {
                // A failed checkpoint only lets the WAL grow until the next one; the main
                // connection's own checkpoints (makeDurable, restore, close) still run.
                failures += 1
                connection?.close()
                connection = nil
            }
        }
        connection?.close()
        connection = nil
    }

    /// Runs `body` with no background checkpoint running or starting, and this thread's
    /// connection closed (it reopens afterwards).
    func paused<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        pausedDepth += 1
        connection?.close()
        connection = nil
        lock.unlock()
        defer {
            lock.lock()
            pausedDepth -= 1
            lock.unlock()
        }
        return try body()
    }

    /// Stops the thread (it closes its connection first); for `close` and deinit.
    func stop() {
        lock.lock()
        stopped = true
        connection?.close()
        connection = nil
        lock.broadcast()
        lock.unlock()
    }

    var stats: (checkpoints: Int, failures: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (checkpoints, failures)
    }
}

extension StateStore {
    /// Moves the store's WAL checkpoints to a `BackgroundCheckpointer` thread (the node does this;
    /// tests and tools keep SQLite's automatic checkpoint). Idempotent.
    public func checkpointInBackground(interval: TimeInterval = 0.05) throws(StoreError) {
        guard checkpointer == nil, path != ":memory:" else { return }
        do {
            try db.execute("PRAGMA wal_autocheckpoint=0")
        } catch {
            throw StoreError(error)
        }
        let checkpointer = BackgroundCheckpointer(path: path, synchronous: synchronous, interval: interval)
        checkpointer.start()
        self.checkpointer = checkpointer
    }

    /// Runs `body` while no background checkpoint runs (nor holds a connection to the file).
    func withoutBackgroundCheckpoints<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        guard let checkpointer else { return try body() }
        return try checkpointer.paused(body)
    }

    /// Background checkpoints run so far (nil without a checkpointer).
    public var backgroundCheckpoints: (checkpoints: Int, failures: Int)? { checkpointer?.stats }
}
