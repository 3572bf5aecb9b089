import Store

/// What the scheduler reads. The node implements it over its `StateStore` (see
/// `StoreSchedulerState`) and calls `SchedulerCore.plan` on the thread that owns the store;
/// tests implement it with closures. Every method is one indexed query or a small table.
public protocol SchedulerState {
    /// Every queue, in any state (the scheduler skips the ones not running).
    func queues() throws(StoreError) -> [QueueRecord]
    /// Up to `limit` queued tasks of one queue due at `nowMs`, earliest first.
    func dueTasks(queue: String, nowMs: Milliseconds, limit: Int) throws(StoreError) -> [DueTask]
    /// Whether some lease expired at or before `nowMs`.
    func hasExpiredLeases(nowMs: Milliseconds) throws(StoreError) -> Bool
    /// Tasks of the queue that hold a lease (leased + running): its concurrent dispatches.
    func activeTaskCount(queue: String) throws(StoreError) -> Int
    func executors() throws(StoreError) -> [ExecutorRecord]
    /// Leases held by one executor, counted up to `limit` (the caller needs no more).
    func leaseCount(executorID: String, limit: Int) throws(StoreError) -> Int
    func schedules() throws(StoreError) -> [ScheduleRecord]
}

/// The ready adapter over the replicated store. Not `Sendable`, as `StateStore` is not: build
/// it where the store lives and use it there.
public struct StoreSchedulerState: SchedulerState {
    public let store: StateStore

    public init(store: StateStore) { self.store = store }

    public func queues() throws(StoreError) -> [QueueRecord] {
        var all: [QueueRecord] = []
        var token: String?
        repeat {
            let page = try store.listQueues(pageToken: token, pageSize: 1_000)
            all += page.items
            token = page.nextPageToken
        } while token != nil
        return all
    }

    public func dueTasks(queue: String, nowMs: Milliseconds, limit: Int) throws(StoreError) -> [DueTask] {
        try store.dueTasks(queue: queue, nowMs: nowMs, limit: limit)
    }

    public func hasExpiredLeases(nowMs: Milliseconds) throws(StoreError) -> Bool {
        try !store.expiredLeases(nowMs: nowMs, limit: 1).isEmpty
    }

    public func activeTaskCount(queue: String) throws(StoreError) -> Int {
        let counts = try store.taskCounts(queue: queue)
        return (counts[.leased] ?? 0) + (counts[.running] ?? 0)
    }

    public func executors() throws(StoreError) -> [ExecutorRecord] { try store.executors() }

    /// The store has no per-executor lease count yet: this reads the leased rows (payloads
    /// included), bounded by `limit`, which is the executor's slot count.
    public func leaseCount(executorID: String, limit: Int) throws(StoreError) -> Int {
        min(try store.leaseCount(executorID: executorID), max(limit, 1))
    }

    public func schedules() throws(StoreError) -> [ScheduleRecord] { try store.schedules() }
}
